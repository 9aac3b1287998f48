"""quorumcheck prove: the Paxos proof, checked counterexamples to induction, and the formulas tied to the BFS."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import z3

from quorumcheck.explorer import explore
from quorumcheck.invariants.evaluate import evaluate
from quorumcheck.invariants.language import Function
from quorumcheck.invariants.z3backend import Translator
from quorumcheck.models import PaxosModel
from quorumcheck.models.paxos_symbolic import STATE, paxos_interpretation, paxos_system
from quorumcheck.prover import prove
from quorumcheck.prover.cti import CTI, Structure, check_cti

SYSTEM = paxos_system()


def _check_cti(cti: CTI, invariant: list[str]) -> None:
    """A CTI is what it claims, judged by the plain-Python evaluator (not Z3)."""
    assert check_cti(SYSTEM, cti, invariant) == []


def test_paxos_agreement_is_proved_for_every_size() -> None:
    # Z3's limits are wall-clock: a generous per-obligation limit keeps the answer certain on a loaded machine.
    r = prove(SYSTEM, reach=False, obligation_timeout=180)
    assert r.verdict.value == "holds" and r.exit_code == 0
    assert len(r.conjuncts) == 15
    assert len(r.obligations) == 15 + 15 * 4  # initiation, and consecution per (action, conjunct)
    assert {o.status for o in r.obligations} == {"proved"}


def test_first_attempt_gives_a_checked_unreachable_cti() -> None:
    invariant = list(SYSTEM.invariant_sets["first-attempt"])
    r = prove(SYSTEM, ["first-attempt"], obligation_timeout=180)
    assert r.verdict.value == "violated" and r.exit_code == 1
    assert [(o.action, o.conjunct) for o in r.failures()] == [("Phase2b", "agreement")]
    (cti,) = r.ctis()
    _check_cti(cti, invariant)
    assert cti.problems == ()  # prove() ran the same check
    # The textbook case: the voter's earlier vote chose one value, and it now votes another's proposal above it.
    assert len(cti.pre.universe["Acceptor"]) == 1
    assert cti.reach is not None and cti.reach.reachable is False
    assert "strengthen the invariant" in cti.verdict_line()


def test_agreement_alone_and_voting_invariants_fail_with_checked_ctis() -> None:
    r = prove(SYSTEM, ["agreement"], reach=False, obligation_timeout=180)
    assert [(o.action, o.conjunct) for o in r.failures()] == [("Phase2b", "agreement")]
    _check_cti(r.ctis()[0], ["agreement"])
    # A wrong CTI is caught: the same structures claimed for another conjunct or another action.
    wrong = CTI(**{**r.ctis()[0].__dict__, "action": "Phase1a"})
    assert "pre-state to post-state is not a step of Phase1a" in check_cti(SYSTEM, wrong, ["agreement"])
    r = prove(SYSTEM, ["one-value-per-ballot"], reach=False, obligation_timeout=180)
    assert [(o.kind, o.action, o.conjunct) for o in r.failures()] == [
        ("consecution", "Phase2b", "one-value-per-ballot"), ("safety", None, "agreement")]
    _check_cti(r.ctis()[0], ["one-value-per-ballot"])
    implied = r.ctis()[1]  # a state with the invariant and two chosen values
    assert implied.post is None and check_cti(SYSTEM, implied, ["one-value-per-ballot"]) == []


def test_a_reachable_pre_state_says_the_conjunct_is_false() -> None:
    # The state after Phase1a(0) and Phase1b(a1, 0), as a CTI would show it, is reachable in 2 steps.
    from quorumcheck.prover.cti import reachability

    universe = {"Acceptor": ("a1", "a2"), "Value": (-1, "v1"), "Ballot": (-1, 0), "Quorum": ("Q1",)}
    pre = Structure(universe, {
        "max_bal": frozenset({("a1", 0), ("a2", -1)}), "max_vbal": frozenset({("a1", -1), ("a2", -1)}),
        "max_val": frozenset({("a1", -1), ("a2", -1)}), "sent_1a": frozenset({(0,)}),
        "sent_1b": frozenset({("a1", 0, -1, -1)}), "proposed": frozenset(), "vote": frozenset(),
    })
    statics = {"member": frozenset({("a1", "Q1"), ("a2", "Q1")})}
    cti = CTI("some-conjunct", "Phase1b", {"a": "a2", "b": 0}, pre, None, statics)
    found = reachability(SYSTEM, cti)
    assert found.reachable is True and len(found.trace) == 2  # Phase1a(0), Phase1b(a1, 0)
    assert "reachable: the conjunct is false" in CTI(**{**cti.__dict__, "reach": found}).verdict_line()
    # The same state renamed (a2 promised instead of a1) is the same orbit: still reachable.
    renamed = Structure(universe, {k: frozenset(tuple({"a1": "a2", "a2": "a1"}.get(x, x) for x in r) for r in v)
                                   for k, v in pre.values.items()})
    assert reachability(SYSTEM, CTI("c", "Phase1b", {}, renamed, None, statics)).reachable is True
    # A promise without its 1a message is not.
    bad = Structure(universe, {**pre.values, "sent_1a": frozenset()})
    assert reachability(SYSTEM, CTI("c", "Phase1b", {}, bad, None, statics)).reachable is False


# -- the symbolic actions are the explicit ones --------------------------------------------------------------
def _posts(model: PaxosModel, state: Any, relation: Any, tr: Translator, interp: Any) -> set[Any]:
    """Every post-state the symbolic next-state relation allows from ``state`` (in finite mode)."""
    s = z3.Solver()
    universe = interp.universe
    values = interp.values(list(STATE), state)
    s.add(relation)
    for (name, ground, primed), atom in list(tr.atoms.items()):
        if not primed:
            s.add(atom == (ground in values[name]))
    for (name, ground, primed), (f, const) in list(tr.applications.items()):
        if not primed:
            s.add(const == tr.code(f.result, values[name][tr.position(f, ground)]))
    primed_atoms = [(k, a) for k, a in tr.atoms.items() if k[2]]
    primed_apps = [(k, fc) for k, fc in tr.applications.items() if k[2]]
    out = set()
    while s.check() == z3.sat:
        m = s.model()
        post: dict[str, Any] = {}
        for name in STATE:
            sym = SYSTEM.signature.symbol(name)
            if isinstance(sym, Function):
                domains = [universe[d.name] for d in sym.domain]
                row = []
                for args in itertools.product(*domains):
                    const = tr.applications[(name, args, True)][1]
                    code = m.eval(const, model_completion=True).as_long()
                    row.append(code if sym.result.ordered else universe[sym.result.name][code])
                post[name] = tuple(row)
            else:
                post[name] = frozenset(g for (n, g, p), a in primed_atoms if n == name
                                       and z3.is_true(m.eval(a, model_completion=True)))
        out.add(tuple(sorted(post.items(), key=lambda kv: kv[0])))
        block = [a != m.eval(a, model_completion=True) for _, a in primed_atoms]
        block += [c != m.eval(c, model_completion=True) for _, (_, c) in primed_apps]
        s.add(z3.Or(block))
    return out


@pytest.mark.parametrize("acceptors, values, max_ballot", [(2, 1, 1), (3, 2, 0)])
def test_symbolic_steps_are_exactly_the_explicit_steps(acceptors: int, values: int, max_ballot: int) -> None:
    model = PaxosModel(acceptors=acceptors, values=values, max_ballot=max_ballot)
    interp = paxos_interpretation(model)
    tr = Translator(interp.universe, static={"member": interp.read("member", None)})
    relation = tr.formula(SYSTEM.transition())
    result = explore(model, properties=[])
    states = [result.graph.nodes[n]["state"] for n in result.graph.nodes]
    assert len(states) == result.distinct_states
    for state in states:
        explicit = {tuple(sorted(((k, v) for k, v in interp.values(list(STATE), t).items() if k in STATE),
                                 key=lambda kv: kv[0]))
                    for _, t in model.successors(state)}
        assert _posts(model, state, relation, tr, interp) == explicit, state


def test_init_formula_is_the_initial_state() -> None:
    model = PaxosModel(acceptors=2, values=2, max_ballot=1)
    interp = paxos_interpretation(model)
    s0 = next(iter(model.init_states()))
    values = {**interp.values(list(STATE), s0), "member": interp.read("member", s0)}
    assert evaluate(SYSTEM.init, interp.universe, values)


# -- the command ---------------------------------------------------------------------------------------------------
def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "quorumcheck", *args], capture_output=True, text=True, timeout=300)


def test_cli_prove_exit_codes_json_and_render(tmp_path: Path) -> None:
    r = _cli("prove", "paxos", "--invariant", "first-attempt", "--obligation-timeout", "180", "--json", "--render",
             str(tmp_path))
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    assert doc["verdict"] == "violated" and doc["exit_code"] == 1
    failed = [o for o in doc["obligations"] if o["status"] == "fails"]
    assert [(o["action"], o["conjunct"]) for o in failed] == [("Phase2b", "agreement")]
    assert failed[0]["cti"]["reachable"] is False
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "cti-1-agreement-Phase2b.dot", "cti-1-agreement-Phase2b.png", "cti-1-agreement-Phase2b.svg"]
    assert "Phase2b" in (tmp_path / "cti-1-agreement-Phase2b.dot").read_text()


def test_cli_prove_timeout_cuts_the_running_obligation() -> None:
    r = _cli("prove", "paxos", "--timeout", "1", "--json")
    assert r.returncode == 3, r.stderr
    doc = json.loads(r.stdout)
    assert doc["verdict"] == "undetermined" and doc["stop_reason"] == "timeout"
    assert doc["seconds"] < 10  # not the 30 s of one obligation's own limit
    assert any(o["reason"] == "not checked: the time limit ran out" for o in doc["obligations"])


def test_cli_prove_bad_input_is_one_line() -> None:
    for args, words in [(("prove", "paxs"), "has no symbolic description"),
                        (("prove", "paxos", "--invariant", "nope"), "no conjunct or invariant set 'nope'")]:
        r = _cli(*args)
        assert r.returncode == 2
        assert words in r.stderr and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_an_unknown_names_the_quantifier_alternation_that_leaves_epr() -> None:
    # Voting.tla's invariant: safe_at's "exists Q" under "forall a", and chosen's "exists a" under "forall Q".
    from quorumcheck.prover.induction import Checker

    checker = Checker(SYSTEM, timeout=0.5)
    voting = list(SYSTEM.resolve(["voting"]))
    ob = checker.consecution(voting, SYSTEM.action("Phase2b"), SYSTEM.conjunct("agreement"), with_cti=False)
    assert ob.status == "unknown"
    assert "leave the decidable fragment (EPR) through the sort cycle" in ob.reason
    assert "exists Q under forall a in votes-safe (through safe_at)" in ob.reason
    assert "exists a under forall Q in agreement (through chosen)" in ob.reason


def test_conjuncts_from_a_file_are_checked_and_mistakes_are_one_line(tmp_path: Path) -> None:
    from quorumcheck.prover.conjuncts_file import load_conjuncts

    mine = tmp_path / "mine.py"
    mine.write_text('b = Ballot.var("b")\n'
                    'conjuncts = {"real-1a": ForAll(b, sent_1a(b) >> (b > Ballot(-1)))}\n')
    r = prove(load_conjuncts(SYSTEM, mine), ["mine"], reach=False, obligation_timeout=180)
    assert [(o.kind, o.action, o.status) for o in r.obligations if o.kind != "safety"] == [
        ("initiation", None, "proved"), *[("consecution", a.name, "proved") for a in SYSTEM.actions]]
    assert [(o.kind, o.conjunct) for o in r.failures()] == [("safety", "agreement")]  # it does not imply agreement
    bad = tmp_path / "bad.py"
    bad.write_text('a = Acceptor.var("a")\nconjuncts = {"x": ForAll(a, votes(a))}\n')
    r2 = _cli("prove", "paxos", "--conjuncts", str(bad))
    assert r2.returncode == 2 and len(r2.stderr.strip().splitlines()) == 1
    assert f"{bad} line 2: name 'votes' is not defined; paxos's vocabulary has: vote," in r2.stderr
    unbound = tmp_path / "unbound.py"
    unbound.write_text('a, b, v = Acceptor.var("a"), Ballot.var("b"), Value.var("v")\nconjuncts = {"x": vote(a, b, v)}\n')
    r3 = _cli("prove", "paxos", "--conjuncts", str(unbound))
    assert r3.returncode == 2 and "conjunct x uses the unbound variable(s) a, b, v" in r3.stderr
    # Several files: each is read (a second --conjuncts used to replace the first without a word).
    r4 = _cli("prove", "paxos", "--conjuncts", str(mine), "--conjuncts", str(bad))
    assert r4.returncode == 2 and "name 'votes' is not defined" in r4.stderr
    r5 = _cli("prove", "paxos", "--conjuncts", str(bad), "--conjuncts", str(mine))
    assert r5.returncode == 2 and "name 'votes' is not defined" in r5.stderr
    # A file that exits would end prove with its status (0 reads as PROVED); one named after a built-in set
    # would hide that set.
    leaving = tmp_path / "leaving.py"
    leaving.write_text("import sys\nsys.exit(0)\n")
    r6 = _cli("prove", "paxos", "--conjuncts", str(leaving))
    assert r6.returncode == 2 and f"{leaving} line 2: the file calls exit(0)" in r6.stderr
    (tmp_path / "inductive.py").write_text(mine.read_text())
    r7 = _cli("prove", "paxos", "--conjuncts", str(tmp_path / "inductive.py"), "--invariant", "inductive")
    assert r7.returncode == 2 and "paxos already has an invariant set named 'inductive'" in r7.stderr
    # A JSON result given by mistake is valid Python ({...}): it is refused for what it is, not run.
    result = tmp_path / "result.json"
    result.write_text('{"verdict": "proved"}\n')
    r8 = _cli("prove", "paxos", "--conjuncts", str(result))
    assert (r8.returncode, r8.stderr.strip()) == (2, f"quorumcheck: error: {result}: not a Python file (.py); give a "
                                                     "Python file that defines conjuncts = {name: formula}")


def test_ctrl_c_during_a_z3_query_is_keyboard_interrupt() -> None:
    """A Ctrl-C during a query interrupts the run once the query returns, never later: prove ends with 130
    instead of going on (it used to print PROVED, exit 0, 40 s after the Ctrl-C). Z3's own Ctrl-C handling is
    off (its handler could deadlock), so the pigeonhole query, far too hard to finish, runs to its 3 s timeout."""
    import signal
    import subprocess
    import time

    code = ("import z3\n"
            "from quorumcheck.invariants.z3backend import solve\n"
            "x = z3.Ints(' '.join(f'x{i}' for i in range(40)))\n"
            "s = z3.Solver(); s.set('timeout', 3000); s.add(z3.Distinct(x), *[z3.And(v >= 0, v < 39) for v in x])\n"
            "print('searching', flush=True)\n"
            "try:\n"
            "    print(solve(s))\n"
            "except KeyboardInterrupt:\n"
            "    print('interrupted')\n")
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert process.stdout is not None and process.stdout.readline() == "searching\n"
    time.sleep(1.0)  # inside the query
    started = time.perf_counter()
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert out == "interrupted\n", (out, err)
    assert time.perf_counter() - started < 10


def test_ctrl_c_prints_the_obligations_proved_so_far(monkeypatch: pytest.MonkeyPatch) -> None:
    import jsonschema
    from click.testing import CliRunner
    from quorumcheck.cli import main
    from quorumcheck.prover import induction

    # Ctrl-C in the tenth obligation (Python raises KeyboardInterrupt there, as Z3 leaves the signal to it): what was
    # proved is kept, and the rest is listed as not checked. (Sending the signal to a process instead depends on
    # how far a proof of about 10 s has got.)
    real = induction.Checker.consecution
    calls: list[int] = []

    def consecution(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 10:
            raise KeyboardInterrupt
        return real(self, *args, **kwargs)

    monkeypatch.setattr(induction.Checker, "consecution", consecution)
    done = CliRunner().invoke(main, ["prove", "paxos", "--json", "--no-reach"])
    assert done.exit_code == 130, done.output
    doc = json.loads(done.output)
    schema = json.loads((Path(__file__).parent.parent / "docs/schema/prove-result.schema.json").read_text())
    jsonschema.validate(doc, schema)
    assert (doc["verdict"], doc["exit_code"], doc["stop_reason"]) == ("undetermined", 130, "interrupted")
    statuses = [o["status"] for o in doc["obligations"]]
    assert len(statuses) == 75 and "fails" not in statuses  # every obligation is listed, reached or not
    first_unchecked = statuses.index("unknown")
    assert first_unchecked == 15 + 9  # 15 initiations and 9 consecutions proved
    assert all(s == "unknown" for s in statuses[first_unchecked:])
    assert {o["reason"] for o in doc["obligations"][first_unchecked:]} == {"not checked: Ctrl-C"}
    calls.clear()
    text = CliRunner().invoke(main, ["prove", "paxos", "--no-reach"])
    assert text.exit_code == 130
    assert text.output.splitlines()[0] == "INTERRUPTED (Ctrl-C): the result so far"
    assert "51 obligations not checked (Ctrl-C); 24 proved before then" in text.output
