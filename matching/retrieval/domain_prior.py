"""Domain prior: which domains a request is about, learned from the profiles themselves.

A nearest-centroid classifier: each domain's centroid is the normalised sum of the TF-IDF
rows of the profiles labelled with it. A request's similarity to each centroid, rescaled so
its best domain scores 1, says how strongly each domain is suggested; profiles of
suggested domains get a boost. No separate training data is needed, and fitting is one
sparse product.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from matching.index.profiles import ProfileIndex
from matching.index.sparse import SparseRows

__all__ = ["DomainPrior"]


class DomainPrior:
    """Nearest-centroid domain scores for requests.

    Parameters
    ----------
    sharpness : float, default 4.0
        Exponent applied to the rescaled centroid similarities: higher values concentrate
        the prior on the best domain.

    Attributes
    ----------
    centroids_ : scipy.sparse.csr_matrix of shape (n_domains, n_terms)
    """

    def __init__(self, sharpness: float = 4.0) -> None:
        self.sharpness = sharpness

    def fit(self, index: ProfileIndex) -> DomainPrior:
        domain_matrix = index.metadata_.domain_matrix_
        labels = sp.csr_matrix(domain_matrix.T.astype(np.float32))
        # Rows normalised first, so that a long profile counts as much as a short one.
        self.centroids_ = _l2_rows(labels @ _l2_rows(index.matrix_)).astype(np.float32).tocsr()
        # Transposed and dense once (n_terms x n_domains, a few MiB): scoring requests is then a
        # sparse-times-dense product, with no sparse result to build.
        # Requests carry no idf (the index's impacts do): their terms are weighted by it here.
        self.centroids_by_term_ = np.ascontiguousarray(self.centroids_.T.toarray() * index.idf_[:, None])
        # Each profile's domains as columns of the score matrix, padded with a column of zeros,
        # so the boost is a few gathers instead of a loop over domains.
        n_domains = domain_matrix.shape[1]
        width = max(1, int(domain_matrix.sum(axis=1).max()))
        slots = np.full((index.n_profiles, width), n_domains, dtype=np.intp)
        rows, columns = np.nonzero(domain_matrix)
        first = np.searchsorted(rows, rows)  # rows come sorted: first position of each row
        slots[rows, np.arange(len(rows)) - first] = columns
        self.slots_ = slots
        return self

    def domain_scores(self, queries: SparseRows) -> np.ndarray:
        """Array of shape (n_queries, n_domains) in [0, 1]; each row's best domain scores 1."""
        sims = np.asarray(queries.dot(self.centroids_by_term_), dtype=np.float32)
        top = sims.max(axis=1, keepdims=True)
        np.divide(sims, top, out=sims, where=top > 0)
        return sims**self.sharpness

    def boost(self, queries: SparseRows, rows: np.ndarray) -> np.ndarray:
        """Boost in [0, 1] of profiles ``rows`` (shape (n_queries, k)) for each query.

        A profile's boost is the score of its best-suggested domain.
        """
        scores = self.domain_scores(queries)
        n_queries, n_domains = scores.shape
        padded = np.zeros((n_queries, n_domains + 1), dtype=scores.dtype)
        padded[:, :n_domains] = scores
        # Each (query, profile, slot)'s cell of the padded scores, read in one gather.
        cells = self.slots_[rows] + (np.arange(n_queries) * (n_domains + 1))[:, None, None]
        boost: np.ndarray = padded.ravel().take(cells).max(axis=2)
        return boost


def _l2_rows(matrix: sp.spmatrix) -> sp.csr_matrix:
    """Rows scaled to unit L2 norm (zero rows stay zero). Three lines of arithmetic: importing
    scikit-learn for its ``normalize`` costs 1.5 s (it loads scipy.stats), a tax on every batch."""
    matrix = sp.csr_matrix(matrix)
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    return sp.diags(1.0 / np.where(norms > 0, norms, 1.0)) @ matrix
