"""Raft, written in a 'two dicts' style: everything durable lives in self.disk,
everything volatile in self.ram; messages are plain tuples tagged by a short
string and dispatched by name to rx_<TAG> methods.  The observation contract is
served by read-only properties renamed via `observe`.
"""
from quorumcheck.models.actors import Node

F, C, L = "follower", "candidate", "leader"
QUORUM = 2  # 3 nodes


class Raft(Node):
    """Correct Raft: election, log replication, commit of current-term entries."""

    durable = ("disk",)
    observe = {
        "current_term": "term_now",
        "role": "hat",
        "voted_for": "ballot_for",
        "log": "journal",
        "commit_index": "done_upto",
    }

    def __init__(self):
        self.disk = {"term": 0, "vote": None, "log": []}
        self.ram = {"hat": F, "commit": 0, "votes": set(), "next": {}, "match": {}}

    # ---- contract, read-only views -------------------------------------------------
    @property
    def term_now(self):
        return self.disk["term"]

    @property
    def hat(self):
        return self.ram["hat"]

    @property
    def ballot_for(self):
        return self.get_vote()

    @property
    def journal(self):
        return list(self.disk["log"])

    @property
    def done_upto(self):
        return self.ram["commit"]

    # ---- small helpers ----------------------------------------------------------
    def get_vote(self):
        return self.disk["vote"]

    def set_vote(self, who):
        self.disk["vote"] = who

    def tail(self):
        lg = self.disk["log"]
        return len(lg), (lg[-1][0] if lg else 0)

    def log_ok(self, cand_len, cand_term):
        my_len, my_term = self.tail()
        return (cand_term, cand_len) >= (my_term, my_len)

    def follow(self, out):
        if self.ram["hat"] == L:
            out.cancel_timer("heartbeat")
            out.set_timer("election")
        self.ram["hat"] = F
        self.ram["votes"] = set()

    def see_term(self, term, out):
        if term > self.disk["term"]:
            self.disk["term"] = term
            self.set_vote(None)
            self.follow(out)

    # ---- framework entry points ----------------------------------------------------
    def on_start(self, out):
        out.set_timer("election")

    def on_timer(self, name, out):
        if name == "election" and self.ram["hat"] != L:
            self.disk["term"] += 1
            self.set_vote(self.id)
            self.ram["hat"] = C
            self.ram["votes"] = {self.id}
            n, t = self.tail()
            out.broadcast(("RV", self.disk["term"], n, t))
            out.set_timer("election")
        elif name == "heartbeat" and self.ram["hat"] == L:
            for p in self.peers:
                self.push(p, out)
            out.set_timer("heartbeat")

    def on_request(self, value, out):
        if self.ram["hat"] != L:
            return
        self.disk["log"].append((self.disk["term"], value))
        for p in self.peers:
            self.push(p, out)

    def on_message(self, sender, message, out):
        getattr(self, "rx_" + message[0])(sender, *message[1:], out=out)

    # ---- election ------------------------------------------------------------------
    def rx_RV(self, sender, term, cand_len, cand_term, out):
        self.see_term(term, out)
        grant = (
            term == self.disk["term"]
            and self.get_vote() in (None, sender)
            and self.log_ok(cand_len, cand_term)
        )
        if grant:
            self.set_vote(sender)
        out.send(sender, ("RVR", self.disk["term"], grant))

    def rx_RVR(self, sender, term, grant, out):
        self.see_term(term, out)
        r = self.ram
        if r["hat"] != C or term != self.disk["term"] or not grant:
            return
        r["votes"].add(sender)
        if len(r["votes"]) >= QUORUM:
            self.crown(out)

    def crown(self, out):
        r = self.ram
        r["hat"] = L
        r["votes"] = set()
        n = len(self.disk["log"])
        r["next"] = {p: n + 1 for p in self.peers}
        r["match"] = {p: 0 for p in self.peers}
        out.cancel_timer("election")
        out.set_timer("heartbeat")
        for p in self.peers:
            self.push(p, out)

    # ---- replication ---------------------------------------------------------------
    def push(self, p, out):
        lg = self.disk["log"]
        prev = self.ram["next"][p] - 1
        prev_term = lg[prev - 1][0] if prev else 0
        out.send(p, ("AE", self.disk["term"], prev, prev_term, tuple(lg[prev:]), self.ram["commit"]))

    def stale_append(self, term):
        """Whether an AppendEntries of `term` must be refused as coming from an old leader."""
        return term < self.disk["term"]

    def splice(self, prev, entries):
        lg = self.disk["log"]
        i = prev
        for e in entries:
            if i < len(lg):
                if lg[i][0] != e[0]:
                    del lg[i:]
                    lg.append(e)
            else:
                lg.append(e)
            i += 1

    def rx_AE(self, sender, term, prev, prev_term, entries, leader_commit, out):
        if self.stale_append(term):
            out.send(sender, ("AER", self.disk["term"], False, 0))
            return
        self.see_term(term, out)
        if self.ram["hat"] != F:
            self.follow(out)
        lg = self.disk["log"]
        if prev > len(lg) or (prev and lg[prev - 1][0] != prev_term):
            out.send(sender, ("AER", self.disk["term"], False, 0))
            return
        self.splice(prev, entries)
        upto = prev + len(entries)
        self.ram["commit"] = max(self.ram["commit"], min(leader_commit, upto))
        out.send(sender, ("AER", self.disk["term"], True, upto))

    def reply_term(self, term, out):
        self.see_term(term, out)

    def rx_AER(self, sender, term, ok, upto, out):
        self.reply_term(term, out)
        r = self.ram
        if r["hat"] != L or term != self.disk["term"]:
            return
        if ok:
            r["match"][sender] = max(r["match"][sender], upto)
            r["next"][sender] = r["match"][sender] + 1
            self.advance()
        else:
            r["next"][sender] = max(1, r["next"][sender] - 1)
            self.push(sender, out)

    def countable(self, n):
        """May the leader commit index n by counting replicas?"""
        return self.disk["log"][n - 1][0] == self.disk["term"]

    def advance(self):
        r = self.ram
        lg = self.disk["log"]
        for n in range(len(lg), r["commit"], -1):
            if not self.countable(n):
                continue
            if 1 + sum(1 for p in self.peers if r["match"][p] >= n) >= QUORUM:
                r["commit"] = n
                return


