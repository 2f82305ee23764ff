"""Candidate generation: the index restricted to the filters (cached per filters), and the
first-stage scores of a request's selective terms over it."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from matching.index.profiles import ProfileIndex
from matching.index.sparse import SparseRows, long_rows
from matching.retrieval.filters import MatchFilters

__all__ = [
    "FilteredIndex",
    "CandidateGenerator",
    "best_columns",
    "first_stage_scores",
    "without_terms",
    "kept_entries",
]

#: The allowed rows, the index restricted to them (transposed, CSR) and its frequent terms.
FilteredIndex = tuple[np.ndarray, sp.csr_matrix, np.ndarray]


class CandidateGenerator:
    """The index restricted to filters, cached in ``cache`` (the matcher's, at most 8 entries).

    ``first_stage_max_df``: terms in more than this share of the allowed profiles are frequent,
    left out of the first stage (see :func:`first_stage_scores`).
    """

    def __init__(
        self, index: ProfileIndex, first_stage_max_df: float, cache: dict[MatchFilters, FilteredIndex]
    ) -> None:
        self.index = index
        self.first_stage_max_df = first_stage_max_df
        self.cache = cache

    def allowed(self, filters: MatchFilters) -> FilteredIndex:
        """Rows passing ``filters``, the index restricted to them, transposed, and its frequent terms
        (cached per filters).

        The matrix is of shape (n_terms, n_allowed), in CSR: the inverted index that the
        product ``vectors @ matrix`` needs. Transposing once here, not at every product,
        saves a conversion of the whole index per call (most of a single query's time).
        The boolean array of shape (n_terms,) marks terms in more than ``first_stage_max_df``
        of the allowed profiles.
        """
        key = filters if filters.as_of is not None else None
        hit = self.cache.get(key) if key is not None else None
        if hit is not None:
            return hit
        mask = filters.mask(self.index)
        rows = np.flatnonzero(mask)
        matrix = self.index.matrix_ if len(rows) == self.index.n_profiles else self.index.matrix_[rows]
        matrix = matrix.T.tocsr()
        frequent = np.diff(matrix.indptr) > self.first_stage_max_df * len(rows)
        entry = (rows, matrix, frequent)
        if key is not None:
            if len(self.cache) >= 8:  # each entry may hold a copy of the index
                self.cache.clear()
            self.cache[key] = entry
        return entry


def first_stage_scores(vectors: SparseRows, postings: sp.csr_matrix, dropped: np.ndarray | None) -> np.ndarray:
    """Scores of shape (n_queries, n_allowed): ``vectors`` without their ``dropped`` terms
    (see :func:`without_terms`) times the inverted index ``postings`` (n_terms, n_allowed).

    A block of requests is one sparse product. A single request gathers its terms' postings
    and sums them with ``bincount``, without a sparse product's set-up, about twice as fast
    (bench/README.md).
    """
    if vectors.shape[0] != 1:
        first_stage = vectors if dropped is None else without_terms(vectors, dropped)
        return (first_stage.to_csr() @ postings).toarray()
    columns, values = vectors.indices, vectors.data
    if dropped is not None:
        keep = kept_entries(vectors, dropped)
        columns, values = columns[keep], values[keep]
    lengths, profiles, weights = long_rows(postings, columns)
    scores = np.bincount(profiles, weights * values.repeat(lengths), minlength=postings.shape[1])
    return scores.astype(np.float32)[None, :]


def best_columns(scores: np.ndarray, k: int) -> np.ndarray:
    """Columns of each row's ``k`` highest scores, shape (n_rows, k), in no particular order (as
    ``np.argpartition(-scores, k - 1, axis=1)[:, :k]``; ties at the k-th score are broken
    arbitrarily, as there). ``scores`` non-negative, shape (n_rows, n_columns), ``k`` < n_columns.

    A row's k-th highest score is at least the k-th highest of any part of it: that of every
    :data:`_SAMPLE_STEP`-th column is a floor below which no column can be among the k. Only
    the columns at or above the floor, a few hundred of 10,000, are then partitioned: about a
    fifth of the full partition's time, per row (bench/README.md). A floor of 0 (fewer than k
    columns of the sample score) leaves nothing out, and the whole row is partitioned.
    """
    n_rows = scores.shape[0]
    out = np.empty((n_rows, k), dtype=np.intp)
    for i, row in enumerate(scores):
        sample = row[::_SAMPLE_STEP]
        if len(sample) > k:
            sample = sample.copy()  # np.partition's copy, without its wrapper
            sample.partition(len(sample) - k)
            floor = sample[len(sample) - k]
            if floor > 0:
                kept = (row >= floor).nonzero()[0]
                out[i] = kept[(-row[kept]).argpartition(k - 1)[:k]]
                continue
        out[i] = (-row).argpartition(k - 1)[:k]
    return out


#: One column in this many makes the sample whose k-th highest score floors a row's k highest.
_SAMPLE_STEP = 8


def without_terms(vectors: SparseRows, dropped: np.ndarray) -> SparseRows:
    """``vectors`` without the columns marked in ``dropped`` (boolean, shape (n_terms,)).

    A row made only of dropped columns keeps them all (else its request would find nothing).
    """
    keep = kept_entries(vectors, dropped)
    if keep.all():
        return vectors
    row_of = np.repeat(np.arange(vectors.shape[0]), np.diff(vectors.indptr))
    indptr = np.zeros_like(vectors.indptr)
    np.cumsum(np.bincount(row_of[keep], minlength=vectors.shape[0]), out=indptr[1:])
    return SparseRows(vectors.data[keep], vectors.indices[keep], indptr, vectors.n_columns)


def kept_entries(vectors: SparseRows, dropped: np.ndarray) -> np.ndarray:
    """Boolean mask over the stored entries of ``vectors``: those whose column is not
    ``dropped``, and every entry of a row that would otherwise keep none."""
    keep = ~dropped[vectors.indices]
    if vectors.shape[0] == 1:  # one request: no count per row to make
        return keep if keep.any() else np.ones_like(keep)
    row_of = np.repeat(np.arange(vectors.shape[0]), vectors.indptr[1:] - vectors.indptr[:-1])
    kept = np.bincount(row_of, weights=keep, minlength=vectors.shape[0])
    return keep | (kept == 0)[row_of]
