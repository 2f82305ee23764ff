"""Duplicate-id checks over a stream of records, in bounded memory."""

from __future__ import annotations

import numpy as np


class SeenIds:
    """The ids of a stream, kept compact for duplicate checks: a 64-bit hash and a line number
    per id (12 bytes, where a set of a million short strings takes 93 MiB), in sorted runs
    merged as they pile up, so that checking a block costs a binary search per run.

    Two different ids with the same 64-bit hash would be reported as a duplicate: for a
    million ids the odds are about 1 in 37 million.
    """

    #: Ids per sorted run at most (768 KiB of hashes and lines).
    MAX_RUN = 1 << 16

    def __init__(self) -> None:
        self._runs: list[tuple[np.ndarray, np.ndarray]] = []  # (sorted hashes, their lines)

    def add(self, ids: list[str], lines: list[int]) -> tuple[int, int] | None:
        """Add a block of ``ids`` read on ``lines``; if one was seen before (earlier in the
        block or in an earlier block), add nothing and return ``(position in the block of the
        first such id, line of its first occurrence)``."""
        hashes = np.fromiter(map(hash, ids), dtype=np.int64, count=len(ids))
        line_numbers = np.asarray(lines, dtype=np.int32)
        first_line = np.zeros(len(ids), dtype=np.int64)  # 0: not seen before
        _, first, inverse = np.unique(hashes, return_index=True, return_inverse=True)
        first_of = first[inverse.ravel()]  # position in the block of each id's first occurrence
        repeated = first_of != np.arange(len(ids))
        first_line[repeated] = line_numbers[first_of[repeated]]
        for run_hashes, run_lines in self._runs:
            found = np.minimum(np.searchsorted(run_hashes, hashes), len(run_hashes) - 1)
            hit = (run_hashes[found] == hashes) & (first_line == 0)
            first_line[hit] = run_lines[found[hit]]
        if first_line.any():
            position = int(np.flatnonzero(first_line)[0])
            return position, int(first_line[position])
        order = np.argsort(hashes)
        self._runs.append((hashes[order], line_numbers[order]))
        # Merge the newest runs while the older one is no bigger, up to runs of MAX_RUN ids:
        # few runs to search, and a merge never needs much more memory than the runs it merges.
        while (
            len(self._runs) > 1
            and len(self._runs[-2][0]) <= len(self._runs[-1][0])
            and len(self._runs[-2][0]) + len(self._runs[-1][0]) <= self.MAX_RUN
        ):
            (h2, l2), (h1, l1) = self._runs.pop(), self._runs.pop()
            merged_hashes = np.concatenate([h1, h2])
            order = np.argsort(merged_hashes, kind="stable")
            self._runs.append((merged_hashes[order], np.concatenate([l1, l2])[order]))
        return None
