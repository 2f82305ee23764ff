"""Small sparse-matrix helpers for the hot paths of ranking."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain

import numpy as np
import scipy.sparse as sp

__all__ = ["SparseRows", "dense_rows", "long_rows", "row_entries", "row_slices", "row_sums"]


@dataclass(frozen=True, slots=True, eq=False)  # no element-wise __eq__ of arrays: compared by identity
class SparseRows:
    """Rows of a sparse matrix as CSR arrays, each row's columns sorted and distinct: a block of
    requests' term weights (:meth:`matching.analysis.query.QueryAnalyzer.vectorize`).

    A scipy matrix checks and converts its arrays whenever one is made, some seventy Python
    calls, and each of its products some twenty-five more: on one request, more than the
    products themselves cost (bench/README.md). These rows are made once, in the canonical form a scipy
    matrix would hold them in, and become one (:meth:`to_csr`) for a block's sparse products.

    Parameters
    ----------
    data : ndarray of shape (nnz,)
    indices : ndarray of int32, shape (nnz,)
        Columns, sorted and distinct within each row.
    indptr : ndarray of shape (n_rows + 1,)
        Row ``i``'s entries are at ``indptr[i]:indptr[i + 1]``; ``indptr[0]`` is 0.
    n_columns : int
    """

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    n_columns: int

    @classmethod
    def from_rows(cls, rows: list[dict[int, float]], n_columns: int) -> SparseRows:
        """The rows of ``{column: value}`` dictionaries, their columns sorted, values in float32."""
        lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
        # int32 row pointers, the index type scipy picks for such a matrix: a block's matrix
        # (to_csr) is made without converting them.
        indptr = np.zeros(len(rows) + 1, dtype=np.int32 if lengths.sum() < 2**31 else np.int64)
        lengths.cumsum(out=indptr[1:])
        total = int(indptr[-1])
        indices = np.fromiter(chain.from_iterable(rows), dtype=np.int32, count=total)
        data = np.fromiter(chain.from_iterable(row.values() for row in rows), dtype=np.float32, count=total)
        if len(rows) != 1:
            # scipy sorts each row's entries apart, in C: a block's 14,000 entries in about 110 µs,
            # where one argsort of (row, column) keys takes 200-550 µs (bench/README.md).
            matrix = sp.csr_matrix((data, indices, indptr), shape=(len(rows), n_columns))
            matrix.sort_indices()
            return cls(matrix.data, matrix.indices, matrix.indptr, n_columns)
        # Columns are distinct (dictionary keys): any sort gives the order scipy's gives.
        order = indices.argsort()
        return cls(data.take(order), indices.take(order), indptr, n_columns)

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.indptr) - 1, self.n_columns

    @property
    def nnz(self) -> int:
        return len(self.data)

    def rows(self, lo: int, hi: int) -> SparseRows:
        """Rows ``lo:hi``, ``hi`` clipped to the row count as a slice would be (views of these
        rows' arrays, row pointers shifted to start at 0)."""
        hi = min(hi, self.shape[0])
        start, end = int(self.indptr[lo]), int(self.indptr[hi])
        return SparseRows(
            self.data[start:end], self.indices[start:end], self.indptr[lo : hi + 1] - start, self.n_columns
        )

    def to_csr(self) -> sp.csr_matrix:
        """The same rows as a scipy CSR matrix (sharing these arrays)."""
        matrix = sp.csr_matrix((self.data, self.indices, self.indptr), shape=self.shape)
        matrix.has_canonical_format = True  # as built: spares scipy the check
        return matrix

    def dot(self, dense: np.ndarray) -> np.ndarray:
        """``self.to_csr() @ dense`` for ``dense`` of shape (n_columns,) or (n_columns, m): the
        same values, bit for bit (tested), of shape (n_rows,) or (n_rows, m).

        scipy adds each row's products one after the other, in the operands' common type; on
        one row, numpy does the same without the matrix: down the first axis of a 2-D array its
        reduction adds row after row, while along a 1-D array it sums pairwise, so there the
        sequential ``np.add.accumulate`` is used.
        """
        if self.shape[0] != 1:
            return np.asarray(self.to_csr() @ dense)
        if dense.ndim == 2:
            return np.add.reduce(self.data[:, None] * dense.take(self.indices, axis=0), axis=0, keepdims=True)
        products = self.data * dense.take(self.indices)
        if len(products) == 0:
            return np.zeros(1, dtype=products.dtype)
        return np.add.accumulate(products)[-1:]


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


def dense_rows(vectors: SparseRows, lo: int, hi: int) -> np.ndarray:
    """Rows ``lo:hi`` as a dense array of shape (hi - lo, n_columns), as
    ``vectors.to_csr()[lo:hi].toarray()`` gives them, written into zeros directly."""
    indptr = vectors.indptr
    start, end = int(indptr[lo]), int(indptr[hi])
    dense = np.zeros((hi - lo, vectors.n_columns), dtype=vectors.data.dtype)
    if hi - lo == 1:
        dense[0, vectors.indices[start:end]] = vectors.data[start:end]
        return dense
    owner = np.arange(hi - lo).repeat(indptr[lo + 1 : hi + 1] - indptr[lo:hi])
    dense[owner, vectors.indices[start:end]] = vectors.data[start:end]
    return dense
