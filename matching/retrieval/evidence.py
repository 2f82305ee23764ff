"""Which of a profile's terms count as evidence of a match, for scoring and explanation alike."""

from __future__ import annotations

import numpy as np

from matching.index.profiles import ProfileIndex

__all__ = ["in_small_groups", "lone_expansions"]


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
    expanded = np.flatnonzero(codes > 0)
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
    order = np.argsort(keys, kind="stable")
    ordered = keys.take(order)
    edges = np.empty(len(keys) + 1, dtype=bool)
    edges[0] = edges[-1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=edges[1:-1])
    counts = np.diff(np.flatnonzero(edges))
    small = np.empty(len(keys), dtype=bool)
    small[order] = np.repeat(counts < min_size, counts)
    return small
