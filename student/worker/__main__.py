"""``python -m quorumcheck.student.worker``: the sandboxed worker (see :mod:`quorumcheck.student.worker.serve`)."""

from quorumcheck.student.worker.serve import main

main()
