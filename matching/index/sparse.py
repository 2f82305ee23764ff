"""Small sparse-matrix helpers for the hot paths of ranking."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["dense_rows", "long_rows", "row_entries", "row_slices", "row_sums"]


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
    offsets = np.zeros(len(rows) + 1, dtype=matrix.indptr.dtype)
    lengths.cumsum(out=offsets[1:])
    positions = (starts - offsets[:-1]).repeat(lengths) + np.arange(int(offsets[-1]))
    return offsets, matrix.indices[positions], matrix.data[positions]


def long_rows(matrix: sp.csr_matrix, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The stored entries of a few rows of a CSR matrix, one row after the other, as
    ``(lengths, columns, values)``: ``lengths[i]`` entries of ``rows[i]``.

    The same entries as :func:`row_entries`, copied slice by slice: for a few rows, or rows of
    hundreds of entries, a slice per row costs less than gathering entry by entry (a request's
    postings, about 39 rows of 14,600 entries in all, and the feedback's 3 profile rows: about
    60% and half of the gather's time); on many short rows (a request's 50 candidates, about 100
    entries each), the gather (:func:`row_slices`) takes two thirds of the slices' time
    (bench/README.md).
    """
    indptr = matrix.indptr
    starts, ends = indptr.take(rows), indptr.take(rows + 1)
    bounds = list(zip(starts.tolist(), ends.tolist(), strict=True))
    if not bounds:
        return np.zeros(0, dtype=indptr.dtype), matrix.indices[:0].copy(), matrix.data[:0].copy()
    columns = np.concatenate([matrix.indices[lo:hi] for lo, hi in bounds])
    values = np.concatenate([matrix.data[lo:hi] for lo, hi in bounds])
    return ends - starts, columns, values


def row_sums(offsets: np.ndarray, columns: np.ndarray, values: np.ndarray, n_columns: int) -> np.ndarray:
    """Sums of ``values[offsets[i]:offsets[i + 1]]``, added one after the other in float64
    from 0.0, as ``np.bincount(owner, values)`` adds them: the same sums, bit for bit.

    By scipy's product of the CSR matrix (``values``, ``columns`` below ``n_columns``,
    ``offsets``) with a vector of ones, in which each row's sum stays in a register, where
    bincount's goes through memory at every addition: about 4x faster on the entries of 1,600
    candidate rows (bench/README.md). Multiplying by 1.0 is exact, fused with the addition or
    not, so the sums are those of plain additions in order. Below :data:`_SCIPY_MIN_SUMMED`
    entries (one request's candidates), building the sparse matrix costs more than the sums,
    and bincount itself is used.
    """
    if len(values) < _SCIPY_MIN_SUMMED:
        owner = np.arange(len(offsets) - 1).repeat(offsets[1:] - offsets[:-1])
        small: np.ndarray = np.bincount(owner, values, len(offsets) - 1)
        return small
    shape = (len(offsets) - 1, n_columns)
    matrix = sp.csr_matrix((values.astype(np.float64, copy=False), columns, offsets), shape=shape)
    sums: np.ndarray = matrix @ np.ones(n_columns)
    return sums


#: Entries from which :func:`row_sums` goes through scipy's product: about where the two
#: take the same time (bench/README.md).
_SCIPY_MIN_SUMMED = 8192


def dense_rows(vectors: sp.csr_matrix, lo: int, hi: int) -> np.ndarray:
    """Rows ``lo:hi`` of a CSR matrix as a dense array, as ``vectors[lo:hi].toarray()`` gives them.

    All rows by ``toarray``; some rows written into zeros directly, which skips scipy's sliced
    copy (figures in bench/README.md). A matrix with duplicate entries (which ``toarray`` sums)
    goes through scipy.
    """
    if lo == 0 and hi == vectors.shape[0]:
        return vectors.toarray()
    if not vectors.has_canonical_format:
        return vectors[lo:hi].toarray()
    indptr = vectors.indptr
    start, end = int(indptr[lo]), int(indptr[hi])
    dense = np.zeros((hi - lo, vectors.shape[1]), dtype=vectors.dtype)
    owner = np.repeat(np.arange(hi - lo), indptr[lo + 1 : hi + 1] - indptr[lo:hi])
    dense[owner, vectors.indices[start:end]] = vectors.data[start:end]
    return dense
