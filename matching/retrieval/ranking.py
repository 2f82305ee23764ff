"""Ranking: score requests against the index, apply filters, keep the top k, explain.

Scoring is vectorised: a block of requests is one sparse matrix (n_requests, n_terms)
multiplied by the index's transposed matrix, giving all BM25 scores at once; the top k of
each row are found by partial selection (``argpartition``), not by sorting every score.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from matching.analysis.language import DetectedLanguage
from matching.analysis.query import AnalysedQuery, QueryAnalyzer, TermOrigin
from matching.data.taxonomy import domain_codes
from matching.index.profiles import ProfileIndex
from matching.index.sparse import row_entries
from matching.retrieval.calibration import DEFAULT_CALIBRATION, ScoreCalibration
from matching.retrieval.domain_prior import DomainPrior
from matching.retrieval.filters import MatchFilters

__all__ = ["Matcher", "Match", "MatchedTerm", "MatchResult", "term_label"]

#: Largest dense (requests x profiles) score block scored at once: 1M cells, i.e. 4 MiB of
#: float32 scores and 8 MiB of argpartition indices, whatever the block and index sizes.
MAX_DENSE_CELLS = 1 << 20
#: Cells of the dense (request, term) chunks that candidates' entries are looked up in: small
#: enough to stay in the processor's cache, which makes the random lookups fast (measured in
#: bench/README.md, "Figures behind the code's choices").
DENSE_CHUNK_CELLS = 1 << 18


@dataclass(frozen=True, slots=True)
class MatchedTerm:
    """A term that contributed to a match.

    ``term`` is the word as written in the profiles; ``stem`` the index term (for
    highlighting); ``contribution`` its part of the (BM25) ranking score; ``via`` says how the
    request led to it (see :class:`matching.analysis.query.TermOrigin`), ``words`` are the
    request's words it came from (the term itself for the request's own word) and ``target``
    the glossary or thesaurus entry those words were rewritten into (None otherwise).
    """

    term: str
    stem: str
    contribution: float
    via: str
    words: str
    target: str | None = None

    @property
    def source(self) -> str:
        """``words → target`` (or the words alone), as the API's ``source`` field shows it."""
        return self.words if self.target is None else f"{self.words} → {self.target}"

    def label(self) -> str:
        """Short text for tables: ``assainissement`` or ``décharge ← tas d'ordures``."""
        return term_label(self.term, self.via, self.words)


