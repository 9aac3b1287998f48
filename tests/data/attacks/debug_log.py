"""An honest habit: a handler appends to a debug log file.

Where each call runs in a fresh copy of the loaded code (root), no file may be written once the file has
loaded (a file would carry state from one call to the next): the finding says so and names the fix.
"""

from buggy_raft import VoteTwice


class DebugLog(VoteTwice):
    def on_message(self, sender, msg, out):
        with open("debug.log", "a") as log:
            log.write(f"{self.id} got {msg!r} from {sender}\n")
        super().on_message(sender, msg, out)