class StaleTermAppend(Raft):
    """Bug: a node accepts AppendEntries from a leader of an older term."""

    def stale_append(self, term):
        return False


class KeepLeadingOnHigherTerm(Raft):
    """Bug: a leader that sees a higher term in an AppendEntries reply adopts it but stays leader."""

    def reply_term(self, term, out):
        if term > self.disk["term"]:
            self.disk["term"] = term
            self.set_vote(None)


class CommitOldTermByCount(Raft):
    """Bug: the leader commits an entry of an older term by counting its replicas (Figure 8)."""

    def countable(self, n):
        return True


class LengthOnlyUpToDate(Raft):
    """Bug: RequestVote's up-to-date check compares log lengths only, not last terms."""

    def log_ok(self, cand_len, cand_term):
        return cand_len >= len(self.disk["log"])


class ReplaceSuffix(Raft):
    """Bug: AppendEntries replaces everything after prev with the entries, deleting matching entries too."""

    def splice(self, prev, entries):
        lg = self.disk["log"]
        del lg[prev:]
        lg.extend(entries)


class VolatileVote(Raft):
    """Bug: voted_for is kept in volatile memory, so a crash forgets the vote of the current term."""

    def __init__(self):
        super().__init__()
        self.ram["vote"] = None

    def get_vote(self):
        return self.ram["vote"]

    def set_vote(self, who):
        self.ram["vote"] = who
