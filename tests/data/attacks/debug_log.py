"""An honest habit: a handler appends to a debug log file.

Where each call runs in a fresh process that imports the file (root), no file may be written (a file would carry
state from one call to the next); a file opened for writing in the working directory is /dev/null there, so the
log vanishes and the buggy Raft's own violation is found.
"""

from buggy_raft import VoteTwice


class DebugLog(VoteTwice):
    def on_message(self, sender, msg, out):
        with open("debug.log", "a") as log:
            log.write(f"{self.id} got {msg!r} from {sender}\n")
        super().on_message(sender, msg, out)
