"""Explanation: the terms behind each match, and how the request led to them (as data).

A :class:`MatchedTerm` holds the profile's term, how it was reached (``via``), the request's
words and the glossary or thesaurus entry they were rewritten into; :class:`Explainer` finds
the top terms of ranked (request, profile) pairs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import NamedTuple

import numpy as np

from matching.analysis.query import AnalysedQuery, TermOrigin
from matching.index.profiles import ProfileIndex
from matching.index.sparse import SparseRows, dense_rows, row_slices
from matching.retrieval.evidence import PairHits, pair_hits

__all__ = ["Explainer", "MatchedTerm", "explained_term", "matched_term", "term_label"]


class MatchedTerm(NamedTuple):
    """A term that contributed to a match.

    ``term`` is the word as written in the profiles; ``stem`` the index term (for
    highlighting); ``contribution`` its part of the (BM25) ranking score; ``via`` says how the
    request led to it (see :class:`matching.analysis.query.TermOrigin`), ``words`` are the
    request's words it came from (the term itself for the request's own word) and ``target``
    the glossary or thesaurus entry those words were rewritten into (None otherwise).

    A named tuple (immutable, hashable, equal by value) rather than a frozen dataclass: a
    batch builds one per matched term of every result, and a frozen dataclass's ``__init__``
    sets each field through ``object.__setattr__``, about ten times slower (bench/README.md).
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


