"""Testing student code across a trust boundary.

Student handlers are untrusted: graders run submissions they have never read,
and some are adversarial. The room is split by which side of the boundary a
file runs on:

``student/trusted/``
    runs in the process that searches, judges the properties, prints and sets
    the exit code. It never imports, unpickles or executes student code: it
    starts workers in a sandbox (:mod:`quorumcheck.student.trusted.sandbox`),
    asks them for the effect of one handler call at a time
    (:mod:`quorumcheck.student.trusted.workers`) and validates every answer.
``student/worker/``
    runs inside the sandboxed worker process, beside the student's code: it
    imports the student's file, restores a node from its snapshot, calls one
    handler and reports the sends, timers, the new snapshot and what the
    observation contract reads (:mod:`quorumcheck.student.worker.calls`).
``student/wire.py``
    the plain-data protocol between them (JSON lines, shape and size limits).

docs/grading.md gives the threat model: what is contained and what is not.
"""
