"""Invariants: the first-order property language and its Z3 backend (coming next).

Until it lands, properties are plain Python predicates made with
:func:`quorumcheck.models.always` and :func:`quorumcheck.models.sometimes`; a
property's optional ``footprint`` (the part of the state it reads) is the hook
the Z3 backend will use to solve each distinct footprint value once.
"""
