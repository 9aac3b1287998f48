"""A buggy Raft whose file takes 5 s to import, every time it is loaded.

The search finds its violation within a short --timeout (the first load is not counted); the confirming replay
loads the file again on new workers, and must stay within what the time limit leaves instead of taking its own
5 s (a student could make that minutes).
"""

import time

from buggy_raft import VoteTwice

time.sleep(5)


class SlowToLoad(VoteTwice):
    pass
