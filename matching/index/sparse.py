"""Small sparse-matrix helpers for the hot paths of ranking."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["row_entries"]


def row_entries(matrix: sp.csr_matrix, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The stored entries of some rows of a CSR matrix, gathered without a Python loop.

    Returns ``(owner, columns, values)``, each of length the total entry count of ``rows``:
    ``owner[i]`` is the position in ``rows`` of the row entry ``i`` belongs to.

    Many rows (a batch's candidates) go through scipy's row indexing, which gathers in C;
    a few (one request's) take index arithmetic in numpy, which skips scipy's checks. On the
    10,000-profile synthetic index, mean of 300 calls: 50 rows 36 µs scipy / 22 µs numpy,
    200 rows 38 / 67 µs, 3,500 rows 425 / 1,696 µs.
    """
    if len(rows) >= _SCIPY_MIN_ROWS:
        picked = matrix[rows]
        owner = np.repeat(np.arange(len(rows)), np.diff(picked.indptr))
        return owner, picked.indices, picked.data
    starts = matrix.indptr[rows]
    lengths = matrix.indptr[rows + 1] - starts
    owner = np.repeat(np.arange(len(rows)), lengths)
    positions = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths) + np.arange(int(lengths.sum()))
    return owner, matrix.indices[positions], matrix.data[positions]


_SCIPY_MIN_ROWS = 128
