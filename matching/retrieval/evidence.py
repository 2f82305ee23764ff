"""Which of a profile's terms count as evidence of a match, for scoring and explanation alike."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from matching.index.profiles import ProfileIndex

__all__ = ["PairHits", "in_small_groups", "lone_expansions", "pair_hits", "select_pairs"]


class PairHits(NamedTuple):
    """The entries of (request, profile) pairs that the request meets: what a pair's score sums,
    and what its explanation shows. Re-ranking finds them for every candidate; the explanation
    reads those of the ranked pairs instead of gathering and multiplying the entries again.

    ``bounds`` (n_pairs + 1,): pair ``i``'s hits at ``bounds[i]:bounds[i + 1]``, in the order of
    its profile's stored entries; ``columns`` (n_hits,): their terms; ``products`` (n_hits,),
    float32: request weight times profile impact, 0.0 for a lone expansion (no evidence, see
    :func:`lone_expansions`); ``positions`` (n_hits,): their places in ``index.matrix_``'s stored
    entries.
    """

    bounds: np.ndarray
    columns: np.ndarray
    products: np.ndarray
    positions: np.ndarray

    @property
    def n_pairs(self) -> int:
        return len(self.bounds) - 1

    def select(self, pairs: np.ndarray) -> PairHits:
        """The hits of ``pairs`` (positions among these pairs; -1 for a pair without any), in that order."""
        pairs = np.asarray(pairs).ravel()
        valid = pairs >= 0
        safe = np.where(valid, pairs, 0)
        starts = self.bounds.take(safe)
        lengths = np.where(valid, self.bounds.take(safe + 1) - starts, 0)
        bounds = np.zeros(len(pairs) + 1, dtype=np.intp)
        lengths.cumsum(out=bounds[1:])
        at = (starts - bounds[:-1]).repeat(lengths) + np.arange(bounds[-1])
        return PairHits(bounds, self.columns.take(at), self.products.take(at), self.positions.take(at))

    @classmethod
    def concatenate(cls, parts: Sequence[PairHits]) -> PairHits:
        """The pairs of ``parts``, one part after the other."""
        if len(parts) <= 1:
            return parts[0] if parts else cls.empty(0)
        shifts = np.cumsum([0] + [len(p.columns) for p in parts[:-1]])
        bounds = np.concatenate([[0]] + [p.bounds[1:] + shift for p, shift in zip(parts, shifts, strict=True)])
        return cls(
            bounds,
            np.concatenate([p.columns for p in parts]),
            np.concatenate([p.products for p in parts]),
            np.concatenate([p.positions for p in parts]),
        )

    @classmethod
    def empty(cls, n_pairs: int) -> PairHits:
        """``n_pairs`` pairs without hits."""
        none = np.zeros(0, dtype=np.intp)
        return cls(np.zeros(n_pairs + 1, dtype=np.intp), none, np.zeros(0, dtype=np.float32), none)


def select_pairs(parts: Sequence[PairHits], pairs: np.ndarray) -> PairHits:
    """The hits of ``pairs`` (n_requests, k), positions among the pairs of ``parts`` taken one
    after the other (-1 for none): ``parts`` hold consecutive requests' pairs, as many per
    request in each (the re-ranking's chunks), and a request's ``pairs`` are in its part.

    Selected part by part, then joined: joining every candidate's hits first would copy a
    batch chunk's hundreds of thousands of them for the few of its ranked pairs.
    """
    depth = sum(part.n_pairs for part in parts) // max(1, pairs.shape[0])
    picked, start = [], 0
    for part in parts:
        n = part.n_pairs // depth
        rows = pairs[start : start + n]
        picked.append(part.select(rows if start == 0 else np.where(rows >= 0, rows - start * depth, -1)))
        start += n
    return PairHits.concatenate(picked) if picked else PairHits.empty(pairs.size)


def pair_hits(
    index: ProfileIndex,
    min_expansion_terms: int,
    rows: np.ndarray,
    offsets: np.ndarray,
    columns: np.ndarray,
    products: np.ndarray,
) -> PairHits:
    """The hits of pairs whose profiles' entries were gathered (``offsets, columns`` as
    :func:`matching.index.sparse.row_slices` gives them for ``rows``, the pairs' profile rows)
    and multiplied by their requests' weights (``products``, one per entry).

    Pairs of one request should come together, in ascending order (the fast order of
    :func:`lone_expansions`).
    """
    # A request meets few of its profiles' entries: only the non-zero products are kept
    # (leaving zeros out of a sum changes nothing).
    hit = (products != 0).nonzero()[0]  # on a boolean mask: 5x faster than on the floats
    bounds = hit.searchsorted(offsets)
    pairs = np.arange(len(rows)).repeat(bounds[1:] - bounds[:-1])
    kept = products.take(hit)
    positions = (index.matrix_.indptr.take(rows) - offsets[:-1]).take(pairs) + hit
    kept[lone_expansions(index, min_expansion_terms, positions, pairs)] = 0.0
    return PairHits(bounds, columns.take(hit), kept, positions)


def lone_expansions(
    index: ProfileIndex, min_expansion_terms: int, positions: np.ndarray, pairs: np.ndarray
) -> np.ndarray:
    """Boolean mask over the entries at ``positions`` of ``index.matrix_``'s stored entries,
    each with a non-zero product in (request, profile) pair ``pairs[i]``: those the profile
    holds only through the everyday phrases of one technical phrase, of which the request
    meets no other term, unless a one-word everyday phrase brought it. One everyday word out
    of its phrase ("ménagère" of "aide ménagère", expanding "aidants") is no evidence of the
    technical phrase: it is dropped, not explained.

    Any order of ``pairs`` gives the same mask; ascending (as the entries of consecutive rows
    come) is the fast one.
    """
    lone = np.zeros(len(positions), dtype=bool)
    if not index.expansion_phrases_ or min_expansion_terms <= 1:
        return lone
    codes = index.expansion_codes_.take(positions)
    # Positive codes: held through a technical phrase's everyday phrases of several words (a
    # one-word everyday phrase, negative, is evidence on its own).
    expanded = (codes > 0).nonzero()[0]
    if len(expanded) == 0:
        return lone
    keys = pairs.take(expanded).astype(np.int64) * (len(index.expansion_phrases_) + 1) + codes.take(expanded)
    # Entries of one (pair, phrase) together. Callers pass pairs in ascending order, so the keys
    # come in short unsorted runs, which a stable sort (timsort) merges: the grouping takes about
    # a third of np.unique's time, which sorts by quicksort (bench/README.md).
    lone[expanded] = in_small_groups(keys, min_expansion_terms)
    return lone


def in_small_groups(keys: np.ndarray, min_size: int) -> np.ndarray:
    """Boolean mask over ``keys``: those whose value occurs fewer than ``min_size`` times.

    ``np.unique(keys, return_inverse=True, return_counts=True)`` says the same, by quicksort;
    a stable sort (timsort) merges the short sorted runs the callers' keys come in faster.
    """
    order = keys.argsort(kind="stable")
    ordered = keys.take(order)
    edges = np.empty(len(keys) + 1, dtype=bool)
    edges[0] = edges[-1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=edges[1:-1])
    starts = edges.nonzero()[0]
    counts = starts[1:] - starts[:-1]
    small = np.empty(len(keys), dtype=bool)
    small[order] = (counts < min_size).repeat(counts)
    return small
