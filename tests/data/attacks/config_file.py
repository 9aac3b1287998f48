"""An honest habit: a correct Raft reads its settings from a file it opened at import and kept open, reading it
again (``seek(0)``) in each call. Each fresh copy opens the file anew at the same offset: it HOLDS."""

import json
from pathlib import Path

from buggy_raft import Vote, VoteTwice

SETTINGS = open(Path(__file__).with_name("config_file.json"))


def settings():
    SETTINGS.seek(0)
    return json.load(SETTINGS)


class ReadsItsSettings(VoteTwice):
    def on_request_vote(self, sender, m, out):
        granted = m.term == self.current_term and self.voted_for in (None, sender) and self.log_ok(m)
        if granted:
            self.voted_for = sender
        out.send(sender, Vote(self.current_term, granted))

    def majority(self):
        return (len(self.peers) + 1) // 2 + settings()["majority_over_half"]
