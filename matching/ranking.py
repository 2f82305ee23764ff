"""Ranking: score requests against the index, apply filters, keep the top k, explain.

Scoring is vectorised: a block of requests is one sparse matrix (n_requests, n_terms)
multiplied by the index's transposed matrix, giving all cosine scores at once; the top k of
each row are found by partial selection (``argpartition``), not by sorting every score.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from .domain_prior import DomainPrior
from .filters import MatchFilters
from .index import ProfileIndex
from .language import DetectedLanguage
from .query import AnalysedQuery, QueryAnalyzer, TermOrigin

__all__ = ["Matcher", "Match", "MatchedTerm", "MatchResult", "term_label"]


@dataclass(frozen=True, slots=True)
class MatchedTerm:
    """A term that contributed to a match.

    ``term`` is the word as written in the profiles; ``stem`` the index term (for
    highlighting); ``contribution`` its part of the cosine score; ``via`` and ``source``
    say how the request led to it (see :class:`matching.query.TermOrigin`).
    """

    term: str
    stem: str
    contribution: float
    via: str
    source: str

    def label(self) -> str:
        """Short text for tables: ``assainissement`` or ``décharge ← tas d'ordures``."""
        return term_label(self.term, self.via, self.source)


def term_label(term: str, via: str, source: str) -> str:
    """How a matched term reads in a table: the term, and the request's words it came from."""
    if via == "request":
        return term
    words = source.split(" → ")[0]
    return f"{term} ← {words}" if words.lower() != term.lower() else term


@dataclass(frozen=True, slots=True)
class Match:
    """One ranked profile. ``score`` is in [0, 1]; ``row`` is the profile's index row."""

    rank: int
    expert_id: str
    score: float
    row: int
    matched_terms: tuple[MatchedTerm, ...]


@dataclass(frozen=True, slots=True)
class MatchResult:
    """Ranked matches for one request, with the request's language and query analysis."""

    language: DetectedLanguage
    matches: list[Match]
    query: AnalysedQuery


