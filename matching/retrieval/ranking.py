"""Ranking: the one matching pipeline (:meth:`Matcher.search_many`), from request texts to
ranked, explained matches.

The matcher chains the stages, each in its own module: candidate generation over the index
restricted to the filters (:mod:`matching.retrieval.candidates`), re-ranking by exact scores,
the domain prior and feedback (:mod:`matching.retrieval.reranking`), score calibration
(:mod:`matching.retrieval.calibration`) and explanation (:mod:`matching.retrieval.explanation`).

Scoring is vectorised: a block of requests is one sparse matrix (n_requests, n_terms)
multiplied by the index's transposed matrix, giving all BM25 scores at once; the top k of
each row are found by partial selection (:func:`~matching.retrieval.candidates.best_columns`), not
by sorting every score.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from matching.analysis.language import DetectedLanguage
from matching.analysis.query import AnalysedQuery, QueryAnalyzer
from matching.data.taxonomy import domain_codes
from matching.index.profiles import ProfileIndex
from matching.index.sparse import SparseRows
from matching.retrieval.calibration import DEFAULT_CALIBRATION, ScoreCalibration
from matching.retrieval.candidates import CandidateGenerator, FilteredIndex, best_columns, first_stage_scores
from matching.retrieval.domain_prior import DomainPrior
from matching.retrieval.evidence import PairHits, select_pairs
from matching.retrieval.explanation import Explainer, MatchedTerm, term_label
from matching.retrieval.filters import MatchFilters
from matching.retrieval.reranking import Reranker

__all__ = ["Matcher", "Match", "MatchedTerm", "MatchResult", "term_label"]

#: Largest dense (requests x profiles) score block scored at once: 1M cells, i.e. 4 MiB of
#: float32 scores, whatever the block and index sizes.
MAX_DENSE_CELLS = 1 << 20
#: Cells of the dense (request, term) chunks that candidates' entries are looked up in: small
#: enough to stay in the processor's cache, which makes the random lookups fast (measured in
#: bench/README.md, "Figures behind the code's choices").
DENSE_CHUNK_CELLS = 1 << 18


@dataclass(frozen=True, slots=True)
class Match:
    """One ranked profile. ``score`` is in [0, 1]; ``row`` is the profile's index row."""

    rank: int
    expert_id: str
    score: float
    row: int
    matched_terms: tuple[MatchedTerm, ...]