class Explainer:
    """The top ``explain_terms`` terms of ranked (request, profile) pairs.

    Parameters
    ----------
    index : ProfileIndex
    explain_terms : int
        Matched terms kept per result.
    min_expansion_terms : int
        See :func:`matching.retrieval.evidence.lone_expansions`.
    chunk_cells : int
        Cells of the dense (request, term) chunks the pairs' entries are looked up in.
    """

    def __init__(self, index: ProfileIndex, explain_terms: int, min_expansion_terms: int, chunk_cells: int) -> None:
        self.index = index
        self.explain_terms = explain_terms
        self.min_expansion_terms = min_expansion_terms
        self.chunk_cells = chunk_cells

    def explain(
        self, rows: np.ndarray, hits: PairHits, queries: Sequence[AnalysedQuery]
    ) -> list[list[tuple[MatchedTerm, ...]]]:
        """Matched terms for every (query, ranked row) pair, largest contribution first.

        ``rows`` (n_queries, k): ranked profile rows, -1 for none; ``hits``: those of the
        n_queries * k pairs, row-major, as the ranking found them.
        """
        n_queries, k = rows.shape
        out: list[list[tuple[MatchedTerm, ...]]] = [[()] * k for _ in range(n_queries)]
        bounds, columns, values, expanded = self._top_terms(hits)
        if len(columns) == 0:
            return out
        display, terms = self.index.display_, self.index.terms_
        kept_columns = columns.tolist()
        # Rounded in float64, as round(v, 4) would: a float32 value times 10**4 is exact in
        # float64, so rint and the division give the same nearest double.
        kept_values = values.astype(np.float64).round(4).tolist()
        new = tuple.__new__  # MatchedTerm's own __new__ is a Python function: one call more per term
        for b, (q_out, query) in enumerate(zip(out, queries, strict=True)):
            origins = query.origins
            # A request's matches share most of their terms: only the contribution differs
            # from one profile to the next, so each term is described once per request.
            described: dict[object, tuple[str, str, str, str, str | None]] = {}
            for rank in range(k):
                lo, hi = bounds[b * k + rank], bounds[b * k + rank + 1]
                if lo == hi:
                    continue
                matched = []
                for c, v, e in zip(kept_columns[lo:hi], kept_values[lo:hi], expanded[lo:hi], strict=True):
                    key = c if e is None else (c, e)
                    d = described.get(key)
                    if d is None:
                        term, via, words, target = explained_term(display[c], origins.get(c), e)
                        d = described[key] = (term, str(terms[c]), via, words, target)
                    matched.append(new(MatchedTerm, (d[0], d[1], v, d[2], d[3], d[4])))
                q_out[rank] = tuple(matched)
        return out

    def contributions(
        self, vectors: SparseRows, query_rows: np.ndarray, profile_rows: np.ndarray
    ) -> Iterator[tuple[int, list[int], list[float], list[str | None]]]:
        """Yield ``(pair, columns, values, expanded)``: the top terms of each (query, profile)
        pair, and for each the technical phrase of the profile it came through when the profile
        holds it only by document expansion (else None), the pairs in the order given.
        """
        bounds, columns, values, expanded = self._top_terms(self.hits_of_pairs(vectors, query_rows, profile_rows))
        kept_columns, kept_values = columns.tolist(), values.tolist()
        for pair, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
            yield pair, kept_columns[lo:hi], kept_values[lo:hi], expanded[lo:hi]

    def hits_of_pairs(self, vectors: SparseRows, query_rows: np.ndarray, profile_rows: np.ndarray) -> PairHits:
        """The hits of (``vectors[query_rows[i]]``, ``profile_rows[i]``) pairs, in that order.

        Requests are made dense a few at a time (``chunk_cells``) and the profile rows' terms of
        their pairs are gathered at once, so each product is a 1-d gather.
        """
        n_terms, matrix = self.index.n_terms, self.index.matrix_
        by_query = np.argsort(query_rows, kind="stable")
        sorted_queries = query_rows[by_query]
        chunk = max(1, self.chunk_cells // max(n_terms, 1))
        parts, order = [], []
        for lo in range(0, vectors.shape[0], chunk):
            hi = min(vectors.shape[0], lo + chunk)
            pairs = by_query[np.searchsorted(sorted_queries, lo) : np.searchsorted(sorted_queries, hi)]
            if len(pairs) == 0:
                continue
            dense = dense_rows(vectors, lo, hi).ravel()
            rows = profile_rows[pairs]
            offsets, columns, values = row_slices(matrix, rows)
            cells = ((query_rows[pairs] - lo) * n_terms).repeat(np.diff(offsets)) + columns
            products = values * dense.take(cells)
            parts.append(pair_hits(self.index, self.min_expansion_terms, rows, offsets, columns, products))
            order.append(pairs)
        if not parts:
            return PairHits.empty(len(query_rows))
        # Back to the pairs' order: position i of the chunks' order is pair order[i].
        found = PairHits.concatenate(parts)
        return found.select(np.argsort(np.concatenate(order), kind="stable"))

    def _top_terms(self, hits: PairHits) -> tuple[list[int], np.ndarray, np.ndarray, list[str | None]]:
        """``(bounds, columns, values, expanded)``: the first ``explain_terms`` hits of each pair
        that are evidence, largest product first, those of pair ``i`` at ``bounds[i]:bounds[i + 1]``;
        ``expanded`` as in :meth:`contributions`.

        Sorted by array operations over all pairs at once; only the final, short per-pair lists
        are built in Python.
        """
        n_pairs = hits.n_pairs
        evidence = (hits.products != 0).nonzero()[0]  # lone expansions are 0: no evidence
        owner = np.arange(n_pairs).repeat(hits.bounds[1:] - hits.bounds[:-1]).take(evidence)
        products = hits.products.take(evidence)
        # Largest products first within each pair (owner is ascending), the first few kept:
        # np.lexsort((-products, owner))'s order, from two stable sorts, the second a radix
        # sort when the pairs fit 16 bits: about a third of lexsort's time (bench/README.md).
        by_product = (-products).argsort(kind="stable")
        owners = owner.astype(np.uint16) if n_pairs <= 1 << 16 else owner
        order = by_product.take(owners.take(by_product).argsort(kind="stable"))
        starts = owner.searchsorted(np.arange(n_pairs + 1))
        rank = np.arange(len(order)) - starts[owner[order]]
        keep = order[rank < self.explain_terms]
        bounds = owner[keep].searchsorted(np.arange(n_pairs + 1)).tolist()
        chosen = evidence.take(keep)
        expanded = self.index.expansion_sources_at(hits.positions.take(chosen))
        return bounds, hits.columns.take(chosen), products.take(keep), expanded


def explained_term(display: str, origin: TermOrigin | None, expanded: str | None) -> tuple[str, str, str, str | None]:
    """``(term, via, words, target)`` of a matched term (see :class:`MatchedTerm`).

    ``display`` is the term as written, ``origin`` how the request led to it (None: its own
    word) and ``expanded`` the profile's technical phrase when the profile holds the term only
    through document expansion: "décharge sauvage ← fumée" reads like a request-side expansion.
    """
    words, target = (display, None) if origin is None else (origin.words, origin.target)
    if expanded is not None:
        return expanded, "thesaurus", words, target
    return display, "request" if origin is None else origin.via, words, target


def matched_term(
    display: str, stem: str, contribution: float, origin: TermOrigin | None, expanded: str | None
) -> MatchedTerm:
    term, via, words, target = explained_term(display, origin, expanded)
    return MatchedTerm(term, stem, contribution, via, words, target)