class Matcher:
    """Ranks profiles of a fitted index against requests.

    Parameters
    ----------
    index : ProfileIndex
        A fitted index.
    query_analyzer : QueryAnalyzer, optional
        Request analysis (typos, glossary, thesaurus); a plain one is used by default.
    domain_prior : DomainPrior, optional
        Fitted domain prior; when given, scores are multiplied by
        ``1 - prior_weight + prior_weight * boost`` with ``boost`` in [0, 1], so they stay in [0, 1].
    prior_weight : float, default 0.4
    explain_terms : int, default 5
        Number of matched terms kept per result.
    feedback_weight : float, default 0.3
        Pseudo-relevance feedback: weight of the centroid of the first ``feedback_docs``
        results added to the request vector before a second scoring (0 disables it).
    feedback_docs : int, default 3
    """

    def __init__(self, index: ProfileIndex, query_analyzer: QueryAnalyzer | None = None,
                 domain_prior: DomainPrior | None = None, prior_weight: float = 0.4,
                 explain_terms: int = 5, feedback_weight: float = 0.3, feedback_docs: int = 3) -> None:
        self.index = index
        self.query_analyzer = query_analyzer if query_analyzer is not None else QueryAnalyzer().fit(index)
        self.domain_prior = domain_prior
        self.prior_weight = prior_weight
        self.explain_terms = explain_terms
        self.feedback_weight = feedback_weight
        self.feedback_docs = feedback_docs
        self._mask_cache: dict[MatchFilters, np.ndarray] = {}

    # ------------------------------------------------------------------ public
    def search(self, text: str, filters: MatchFilters | None = None, top_k: int = 10,
               language: str | None = None, max_per_holder: int | None = None) -> MatchResult:
        """Rank profiles for one request."""
        return self.search_many([text], filters, top_k, [language], max_per_holder)[0]

    def search_many(self, texts: Sequence[str], filters: MatchFilters | None = None, top_k: int = 10,
                    languages: Sequence[str | None] | None = None,
                    max_per_holder: int | None = None) -> list[MatchResult]:
        """Rank profiles for a block of requests (one sparse product for the whole block)."""
        if top_k < 1:
            raise ValueError("top_k must be at least 1")
        languages = languages if languages is not None else [None] * len(texts)
        queries = [self.query_analyzer.analyse(t, lang) for t, lang in zip(texts, languages, strict=True)]
        vectors = self.query_analyzer.vectorize(queries)
        rows, scores = self.rank_vectors(vectors, filters or MatchFilters(), top_k, max_per_holder)
        explained = self.explain(vectors, rows, queries)
        results = []
        for b, q in enumerate(queries):
            matches = [
                Match(rank + 1, str(self.index.ids_[row]), float(scores[b, rank]), int(row), explained[b][rank])
                for rank, row in enumerate(rows[b]) if row >= 0
            ]
            results.append(MatchResult(q.language, matches, q))
        return results

    def rank_vectors(self, vectors: sp.csr_matrix, filters: MatchFilters, top_k: int,
                     max_per_holder: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k rows and scores for each query vector.

        Returns
        -------
        rows : ndarray of int, shape (n_queries, top_k); -1 where fewer profiles qualify.
        scores : ndarray of float32, shape (n_queries, top_k), in [0, 1], descending per row.
        """
        allowed = self.mask(filters)
        scores = self.score(vectors)
        if self.feedback_weight > 0:
            vectors = self._with_feedback(vectors, scores, allowed)
            scores = self.score(vectors)
        # Filtered-out and zero-score profiles can never be selected.
        scores[:, ~allowed] = -1.0
        scores[scores <= 0.0] = -1.0
        n = scores.shape[1]
        pool = min(n, top_k if not max_per_holder else top_k * 4 + 16)
        if pool < n:
            candidates = np.argpartition(-scores, pool - 1, axis=1)[:, :pool]
        else:
            candidates = np.broadcast_to(np.arange(n), scores.shape).copy()
        cand_scores = np.take_along_axis(scores, candidates, axis=1)
        order = np.argsort(-cand_scores, axis=1, kind="stable")
        candidates = np.take_along_axis(candidates, order, axis=1)
        cand_scores = np.take_along_axis(cand_scores, order, axis=1)
        if max_per_holder:
            candidates, cand_scores = self._cap_per_holder(candidates, cand_scores, top_k, max_per_holder)
        rows = candidates[:, :top_k].copy()
        top = cand_scores[:, :top_k].copy()
        rows[top <= 0] = -1
        top[top <= 0] = 0.0
        if rows.shape[1] < top_k:  # fewer profiles than top_k
            pad = top_k - rows.shape[1]
            rows = np.pad(rows, ((0, 0), (0, pad)), constant_values=-1)
            top = np.pad(top, ((0, 0), (0, pad)))
        return rows, top

    def _with_feedback(self, vectors: sp.csr_matrix, scores: np.ndarray, allowed: np.ndarray) -> sp.csr_matrix:
        """Request vectors moved towards the centroid of their first results (Rocchio)."""
        m = min(self.feedback_docs, scores.shape[1])
        masked = np.where(allowed, scores, -1.0)
        top = np.argpartition(-masked, m - 1, axis=1)[:, :m]
        weights = np.take_along_axis(masked, top, axis=1).clip(min=0)
        rows = np.repeat(np.arange(scores.shape[0]), m)
        pick = sp.csr_matrix((weights.ravel(), (rows, top.ravel())), shape=scores.shape)
        centroids = normalize(pick @ self.index.matrix_, norm="l2")
        return normalize(vectors + self.feedback_weight * centroids, norm="l2").astype(np.float32).tocsr()

    def score(self, vectors: sp.csr_matrix) -> np.ndarray:
        """Dense scores of shape (n_queries, n_profiles), float32 in [0, 1]."""
        scores = (vectors @ self.index.matrix_.T).toarray().astype(np.float32, copy=False)
        if self.domain_prior is not None and self.prior_weight > 0:
            boost = self.domain_prior.profile_boost(vectors)
            scores *= (1.0 - self.prior_weight) + self.prior_weight * boost
        np.clip(scores, 0.0, 1.0, out=scores)
        return scores

    def mask(self, filters: MatchFilters) -> np.ndarray:
        """Cached filter mask of shape (n_profiles,)."""
        key = filters if filters.as_of is not None else None
        if key is not None and key in self._mask_cache:
            return self._mask_cache[key]
        mask = filters.mask(self.index)
        if key is not None:
            if len(self._mask_cache) > 64:
                self._mask_cache.clear()
            self._mask_cache[key] = mask
        return mask

    # ------------------------------------------------------------------ explanations
    def explain(self, vectors: sp.csr_matrix, rows: np.ndarray,
                queries: Sequence[AnalysedQuery]) -> list[list[tuple[MatchedTerm, ...]]]:
        """Matched terms for every (query, ranked row) pair, largest contribution first."""
        b_idx, k_idx = np.nonzero(rows >= 0)
        out: list[list[tuple[MatchedTerm, ...]]] = [[() for _ in range(rows.shape[1])] for _ in range(rows.shape[0])]
        if len(b_idx) == 0:
            return out
        for pair, columns, values in self.contributions(vectors, b_idx, rows[b_idx, k_idx]):
            b = int(b_idx[pair])
            origins = queries[b].origins
            out[b][int(k_idx[pair])] = tuple(
                MatchedTerm(self.index.display_[c], str(self.index.terms_[c]), round(float(v), 4),
                            *_origin(origins.get(c), self.index.display_[c]))
                for c, v in zip(columns, values, strict=True)
            )
        return out

    def contributions(self, vectors: sp.csr_matrix, query_rows: np.ndarray, profile_rows: np.ndarray):
        """Yield ``(pair, columns, values)``: the top terms of each (query, profile) pair.

        The per-term products of all pairs are computed as one element-wise sparse product;
        only the final, short per-pair lists are built in Python.
        """
        products = vectors[query_rows].multiply(self.index.matrix_[profile_rows]).tocsr()
        products.eliminate_zeros()
        indptr, indices, data = products.indptr, products.indices, products.data
        pair_of = np.repeat(np.arange(len(query_rows)), np.diff(indptr))
        order = np.lexsort((-data, pair_of))
        rank = np.arange(len(order)) - indptr[pair_of[order]]
        keep = order[rank < self.explain_terms]
        kept_pairs = pair_of[keep]
        bounds = np.searchsorted(kept_pairs, np.arange(len(query_rows) + 1))
        columns, values = indices[keep], data[keep]
        for pair in range(len(query_rows)):
            lo, hi = bounds[pair], bounds[pair + 1]
            yield pair, columns[lo:hi].tolist(), values[lo:hi].tolist()

    def _cap_per_holder(self, candidates: np.ndarray, scores: np.ndarray, top_k: int,
                        cap: int) -> tuple[np.ndarray, np.ndarray]:
        holders = self.index.holders_
        rows_out = np.full((candidates.shape[0], top_k), -1, dtype=candidates.dtype)
        scores_out = np.zeros((candidates.shape[0], top_k), dtype=scores.dtype)
        for b in range(candidates.shape[0]):  # loops over the short candidate list only
            seen: dict[str, int] = {}
            j = 0
            for row, score in zip(candidates[b], scores[b], strict=True):
                if score <= 0 or j >= top_k:
                    break
                holder = holders[row]
                if seen.get(holder, 0) < cap:
                    seen[holder] = seen.get(holder, 0) + 1
                    rows_out[b, j], scores_out[b, j] = row, score
                    j += 1
        return rows_out, scores_out


def _origin(origin: TermOrigin | None, display: str) -> tuple[str, str]:
    if origin is None:
        return "request", display
    return origin.via, origin.source
