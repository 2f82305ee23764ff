"""Re-ranking of the candidates: exact scores, the domain prior, pseudo-relevance feedback,
and the cap of results per holder."""

from __future__ import annotations

import numpy as np

from matching.index.profiles import ProfileIndex
from matching.index.sparse import SparseRows, dense_rows, long_rows, row_slices, row_sums
from matching.retrieval.domain_prior import DomainPrior
from matching.retrieval.evidence import PairHits, pair_hits

__all__ = ["Reranker"]


class Reranker:
    """Final scores of each request's candidates (see :class:`matching.retrieval.ranking.Matcher`
    for the parameters, which it passes on).

    ``chunk_cells`` is the size of the dense (request, term) chunks the candidates' entries are
    looked up in.
    """

    def __init__(
        self,
        index: ProfileIndex,
        domain_prior: DomainPrior | None,
        prior_weight: float,
        feedback_weight: float,
        feedback_docs: int,
        min_expansion_terms: int,
        chunk_cells: int,
    ) -> None:
        self.index = index
        self.domain_prior = domain_prior
        self.prior_weight = prior_weight
        self.feedback_weight = feedback_weight
        self.feedback_docs = feedback_docs
        self.min_expansion_terms = min_expansion_terms
        self.chunk_cells = chunk_cells

    def prior_factor(self, vectors: SparseRows, candidates: np.ndarray, confidence: np.ndarray) -> np.ndarray | float:
        """Domain-prior multiplier in [1 - prior_weight, 1] for each candidate, shape like ``candidates``;
        ``confidence`` of shape (n_queries, 1) scales the prior's weight per request."""
        if self.domain_prior is None or self.prior_weight <= 0:
            return 1.0
        boost = self.domain_prior.boost(vectors, candidates)
        weight = self.prior_weight * confidence
        return (1.0 - weight) + weight * boost

    def rescore(
        self, vectors: SparseRows, candidates: np.ndarray, prior: np.ndarray | float, confidence: np.ndarray
    ) -> tuple[np.ndarray, list[PairHits]]:
        """Final scores of the candidates, shape like ``candidates``: exact BM25 scores (every
        term counted) times the prior, with pseudo-relevance feedback when ``feedback_weight`` > 0;
        and the hits of the (request, candidate) pairs, row-major (``candidates.ravel()``'s order),
        which the explanation reads: one :class:`PairHits` per chunk of requests, in order.

        Feedback adds to each candidate ``g * best * cos(c, x)``: ``c`` is the centroid of the
        first ``feedback_docs`` candidates' rows, ``best`` the request's best score and ``g`` the
        feedback weight. Profiles that resemble the request's best matches move up, by at most
        a share ``g`` of the best score, whatever the request's length. Requests and centroids
        are made dense a few at a time (``chunk_cells``), so that their products with
        the candidates' entries are plain gathers.
        """
        n_queries, depth = candidates.shape
        index = self.index
        n_terms, matrix = index.n_terms, index.matrix_
        g, m = self.feedback_weight, min(self.feedback_docs, depth)
        if not (isinstance(prior, np.ndarray) and prior.shape == candidates.shape):  # as it usually is
            prior = np.broadcast_to(prior, candidates.shape)
        out = np.empty((n_queries, depth))
        hits = []
        chunk = max(1, self.chunk_cells // max(n_terms, 1))
        for lo in range(0, n_queries, chunk):
            hi = min(n_queries, lo + chunk)
            rows = candidates[lo:hi].ravel()
            dense = dense_rows(vectors, lo, hi).ravel()
            offsets, columns, values = row_slices(matrix, rows)
            # Flat positions in the dense (request, term) chunk, for one cheap 1-d gather per
            # use; a request's candidates' entries come together, so one offset per request.
            starts = offsets[::depth]  # each request's first entry, and the end
            cells = np.arange(0, (hi - lo) * n_terms, n_terms).repeat(starts[1:] - starts[:-1]) + columns
            found = pair_hits(index, self.min_expansion_terms, rows, offsets, columns, values * dense.take(cells))
            hits.append(found)
            dots = row_sums(found.bounds, found.columns, found.products, n_terms).reshape(hi - lo, depth)
            scores = dots * prior[lo:hi]
            if g <= 0:
                out[lo:hi] = scores
                continue
            # Flat positions of each request's first m: plain gathers (take_along_axis builds
            # the same index with a dozen more calls).
            first = (-scores).argsort(axis=1)[:, :m] + np.arange(0, (hi - lo) * depth, depth)[:, None]
            flat_scores = scores.ravel()
            best = flat_scores.take(first[:, :1])
            centroids = self.centroids(candidates[lo:hi].ravel().take(first), flat_scores.take(first).clip(min=0))
            norms = self.index.row_norms_[candidates[lo:hi]]
            cx = row_sums(offsets, columns, values * centroids.ravel().take(cells), n_terms).reshape(hi - lo, depth)
            cx /= np.where(norms > 0, norms, 1.0)
            # Feedback reorders the profiles that share terms with the request; it never makes a
            # match of a profile sharing none (it would have nothing to show for it).
            out[lo:hi] = np.where(dots > 0, scores + g * confidence[lo:hi] * best * cx * prior[lo:hi], 0.0)
        return out, hits

    def centroids(self, rows: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Dense L2-normalised weighted sums of L2-normalised index rows: ``rows`` and
        ``weights`` of shape (n, m) give an array of shape (n, n_terms)."""
        n, m = rows.shape
        n_terms = self.index.n_terms
        # A few rows of a hundred entries or so: copied slice by slice (see long_rows).
        lengths, columns, values = long_rows(self.index.matrix_, rows.ravel())
        owner = np.arange(n * m).repeat(lengths)
        row_norms = self.index.row_norms_[rows.ravel()]
        scale = weights.ravel() / np.where(row_norms > 0, row_norms, 1.0)
        centroids: np.ndarray = np.bincount(
            (owner // m) * n_terms + columns, values * scale[owner], n * n_terms
        ).reshape(n, n_terms)
        norms = np.sqrt(np.einsum("ij,ij->i", centroids, centroids))
        centroids /= np.where(norms > 0, norms, 1.0)[:, None]
        return centroids

    def cap_per_holder(
        self, candidates: np.ndarray, scores: np.ndarray, pairs: np.ndarray, top_k: int, cap: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The first ``top_k`` of each request's ranked ``candidates`` (with their ``scores`` and
        ``pairs``, any per-candidate labels) taking at most ``cap`` of one holder; -1, 0 and -1
        pad a request with fewer."""
        holders = self.index.metadata_.holders_
        rows_out = np.full((candidates.shape[0], top_k), -1, dtype=candidates.dtype)
        scores_out = np.zeros((candidates.shape[0], top_k), dtype=scores.dtype)
        pairs_out = np.full((candidates.shape[0], top_k), -1, dtype=pairs.dtype)
        for b in range(candidates.shape[0]):  # loops over the short candidate list only
            seen: dict[str, int] = {}
            j = 0
            for row, score, pair in zip(candidates[b], scores[b], pairs[b], strict=True):
                if score <= 0 or j >= top_k:
                    break
                holder = holders[row]
                if seen.get(holder, 0) < cap:
                    seen[holder] = seen.get(holder, 0) + 1
                    rows_out[b, j], scores_out[b, j], pairs_out[b, j] = row, score, pair
                    j += 1
        return rows_out, scores_out, pairs_out
