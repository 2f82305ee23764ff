"""Explanation: the terms behind each match, and how the request led to them (as data).

A :class:`MatchedTerm` holds the profile's term, how it was reached (``via``), the request's
words and the glossary or thesaurus entry they were rewritten into; :class:`Explainer` finds
the top terms of ranked (request, profile) pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from matching.analysis.query import AnalysedQuery, TermOrigin
from matching.index.profiles import ProfileIndex
from matching.index.sparse import dense_rows, row_entries
from matching.retrieval.evidence import lone_expansions

__all__ = ["Explainer", "MatchedTerm", "explained_term", "matched_term", "term_label"]


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
        self, vectors: sp.csr_matrix, rows: np.ndarray, queries: Sequence[AnalysedQuery]
    ) -> list[list[tuple[MatchedTerm, ...]]]:
        """Matched terms for every (query, ranked row) pair, largest contribution first."""
        b_idx, k_idx = np.nonzero(rows >= 0)
        out: list[list[tuple[MatchedTerm, ...]]] = [[() for _ in range(rows.shape[1])] for _ in range(rows.shape[0])]
        if len(b_idx) == 0:
            return out
        display, terms = self.index.display_, self.index.terms_
        for pair, columns, values, expanded in self.contributions(vectors, b_idx, rows[b_idx, k_idx]):
            b = int(b_idx[pair])
            origins = queries[b].origins
            out[b][int(k_idx[pair])] = tuple(
                matched_term(display[c], str(terms[c]), round(v, 4), origins.get(c), e)
                for c, v, e in zip(columns, values, expanded, strict=True)
            )
        return out

    def contributions(self, vectors: sp.csr_matrix, query_rows: np.ndarray, profile_rows: np.ndarray):
        """Yield ``(pair, columns, values, expanded)``: the top terms of each (query, profile)
        pair, and for each the technical phrase of the profile it came through when the profile
        holds it only by document expansion (else None).

        Requests are made dense a few at a time (``chunk_cells``) and the profile rows' terms of
        their pairs are gathered at once, so each product is a 1-d gather; only the final,
        short per-pair lists are built in Python. Pairs come grouped by request.
        """
        n_terms, matrix = self.index.n_terms, self.index.matrix_
        vectors = vectors.tocsr()
        by_query = np.argsort(query_rows, kind="stable")
        sorted_queries = query_rows[by_query]
        chunk = max(1, self.chunk_cells // max(n_terms, 1))
        for lo in range(0, vectors.shape[0], chunk):
            hi = min(vectors.shape[0], lo + chunk)
            pairs = by_query[np.searchsorted(sorted_queries, lo) : np.searchsorted(sorted_queries, hi)]
            if len(pairs) == 0:
                continue
            dense = dense_rows(vectors, lo, hi)
            owner, columns, values = row_entries(matrix, profile_rows[pairs])
            products = values * dense.ravel().take((query_rows[pairs][owner] - lo) * n_terms + columns)
            lone = lone_expansions(
                self.index, self.min_expansion_terms, profile_rows[pairs][owner], columns, owner, products
            )
            products[lone] = 0.0
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