class RankedRows(NamedTuple):
    """Each request's ranked profile rows (n_queries, top_k), -1 where fewer profiles qualify;
    their scores (n_queries, top_k), float32 in [0, 1], descending per row; and the hits of the
    n_queries * top_k (request, row) pairs, row-major (none where the row is -1)."""

    rows: np.ndarray
    scores: np.ndarray
    hits: PairHits


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
        ``1 - w + w * boost`` with ``boost`` in [0, 1] and ``w = prior_weight * confidence``.
    prior_weight : float, default 0.4
    explain_terms : int, default 5
        Number of matched terms kept per result.
    feedback_weight : float, default 0.3
        Pseudo-relevance feedback: candidates gain up to this share of the best score, by
        their similarity to the first ``feedback_docs`` results (0 disables it), times ``confidence``.
    feedback_docs : int, default 3
    rerank_depth : int, default 50
        Candidates per request on which exact scores, the prior and feedback are computed.
    first_stage_max_df : float, default 0.12
        Candidates are found with the request's terms present in at most this share of the
        allowed profiles (1 uses every term). Frequent terms make most of the product's cost
        and little of the score; the exact score of each candidate counts them again.
    confident_terms : int, default 12
        A request's ``confidence`` is its count of distinct own terms over this, capped at 1:
        the domain prior and feedback weigh fully on letters, little on two-word queries (whose
        domain is a guess; what the prior at full weight costs there: bench/README.md).
    min_expansion_terms : int, default 2
        A profile's terms held only through the everyday phrases of one technical phrase count
        when the request meets at least this many of them (or a one-word everyday phrase); 1
        counts every one. On the dev set 1 ranks slightly better (bench/README.md), but its extra
        matches are single everyday words out of their phrase, which staff read as nonsense
        ("aidants ← recolección basura", from "aide ménagère").
    calibration : ScoreCalibration or None, default DEFAULT_CALIBRATION
        Maps ranking scores to the shown scores in [0, 1] (:mod:`matching.retrieval.calibration`); None
        returns raw BM25 scores (for fitting the calibration).
    """

    def __init__(
        self,
        index: ProfileIndex,
        query_analyzer: QueryAnalyzer | None = None,
        domain_prior: DomainPrior | None = None,
        prior_weight: float = 0.4,
        explain_terms: int = 5,
        feedback_weight: float = 0.3,
        feedback_docs: int = 3,
        rerank_depth: int = 50,
        first_stage_max_df: float = 0.12,
        confident_terms: int = 12,
        calibration: ScoreCalibration | None = DEFAULT_CALIBRATION,
        min_expansion_terms: int = 2,
    ) -> None:
        self.index = index
        self.query_analyzer = query_analyzer if query_analyzer is not None else QueryAnalyzer().fit(index)
        self.domain_prior = domain_prior
        self.prior_weight = prior_weight
        self.explain_terms = explain_terms
        self.feedback_weight = feedback_weight
        self.feedback_docs = feedback_docs
        self.rerank_depth = rerank_depth
        self.first_stage_max_df = first_stage_max_df
        self.confident_terms = confident_terms
        self.calibration = calibration
        self.min_expansion_terms = min_expansion_terms
        self._allowed_cache: dict[MatchFilters, FilteredIndex] = {}

    # ------------------------------------------------------------------ public
    def search(
        self,
        text: str,
        filters: MatchFilters | None = None,
        top_k: int = 10,
        language: str | None = None,
        max_per_holder: int | None = None,
    ) -> MatchResult:
        """Rank profiles for one request."""
        return self.search_many([text], filters, top_k, [language], max_per_holder)[0]

    def search_many(
        self,
        texts: Sequence[str],
        filters: MatchFilters | None = None,
        top_k: int = 10,
        languages: Sequence[str | None] | None = None,
        max_per_holder: int | None = None,
    ) -> list[MatchResult]:
        """Rank profiles for a block of requests (one sparse product for the whole block).

        The one matching pipeline: the API, the staff page, the CLI, batch, coverage and
        evaluation all call it (or :meth:`search`, its one-request form). ``languages``
        (ISO 639-1, one per text, None to detect) skip language detection.
        Returns one :class:`MatchResult` per text, in order: the request's language, its
        analysed query and its ranked :class:`Match` es, each with its :class:`MatchedTerm` s.
        """
        if top_k < 1:
            raise ValueError("top_k must be at least 1")
        queries = self.query_analyzer.analyse_many(texts, languages)
        vectors = self.query_analyzer.vectorize(queries)
        evidence = np.array([q.evidence_terms for q in queries])
        ranked = self._rank_vectors(vectors, filters or MatchFilters(), top_k, max_per_holder, evidence)
        explained = self._explainer().explain(ranked.rows, ranked.hits, queries)
        ids = self.index.metadata_.ids_
        results = []
        # Plain lists: indexing numpy arrays element by element costs more than the conversion.
        rows, scores = ranked.rows.tolist(), ranked.scores.tolist()
        for q, q_rows, q_scores, q_terms in zip(queries, rows, scores, explained, strict=True):
            matches = [
                Match(rank + 1, str(ids[row]), q_scores[rank], row, q_terms[rank])
                for rank, row in enumerate(q_rows)
                if row >= 0
            ]
            results.append(MatchResult(q.language, matches, q))
        return results

    def request_domains(self, texts: Sequence[str], languages: Sequence[str | None] | None = None) -> list[str | None]:
        """Most likely domain code of each request by the domain prior (nearest centroid), None
        when no term of the request is known to the index. Uses the matcher's own prior, else
        one fitted on its index."""
        prior = self.domain_prior or DomainPrior().fit(self.index)
        queries = self.query_analyzer.analyse_many(texts, languages)
        scores = prior.domain_scores(self.query_analyzer.vectorize(queries))
        codes = domain_codes()
        return [
            codes[int(best)] if top > 0 else None
            for best, top in zip(scores.argmax(axis=1), scores.max(axis=1), strict=True)
        ]

    def _rank_vectors(
        self,
        vectors: SparseRows,
        filters: MatchFilters,
        top_k: int,
        max_per_holder: int | None = None,
        evidence: np.ndarray | None = None,
    ) -> RankedRows:
        """Top-k rows and scores for each query vector, and the hits of each (query, row) pair.

        First, candidates: each request's ``rerank_depth`` best profiles by the score of its
        selective terms (one sparse product with the allowed profiles). Then, on the candidates
        only: exact scores, the domain prior and pseudo-relevance feedback, which would be too
        costly on every profile.
        """
        allowed_rows, allowed_postings, frequent = self._allowed(filters)
        n_queries = vectors.shape[0]
        step = max(1, MAX_DENSE_CELLS // max(1, len(allowed_rows)))
        if n_queries > step:  # rows are independent: score a few at a time, in bounded memory
            parts = [
                self._rank_vectors(
                    vectors.rows(i, i + step),
                    filters,
                    top_k,
                    max_per_holder,
                    None if evidence is None else evidence[i : i + step],
                )
                for i in range(0, n_queries, step)
            ]
            return RankedRows(
                np.vstack([p.rows for p in parts]),
                np.vstack([p.scores for p in parts]),
                PairHits.concatenate([p.hits for p in parts]),
            )
        if len(allowed_rows) == 0:
            return RankedRows(
                np.full((n_queries, top_k), -1),
                np.zeros((n_queries, top_k), dtype=np.float32),
                PairHits.empty(n_queries * top_k),
            )
        depth = min(len(allowed_rows), max(self.rerank_depth, top_k * 4 + 16 if max_per_holder else top_k))
        # Candidates from the request's selective terms only: frequent terms cost most of the
        # product (their postings are long) yet weigh little (low idf); their part of the score
        # is added back exactly below, on the candidates.
        partial = first_stage_scores(vectors, allowed_postings, None if depth >= len(allowed_rows) else frequent)
        if depth < partial.shape[1]:
            picked = best_columns(partial, depth)
        else:
            picked = np.broadcast_to(np.arange(partial.shape[1]), partial.shape).copy()
        candidates = allowed_rows[picked]
        # Re-ranking by the request's domains and by its first results trusts what the request
        # says about itself: fully from ``confident_terms`` distinct terms on, less below, since a
        # two-word query says little of its domain and its first results are a thin sample.
        if evidence is None:
            evidence = vectors.indptr[1:] - vectors.indptr[:-1]
        confidence = np.minimum(1.0, np.asarray(evidence, dtype=np.float64) / self.confident_terms)[:, None]
        reranker = self._reranker()
        prior = reranker.prior_factor(vectors, candidates, confidence)
        scores, hits = reranker.rescore(vectors, candidates, prior, confidence)
        # Each request's candidates by score, as flat positions (into the hits too, row-major).
        pairs = (-scores).argsort(axis=1, kind="stable") + np.arange(0, n_queries * depth, depth)[:, None]
        candidates = candidates.ravel().take(pairs)
        scores = scores.ravel().take(pairs).astype(np.float32, copy=False)
        if max_per_holder:
            candidates, scores, pairs = reranker.cap_per_holder(candidates, scores, pairs, top_k, max_per_holder)
        rows = candidates[:, :top_k].copy()
        top = scores[:, :top_k].copy()
        pairs = pairs[:, :top_k].copy()
        none = top <= 0  # a profile sharing nothing with the request is no match
        rows[none] = -1
        pairs[none] = -1
        top[none] = 0.0
        ceilings = vectors.dot(self.index.max_impact_)
        top = top if self.calibration is None else self.calibration.transform(top, ceilings, evidence)
        if rows.shape[1] < top_k:  # fewer profiles than top_k
            pad = ((0, 0), (0, top_k - rows.shape[1]))
            rows = np.pad(rows, pad, constant_values=-1)
            pairs = np.pad(pairs, pad, constant_values=-1)
            top = np.pad(top, pad)
        return RankedRows(rows, top, select_pairs(hits, pairs))

    def _allowed(self, filters: MatchFilters) -> FilteredIndex:
        """Rows passing ``filters``, the index restricted to them, transposed, and its frequent
        terms (cached per filters; see :class:`CandidateGenerator`)."""
        return CandidateGenerator(self.index, self.first_stage_max_df, self._allowed_cache).allowed(filters)

    def _reranker(self) -> Reranker:
        return Reranker(
            self.index,
            self.domain_prior,
            self.prior_weight,
            self.feedback_weight,
            self.feedback_docs,
            self.min_expansion_terms,
            DENSE_CHUNK_CELLS,
        )

    def _explainer(self) -> Explainer:
        return Explainer(self.index, self.explain_terms, self.min_expansion_terms, DENSE_CHUNK_CELLS)

    def _contributions(
        self, vectors: SparseRows, query_rows: np.ndarray, profile_rows: np.ndarray
    ) -> Iterator[tuple[int, list[int], list[float], list[str | None]]]:
        """See :meth:`matching.retrieval.explanation.Explainer.contributions`."""
        return self._explainer().contributions(vectors, query_rows, profile_rows)

    def prepare(self, filters: MatchFilters) -> Matcher:
        """Build (and cache) the index restricted to ``filters`` now, e.g. before forking
        workers that share it; returns ``self``."""
        self._allowed(filters)
        return self
