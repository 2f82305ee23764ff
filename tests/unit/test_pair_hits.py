"""The hits of (request, profile) pairs: selected, joined, and read by the explanation as the
ranking found them."""

import numpy as np
import pytest
from engine_support import AS_OF

from matching import MatchFilters
from matching.retrieval.evidence import PairHits, select_pairs


def _hits(lengths: list[int], start: int = 0) -> PairHits:
    """Pairs with ``lengths`` hits each, numbered from ``start`` in every field."""
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    values = np.arange(start, start + bounds[-1])
    return PairHits(bounds, values.astype(np.int32), values.astype(np.float32), values)


def _pairs_of(hits: PairHits) -> list[list[int]]:
    return [hits.positions[lo:hi].tolist() for lo, hi in zip(hits.bounds[:-1], hits.bounds[1:], strict=True)]


def test_select_gives_the_pairs_asked_in_their_order_and_none_for_minus_one():
    hits = _hits([2, 0, 3, 1])  # pairs [0, 1], [], [2, 3, 4], [5]
    picked = hits.select(np.array([[2, -1], [0, 3], [1, 2]]))
    assert _pairs_of(picked) == [[2, 3, 4], [], [0, 1], [5], [], [2, 3, 4]]
    assert picked.columns.tolist() == picked.positions.tolist()
    assert picked.products.dtype == np.float32


def test_concatenate_puts_parts_one_after_the_other():
    joined = PairHits.concatenate([_hits([1, 2]), PairHits.empty(2), _hits([0, 3], start=3)])
    assert _pairs_of(joined) == [[0], [1, 2], [], [], [], [3, 4, 5]]
    assert joined.n_pairs == 6
    assert PairHits.concatenate([]).n_pairs == 0


def test_select_pairs_reads_each_requests_pairs_in_its_part():
    """Three requests of 3 candidate pairs each, in two parts (the re-ranking's chunks): the
    selection is that of the joined parts."""
    parts = [_hits([1, 0, 2, 3, 0, 1]), _hits([2, 2, 0], start=7)]
    pairs = np.array([[2, 0], [5, -1], [6, 7]])  # positions among the 9 pairs, row-major
    picked = select_pairs(parts, pairs)
    assert _pairs_of(picked) == _pairs_of(PairHits.concatenate(parts).select(pairs))
    assert _pairs_of(picked) == [[1, 2], [0], [6], [], [7, 8], [9, 10]]
    assert select_pairs([], np.zeros((0, 4), dtype=int)).n_pairs == 0


@pytest.mark.parametrize("max_per_holder", [None, 1])
def test_explanation_from_the_rankings_hits_is_that_of_its_pairs(engine_matcher, max_per_holder):
    """Each match's terms, read from the re-ranking's hits, are the top contributions of its
    (request, profile) pair gathered afresh (the explanation's former way)."""
    texts = ["eau potable et assainissement", "décharge sauvage fumée", "zzzz", "budget participatif"]
    results = engine_matcher.search_many(texts, MatchFilters(as_of=AS_OF), top_k=6, max_per_holder=max_per_holder)
    analyzer = engine_matcher.query_analyzer
    vectors = analyzer.vectorize([r.query for r in results])
    query_rows = np.array([b for b, r in enumerate(results) for _ in r.matches])
    profile_rows = np.array([m.row for r in results for m in r.matches])
    assert len(profile_rows) >= 5 and max(map(len, (m.matched_terms for r in results for m in r.matches))) > 1
    shown = [m.matched_terms for r in results for m in r.matches]
    pairs = list(engine_matcher._contributions(vectors, query_rows, profile_rows))
    assert [p[0] for p in pairs] == list(range(len(profile_rows)))
    display = engine_matcher.index.display_
    for (_, columns, values, expanded), terms in zip(pairs, shown, strict=True):
        assert [t.contribution for t in terms] == [round(v, 4) for v in values]
        assert [t.stem for t in terms] == [str(engine_matcher.index.terms_[c]) for c in columns]
        assert [t.term for t in terms] == [e or display[c] for c, e in zip(columns, expanded, strict=True)]
