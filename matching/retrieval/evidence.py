"""Which of a profile's terms count as evidence of a match, for scoring and explanation alike."""

from __future__ import annotations

import numpy as np

from matching.index.profiles import ProfileIndex

__all__ = ["lone_expansions"]


def lone_expansions(
    index: ProfileIndex,
    min_expansion_terms: int,
    rows: np.ndarray,
    columns: np.ndarray,
    pairs: np.ndarray,
    products: np.ndarray,
) -> np.ndarray:
    """Boolean mask over entries (profile ``rows[i]``, term ``columns[i]``) of (request,
    profile) pair ``pairs[i]`` with a non-zero ``products[i]``: those the profile holds only
    through the everyday phrases of one technical phrase, of which the request meets no other
    term, unless a one-word everyday phrase brought it. One everyday word out of its phrase
    ("ménagère" of "aide ménagère", expanding "aidants") is no evidence of the technical
    phrase: it is dropped, not explained.
    """
    lone = np.zeros(len(rows), dtype=bool)
    if len(index.expansion_keys_) == 0 or min_expansion_terms <= 1:
        return lone
    # Only terms some profile holds through its expansion need the (binary) search.
    hit = np.flatnonzero((products != 0) & index.expanded_terms_[columns])
    sources, whole = index.expansion_source_ids(rows[hit], columns[hit])
    expanded = (sources >= 0) & ~whole  # a one-word everyday phrase is evidence on its own
    if not expanded.any():
        return lone
    keys = pairs[hit][expanded].astype(np.int64) * len(index.expansion_phrases_) + sources[expanded]
    _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    lone[hit[expanded]] = counts[inverse] < min_expansion_terms
    return lone
