"""Small sparse-matrix helpers for the hot paths of ranking."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["dense_rows", "row_entries", "row_slices"]


def row_entries(matrix: sp.csr_matrix, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The stored entries of some rows of a CSR matrix, gathered without a Python loop.

    Returns ``(owner, columns, values)``, each of length the total entry count of ``rows``:
    ``owner[i]`` is the position in ``rows`` of the row entry ``i`` belongs to.

    Many rows (a batch's candidates) go through scipy's row indexing, which gathers in C;
    a few (one request's) take index arithmetic in numpy, which skips scipy's checks (timings
    in bench/README.md).
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


def row_slices(matrix: sp.csr_matrix, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The stored entries of some rows of a CSR matrix as ``(offsets, columns, values)``: those
    of ``rows[i]`` at ``offsets[i]:offsets[i + 1]`` (so entry ``j`` of ``rows[i]`` is stored at
    ``matrix.indptr[rows[i]] + j - offsets[i]``). See :func:`row_entries`."""
    if len(rows) >= _SCIPY_MIN_ROWS:
        picked = matrix[rows]
        return picked.indptr, picked.indices, picked.data
    starts = matrix.indptr[rows]
    lengths = matrix.indptr[rows + 1] - starts
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    positions = np.repeat(starts - offsets[:-1], lengths) + np.arange(int(offsets[-1]))
    return offsets, matrix.indices[positions], matrix.data[positions]


def dense_rows(vectors: sp.csr_matrix, lo: int, hi: int) -> np.ndarray:
    """Rows ``lo:hi`` of a CSR matrix as a dense array (no sliced copy when all rows are wanted)."""
    return vectors.toarray() if lo == 0 and hi == vectors.shape[0] else vectors[lo:hi].toarray()
