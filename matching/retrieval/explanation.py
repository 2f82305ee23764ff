"""Explanation: the terms behind each match, and how the request led to them (as data).

A :class:`MatchedTerm` holds the profile's term, how it was reached (``via``), the request's
words and the glossary or thesaurus entry they were rewritten into; :class:`Explainer` finds
the top terms of ranked (request, profile) pairs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from matching.analysis.query import AnalysedQuery, TermOrigin
from matching.index.profiles import ProfileIndex
from matching.index.sparse import dense_rows, row_slices
from matching.retrieval.evidence import lone_expansions

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
        self, vectors: sp.csr_matrix, rows: np.ndarray, queries: Sequence[AnalysedQuery]
    ) -> list[list[tuple[MatchedTerm, ...]]]:
        """Matched terms for every (query, ranked row) pair, largest contribution first."""
        b_idx, k_idx = np.nonzero(rows >= 0)
        out: list[list[tuple[MatchedTerm, ...]]] = [[()] * rows.shape[1] for _ in range(rows.shape[0])]
        if len(b_idx) == 0:
            return out
        display, terms = self.index.display_, self.index.terms_
        request_of, rank_of = b_idx.tolist(), k_idx.tolist()
        new = tuple.__new__  # MatchedTerm's own __new__ is a Python function: one call more per term
        current = -1
        origins: dict[int, TermOrigin] = {}
        described: dict[object, tuple[str, str, str, str, str | None]] = {}
        for pairs, bounds, columns, values, expanded in self._top_terms(vectors, b_idx, rows[b_idx, k_idx]):
            kept_columns = columns.tolist()
            # Rounded in float64, as round(v, 4) would: a float32 value times 10**4 is exact in
            # float64, so rint and the division give the same nearest double.
            kept_values = np.round(values.astype(np.float64), 4).tolist()
            for pair, lo, hi in zip(pairs.tolist(), bounds[:-1], bounds[1:], strict=True):
                b = request_of[pair]
                if b != current:
                    # A request's matches share most of their terms: only the contribution differs
                    # from one profile to the next, so each term is described once per request.
                    current, origins, described = b, queries[b].origins, {}
                matched = []
                for c, v, e in zip(kept_columns[lo:hi], kept_values[lo:hi], expanded[lo:hi], strict=True):
                    key = c if e is None else (c, e)
                    d = described.get(key)
                    if d is None:
                        term, via, words, target = explained_term(display[c], origins.get(c), e)
                        d = described[key] = (term, str(terms[c]), via, words, target)
                    matched.append(new(MatchedTerm, (d[0], d[1], v, d[2], d[3], d[4])))
                out[b][rank_of[pair]] = tuple(matched)
        return out

    def contributions(
        self, vectors: sp.csr_matrix, query_rows: np.ndarray, profile_rows: np.ndarray
    ) -> Iterator[tuple[int, list[int], list[float], list[str | None]]]:
        """Yield ``(pair, columns, values, expanded)``: the top terms of each (query, profile)
        pair, and for each the technical phrase of the profile it came through when the profile
        holds it only by document expansion (else None). Pairs come grouped by request.
        """
        for pairs, bounds, columns, values, expanded in self._top_terms(vectors, query_rows, profile_rows):
            kept_columns, kept_values = columns.tolist(), values.tolist()
            for pair, lo, hi in zip(pairs.tolist(), bounds[:-1], bounds[1:], strict=True):
                yield pair, kept_columns[lo:hi], kept_values[lo:hi], expanded[lo:hi]

    def _top_terms(
        self, vectors: sp.csr_matrix, query_rows: np.ndarray, profile_rows: np.ndarray
    ) -> Iterator[tuple[np.ndarray, list[int], np.ndarray, np.ndarray, list[str | None]]]:
        """Yield, a chunk of requests at a time, ``(pairs, bounds, columns, values, expanded)``:
        the pairs' top terms, those of ``pairs[i]`` at ``bounds[i]:bounds[i + 1]``, largest
        first (see :meth:`contributions`). Pairs come grouped by request.

        Requests are made dense a few at a time (``chunk_cells``) and the profile rows' terms of
        their pairs are gathered at once, so each product is a 1-d gather; only the final,
        short per-pair lists are built in Python.
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
            dense = dense_rows(vectors, lo, hi).ravel()
            rows = profile_rows[pairs]
            offsets, columns, values = row_slices(matrix, rows)
            lengths = np.diff(offsets)
            products = values * dense.take(np.repeat((query_rows[pairs] - lo) * n_terms, lengths) + columns)
            # Only the non-zero products are read further (few: a request meets few terms).
            hit = np.flatnonzero(products != 0)
            owner = np.repeat(np.arange(len(pairs)), lengths).take(hit)
            positions = (matrix.indptr[rows] - offsets[:-1]).take(owner) + hit
            evidence = np.flatnonzero(~lone_expansions(self.index, self.min_expansion_terms, positions, owner))
            chosen = hit.take(evidence)
            owner, positions = owner.take(evidence), positions.take(evidence)
            columns, products = columns.take(chosen), products.take(chosen)
            # Largest products first within each pair (owner is ascending), the first few kept:
            # np.lexsort((-products, owner))'s order, from two stable sorts, the second a radix
            # sort when the pairs fit 16 bits: about a third of lexsort's time (bench/README.md).
            by_product = np.argsort(-products, kind="stable")
            owners = owner.astype(np.uint16) if len(pairs) <= 1 << 16 else owner
            order = by_product.take(np.argsort(owners.take(by_product), kind="stable"))
            starts = np.searchsorted(owner, np.arange(len(pairs) + 1))
            rank = np.arange(len(order)) - starts[owner[order]]
            keep = order[rank < self.explain_terms]
            bounds = np.searchsorted(owner[keep], np.arange(len(pairs) + 1)).tolist()
            expanded = self.index.expansion_sources_at(positions[keep])
            yield pairs, bounds, columns[keep], products[keep], expanded


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