def term_label(term: str, via: str, words: str) -> str:
    """How a matched term reads in a table: the term, and the request's words it came from."""
    if via == "request":
        return term
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

    def __init__(self, index: ProfileIndex, query_analyzer: QueryAnalyzer | None = None,
                 domain_prior: DomainPrior | None = None, prior_weight: float = 0.4,
                 explain_terms: int = 5, feedback_weight: float = 0.3, feedback_docs: int = 3,
                 rerank_depth: int = 50, first_stage_max_df: float = 0.12, confident_terms: int = 12,
                 calibration: ScoreCalibration | None = DEFAULT_CALIBRATION, min_expansion_terms: int = 2) -> None:
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
        self._allowed_cache: dict[MatchFilters, tuple[np.ndarray, sp.csr_matrix, np.ndarray]] = {}

    # ------------------------------------------------------------------ public
    def search(self, text: str, filters: MatchFilters | None = None, top_k: int = 10,
               language: str | None = None, max_per_holder: int | None = None) -> MatchResult:
        """Rank profiles for one request."""
        return self.search_many([text], filters, top_k, [language], max_per_holder)[0]

    def search_many(self, texts: Sequence[str], filters: MatchFilters | None = None, top_k: int = 10,
                    languages: Sequence[str | None] | None = None,
                    max_per_holder: int | None = None) -> list[MatchResult]:
        """Rank profiles for a block of requests (one sparse product for the whole block).

        The one matching pipeline: the API, the staff page, the CLI, batch, coverage and
        evaluation all call it (or :meth:`search`, its one-request form). ``languages``
        (ISO 639-1, one per text, None to detect) skip language detection.
        Returns one :class:`MatchResult` per text, in order: the request's language, its
        analysed query and its ranked :class:`Match` es, each with its :class:`MatchedTerm` s.
        """
        if top_k < 1:
            raise ValueError("top_k must be at least 1")
        languages = languages if languages is not None else [None] * len(texts)
        queries = [self.query_analyzer.analyse(t, lang) for t, lang in zip(texts, languages, strict=True)]
        vectors = self.query_analyzer.vectorize(queries)
        evidence = np.array([q.evidence_terms for q in queries])
        rows, scores = self._rank_vectors(vectors, filters or MatchFilters(), top_k, max_per_holder, evidence)
        explained = self._explain(vectors, rows, queries)
        results = []
        for b, q in enumerate(queries):
            matches = [
                Match(rank + 1, str(self.index.ids_[row]), float(scores[b, rank]), int(row), explained[b][rank])
                for rank, row in enumerate(rows[b]) if row >= 0
            ]
            results.append(MatchResult(q.language, matches, q))
        return results

    def request_domains(self, texts: Sequence[str],
                        languages: Sequence[str | None] | None = None) -> list[str | None]:
        """Most likely domain code of each request by the domain prior (nearest centroid), None
        when no term of the request is known to the index. Uses the matcher's own prior, else
        one fitted on its index."""
        prior = self.domain_prior or DomainPrior().fit(self.index)
        languages = languages if languages is not None else [None] * len(texts)
        queries = [self.query_analyzer.analyse(t, lang) for t, lang in zip(texts, languages, strict=True)]
        scores = prior.domain_scores(self.query_analyzer.vectorize(queries))
        codes = domain_codes()
        return [codes[int(best)] if top > 0 else None for best, top in zip(scores.argmax(axis=1), scores.max(axis=1),
                                                                           strict=True)]

    def _rank_vectors(self, vectors: sp.csr_matrix, filters: MatchFilters, top_k: int,
                     max_per_holder: int | None = None,
                     evidence: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k rows and scores for each query vector.

        First, candidates: each request's ``rerank_depth`` best profiles by the score of its
        selective terms (one sparse product with the allowed profiles). Then, on the candidates
        only: exact scores, the domain prior and pseudo-relevance feedback, which would be too
        costly on every profile.

        Returns
        -------
        rows : ndarray of int, shape (n_queries, top_k); -1 where fewer profiles qualify.
        scores : ndarray of float32, shape (n_queries, top_k), in [0, 1], descending per row.
        """
        allowed_rows, allowed_postings, frequent = self._allowed(filters)
        n_queries = vectors.shape[0]
        step = max(1, MAX_DENSE_CELLS // max(1, len(allowed_rows)))
        if n_queries > step:  # rows are independent: score a few at a time, in bounded memory
            parts = [self._rank_vectors(vectors[i:i + step], filters, top_k, max_per_holder,
                                       None if evidence is None else evidence[i:i + step])
                     for i in range(0, n_queries, step)]
            return np.vstack([p[0] for p in parts]), np.vstack([p[1] for p in parts])
        if len(allowed_rows) == 0:
            return np.full((n_queries, top_k), -1), np.zeros((n_queries, top_k), dtype=np.float32)
        depth = min(len(allowed_rows), max(self.rerank_depth, top_k * 4 + 16 if max_per_holder else top_k))
        # Candidates from the request's selective terms only: frequent terms cost most of the
        # product (their postings are long) yet weigh little (low idf); their part of the score
        # is added back exactly below, on the candidates.
        partial = _first_stage_scores(vectors, allowed_postings, None if depth >= len(allowed_rows) else frequent)
        if depth < partial.shape[1]:
            picked = np.argpartition(-partial, depth - 1, axis=1)[:, :depth]
        else:
            picked = np.broadcast_to(np.arange(partial.shape[1]), partial.shape).copy()
        candidates = allowed_rows[picked]
        # Re-ranking by the request's domains and by its first results trusts what the request
        # says about itself: fully from ``confident_terms`` distinct terms on, less below, since a
        # two-word query says little of its domain and its first results are a thin sample.
        if evidence is None:
            evidence = np.diff(vectors.indptr)
        confidence = np.minimum(1.0, np.asarray(evidence, dtype=np.float64) / self.confident_terms)[:, None]
        prior = self._prior_factor(vectors, candidates, confidence)
        scores = self._rescore(vectors, candidates, prior, confidence)
        order = np.argsort(-scores, axis=1, kind="stable")
        candidates = np.take_along_axis(candidates, order, axis=1)
        scores = np.take_along_axis(scores, order, axis=1).astype(np.float32, copy=False)
        if max_per_holder:
            candidates, scores = self._cap_per_holder(candidates, scores, top_k, max_per_holder)
        rows = candidates[:, :top_k].copy()
        top = scores[:, :top_k].copy()
        rows[top <= 0] = -1  # a profile sharing nothing with the request is no match
        top[top <= 0] = 0.0
        ceilings = vectors @ self.index.max_impact_
        top = top if self.calibration is None else self.calibration.transform(top, ceilings, evidence)
        if rows.shape[1] < top_k:  # fewer profiles than top_k
            pad = top_k - rows.shape[1]
            rows = np.pad(rows, ((0, 0), (0, pad)), constant_values=-1)
            top = np.pad(top, ((0, 0), (0, pad)))
        return rows, top

    def _prior_factor(self, vectors: sp.csr_matrix, candidates: np.ndarray,
                      confidence: np.ndarray) -> np.ndarray | float:
        """Domain-prior multiplier in [1 - prior_weight, 1] for each candidate, shape like ``candidates``;
        ``confidence`` of shape (n_queries, 1) scales the prior's weight per request."""
        if self.domain_prior is None or self.prior_weight <= 0:
            return 1.0
        boost = self.domain_prior.boost(vectors, candidates)
        weight = self.prior_weight * confidence
        return (1.0 - weight) + weight * boost

    def _rescore(self, vectors: sp.csr_matrix, candidates: np.ndarray, prior: np.ndarray | float,
                 confidence: np.ndarray) -> np.ndarray:
        """Final scores of the candidates, shape like ``candidates``: exact BM25 scores (every
        term counted) times the prior, with pseudo-relevance feedback when ``feedback_weight`` > 0.

        Feedback adds to each candidate ``g * best * cos(c, x)``: ``c`` is the centroid of the
        first ``feedback_docs`` candidates' rows, ``best`` the request's best score and ``g`` the
        feedback weight. Profiles that resemble the request's best matches move up, by at most
        a share ``g`` of the best score, whatever the request's length. Requests and centroids
        are made dense a few at a time (:data:`DENSE_CHUNK_CELLS`), so that their products with
        the candidates' entries are plain gathers.
        """
        n_queries, depth = candidates.shape
        n_terms, matrix = self.index.n_terms, self.index.matrix_
        g, m = self.feedback_weight, min(self.feedback_docs, depth)
        prior = np.broadcast_to(prior, candidates.shape)
        out = np.empty((n_queries, depth))
        chunk = max(1, DENSE_CHUNK_CELLS // max(n_terms, 1))
        for lo in range(0, n_queries, chunk):
            hi = min(n_queries, lo + chunk)
            dense = _dense_rows(vectors, lo, hi)
            owner, columns, values = row_entries(matrix, candidates[lo:hi].ravel())
            # Flat positions in the dense (request, term) chunk: one cheap 1-d gather per use.
            cells = (owner // depth) * n_terms + columns
            size = (hi - lo) * depth
            products = values * dense.ravel().take(cells)
            products[self._lone_expansions(candidates[lo:hi].ravel()[owner], columns, owner, products)] = 0.0
            dots = np.bincount(owner, products, size).reshape(hi - lo, depth)
            scores = dots * prior[lo:hi]
            if g <= 0:
                out[lo:hi] = scores
                continue
            first = np.argsort(-scores, axis=1)[:, :m]
            best = np.take_along_axis(scores, first[:, :1], axis=1)
            centroids = self._centroids(np.take_along_axis(candidates[lo:hi], first, axis=1),
                                        np.take_along_axis(scores, first, axis=1).clip(min=0))
            norms = self.index.row_norms_[candidates[lo:hi]]
            cx: np.ndarray = np.bincount(owner, values * centroids.ravel().take(cells), size).reshape(hi - lo, depth)
            cx /= np.where(norms > 0, norms, 1.0)
            # Feedback reorders the profiles that share terms with the request; it never makes a
            # match of a profile sharing none (it would have nothing to show for it).
            out[lo:hi] = np.where(dots > 0, scores + g * confidence[lo:hi] * best * cx * prior[lo:hi], 0.0)
        return out

    def _lone_expansions(self, rows: np.ndarray, columns: np.ndarray, pairs: np.ndarray,
                         products: np.ndarray) -> np.ndarray:
        """Boolean mask over entries (profile ``rows[i]``, term ``columns[i]``) of (request,
        profile) pair ``pairs[i]`` with a non-zero ``products[i]``: those the profile holds only
        through the everyday phrases of one technical phrase, of which the request meets no other
        term, unless a one-word everyday phrase brought it. One everyday word out of its phrase
        ("ménagère" of "aide ménagère", expanding "aidants") is no evidence of the technical
        phrase: it is dropped, not explained.
        """
        lone = np.zeros(len(rows), dtype=bool)
        if len(self.index.expansion_keys_) == 0 or self.min_expansion_terms <= 1:
            return lone
        # Only terms some profile holds through its expansion need the (binary) search.
        hit = np.flatnonzero((products != 0) & self.index.expanded_terms_[columns])
        sources, whole = self.index.expansion_source_ids(rows[hit], columns[hit])
        expanded = (sources >= 0) & ~whole  # a one-word everyday phrase is evidence on its own
        if not expanded.any():
            return lone
        keys = pairs[hit][expanded].astype(np.int64) * len(self.index.expansion_phrases_) + sources[expanded]
        _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
        lone[hit[expanded]] = counts[inverse] < self.min_expansion_terms
        return lone

    def _centroids(self, rows: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Dense L2-normalised weighted sums of L2-normalised index rows: ``rows`` and
        ``weights`` of shape (n, m) give an array of shape (n, n_terms)."""
        n, m = rows.shape
        n_terms = self.index.n_terms
        owner, columns, values = row_entries(self.index.matrix_, rows.ravel())
        row_norms = self.index.row_norms_[rows.ravel()]
        scale = weights.ravel() / np.where(row_norms > 0, row_norms, 1.0)
        centroids: np.ndarray = np.bincount((owner // m) * n_terms + columns, values * scale[owner],
                                n * n_terms).reshape(n, n_terms)
        norms = np.sqrt(np.einsum("ij,ij->i", centroids, centroids))
        centroids /= np.where(norms > 0, norms, 1.0)[:, None]
        return centroids

    def _allowed(self, filters: MatchFilters) -> tuple[np.ndarray, sp.csr_matrix, np.ndarray]:
        """Rows passing ``filters``, the index restricted to them, transposed, and its frequent terms
        (cached per filters).

        The matrix is of shape (n_terms, n_allowed), in CSR: the inverted index that the
        product ``vectors @ matrix`` needs. Transposing once here, not at every product,
        saves a conversion of the whole index per call (most of a single query's time).
        The boolean array of shape (n_terms,) marks terms in more than ``first_stage_max_df``
        of the allowed profiles.
        """
        key = filters if filters.as_of is not None else None
        hit = self._allowed_cache.get(key) if key is not None else None
        if hit is not None:
            return hit
        mask = filters.mask(self.index)
        rows = np.flatnonzero(mask)
        matrix = self.index.matrix_ if len(rows) == self.index.n_profiles else self.index.matrix_[rows]
        matrix = matrix.T.tocsr()
        frequent = np.diff(matrix.indptr) > self.first_stage_max_df * len(rows)
        entry = (rows, matrix, frequent)
        if key is not None:
            if len(self._allowed_cache) >= 8:  # each entry may hold a copy of the index
                self._allowed_cache.clear()
            self._allowed_cache[key] = entry
        return entry

    def prepare(self, filters: MatchFilters) -> Matcher:
        """Build (and cache) the index restricted to ``filters`` now, e.g. before forking
        workers that share it; returns ``self``."""
        self._allowed(filters)
        return self

    # ------------------------------------------------------------------ explanations
    def _explain(self, vectors: sp.csr_matrix, rows: np.ndarray,
                queries: Sequence[AnalysedQuery]) -> list[list[tuple[MatchedTerm, ...]]]:
        """Matched terms for every (query, ranked row) pair, largest contribution first."""
        b_idx, k_idx = np.nonzero(rows >= 0)
        out: list[list[tuple[MatchedTerm, ...]]] = [[() for _ in range(rows.shape[1])] for _ in range(rows.shape[0])]
        if len(b_idx) == 0:
            return out
        display, terms = self.index.display_, self.index.terms_
        for pair, columns, values, expanded in self._contributions(vectors, b_idx, rows[b_idx, k_idx]):
            b = int(b_idx[pair])
            origins = queries[b].origins
            out[b][int(k_idx[pair])] = tuple(
                _matched_term(display[c], str(terms[c]), round(v, 4), origins.get(c), e)
                for c, v, e in zip(columns, values, expanded, strict=True)
            )
        return out

    def _contributions(self, vectors: sp.csr_matrix, query_rows: np.ndarray, profile_rows: np.ndarray):
        """Yield ``(pair, columns, values, expanded)``: the top terms of each (query, profile)
        pair, and for each the technical phrase of the profile it came through when the profile
        holds it only by document expansion (else None).

        Requests are made dense a few at a time (:data:`DENSE_CHUNK_CELLS`) and the profile rows' terms of
        their pairs are gathered at once, so each product is a 1-d gather; only the final,
        short per-pair lists are built in Python. Pairs come grouped by request.
        """
        n_terms, matrix = self.index.n_terms, self.index.matrix_
        vectors = vectors.tocsr()
        by_query = np.argsort(query_rows, kind="stable")
        sorted_queries = query_rows[by_query]
        chunk = max(1, DENSE_CHUNK_CELLS // max(n_terms, 1))
        for lo in range(0, vectors.shape[0], chunk):
            hi = min(vectors.shape[0], lo + chunk)
            pairs = by_query[np.searchsorted(sorted_queries, lo):np.searchsorted(sorted_queries, hi)]
            if len(pairs) == 0:
                continue
            dense = _dense_rows(vectors, lo, hi)
            owner, columns, values = row_entries(matrix, profile_rows[pairs])
            products = values * dense.ravel().take((query_rows[pairs][owner] - lo) * n_terms + columns)
            products[self._lone_expansions(profile_rows[pairs][owner], columns, owner, products)] = 0.0
            hit = products != 0
            owner, columns, products = owner[hit], columns[hit], products[hit]
            # Largest products first within each pair (owner is ascending), the first few kept.
            order = np.lexsort((-products, owner))
            starts = np.searchsorted(owner, np.arange(len(pairs) + 1))
            rank = np.arange(len(order)) - starts[owner[order]]
            keep = order[rank < self.explain_terms]
            bounds = np.searchsorted(owner[keep], np.arange(len(pairs) + 1))
            kept_columns, kept_values = columns[keep].tolist(), products[keep].tolist()
            expanded = self.index.expansion_sources(profile_rows[pairs][owner[keep]], columns[keep])
            for i, pair in enumerate(pairs.tolist()):
                lo_i, hi_i = bounds[i], bounds[i + 1]
                yield pair, kept_columns[lo_i:hi_i], kept_values[lo_i:hi_i], expanded[lo_i:hi_i]

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


def _explained_term(display: str, origin: TermOrigin | None,
                    expanded: str | None) -> tuple[str, str, str, str | None]:
    """``(term, via, words, target)`` of a matched term (see :class:`MatchedTerm`).

    ``display`` is the term as written, ``origin`` how the request led to it (None: its own
    word) and ``expanded`` the profile's technical phrase when the profile holds the term only
    through document expansion: "décharge sauvage ← fumée" reads like a request-side expansion.
    """
    words, target = (display, None) if origin is None else (origin.words, origin.target)
    if expanded is not None:
        return expanded, "thesaurus", words, target
    return display, "request" if origin is None else origin.via, words, target


def _matched_term(display: str, stem: str, contribution: float, origin: TermOrigin | None,
                  expanded: str | None) -> MatchedTerm:
    term, via, words, target = _explained_term(display, origin, expanded)
    return MatchedTerm(term, stem, contribution, via, words, target)


def _first_stage_scores(vectors: sp.csr_matrix, postings: sp.csr_matrix, dropped: np.ndarray | None) -> np.ndarray:
    """Scores of shape (n_queries, n_allowed): ``vectors`` without their ``dropped`` terms
    (see :func:`_without_terms`) times the inverted index ``postings`` (n_terms, n_allowed).

    A block of requests is one sparse product. A single request gathers its terms' postings
    and sums them with ``bincount``, without a sparse product's set-up, about twice as fast
    (bench/README.md).
    """
    if vectors.shape[0] != 1:
        first_stage = vectors if dropped is None else _without_terms(vectors, dropped)
        return (first_stage @ postings).toarray()
    columns, values = vectors.indices, vectors.data
    if dropped is not None:
        keep = _kept_entries(vectors, dropped)
        columns, values = columns[keep], values[keep]
    owner, profiles, weights = row_entries(postings, columns)
    scores = np.bincount(profiles, weights * values[owner], minlength=postings.shape[1])
    return scores.astype(np.float32)[None, :]


def _without_terms(vectors: sp.csr_matrix, dropped: np.ndarray) -> sp.csr_matrix:
    """``vectors`` without the columns marked in ``dropped`` (boolean, shape (n_terms,)).

    A row made only of dropped columns keeps them all (else its request would find nothing).
    """
    keep = _kept_entries(vectors, dropped)
    if keep.all():
        return vectors
    row_of = np.repeat(np.arange(vectors.shape[0]), np.diff(vectors.indptr))
    indptr = np.zeros_like(vectors.indptr)
    np.cumsum(np.bincount(row_of[keep], minlength=vectors.shape[0]), out=indptr[1:])
    return sp.csr_matrix((vectors.data[keep], vectors.indices[keep], indptr), shape=vectors.shape)


def _kept_entries(vectors: sp.csr_matrix, dropped: np.ndarray) -> np.ndarray:
    """Boolean mask over the stored entries of ``vectors``: those whose column is not
    ``dropped``, and every entry of a row that would otherwise keep none."""
    row_of = np.repeat(np.arange(vectors.shape[0]), np.diff(vectors.indptr))
    keep = ~dropped[vectors.indices]
    kept = np.bincount(row_of, weights=keep, minlength=vectors.shape[0])
    return keep | (kept == 0)[row_of]


def _dense_rows(vectors: sp.csr_matrix, lo: int, hi: int) -> np.ndarray:
    """Rows ``lo:hi`` of a CSR matrix as a dense array (no sliced copy when all rows are wanted)."""
    return vectors.toarray() if lo == 0 and hi == vectors.shape[0] else vectors[lo:hi].toarray()
