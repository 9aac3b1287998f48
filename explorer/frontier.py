"""The queue of one breadth-first level: in memory, or spilled to a temporary file as TLC spills its queue.

With the object store every state is held anyway, so the level is a list. With
the fingerprint store the states of the level being built are the only state
objects left, and one wide level can hold millions of them; :class:`DiskFrontier`
keeps the first 131,072 in memory (pickling had cost a tenth of a fingerprint
run's time), then pickles the rest, in batches, to an unnamed temporary file
that disappears when the level has been expanded.

Examples
--------
>>> f = DiskFrontier(batch=2, resident=1)
>>> for k in range(5):
...     f.append((k, ("state", k)))
>>> len(f), [node for node, _ in f], [node for node, _ in f][-1]
(5, [0, 1, 2, 3, 4], 4)
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterator
from typing import IO, Any

__all__ = ["DiskFrontier"]


class DiskFrontier:
    """An append-then-iterate sequence of ``(node, state)`` pairs, beyond its first ``resident`` on disk.

    The first ``resident`` appends stay in a list. Later ones go to an
    in-memory batch; a full batch is pickled (one ``dump`` per batch, so parts
    shared between sibling states are written once) to a temporary file.
    Iteration yields the resident items, reads the batches back in order, then
    the batch still in memory; it can be repeated.
    """

    def __init__(self, batch: int = 4096, resident: int = 1 << 17) -> None:
        self._batch = batch
        self._resident_limit = resident
        self._resident: list[tuple[int, Any]] = []
        self._buffer: list[tuple[int, Any]] = []
        self._file: IO[bytes] | None = None
        self._spilled = 0
        self._length = 0

    def append(self, item: tuple[int, Any]) -> None:
        self._length += 1
        if self._length <= self._resident_limit:
            self._resident.append(item)
            return
        self._buffer.append(item)
        if len(self._buffer) >= self._batch:
            if self._file is None:
                self._file = tempfile.TemporaryFile(prefix="quorumcheck-frontier-")
            self._file.seek(0, 2)
            pickle.dump(self._buffer, self._file, protocol=pickle.HIGHEST_PROTOCOL)
            self._spilled += 1
            self._buffer = []

    def __len__(self) -> int:
        return self._length

    def __bool__(self) -> bool:
        return self._length > 0

    def __iter__(self) -> Iterator[tuple[int, Any]]:
        yield from self._resident
        if self._file is not None:
            self._file.seek(0)
            for _ in range(self._spilled):
                batch = pickle.load(self._file)
                position = self._file.tell()
                yield from batch
                self._file.seek(position)
        yield from list(self._buffer)

    def close(self) -> None:
        """Delete the temporary file now (it is also deleted when the frontier is collected)."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def __del__(self) -> None:
        self.close()
