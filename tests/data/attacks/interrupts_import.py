"""Raises KeyboardInterrupt while being imported (imported into pytest, it ends the session)."""

from buggy_raft import VoteTwice


class Interrupting(VoteTwice):
    pass


raise KeyboardInterrupt
