"""Request analysis gives the same analysed query whatever its caches hold."""

import copy
import json
from pathlib import Path

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from matching.analysis.query import AnalysedQuery, QueryAnalyzer, _idf_mass
from matching.analysis.text import Analyzer

DEV_REQUESTS = Path(__file__).resolve().parents[2] / "data" / "requests.jsonl"


def _described(query: AnalysedQuery):
    weights = [(column, type(weight), weight) for column, weight in query.weights.items()]
    return query.language, weights, list(query.origins.items()), list(query.own_counts.items()), query.evidence_terms


def _fresh(analyzer: QueryAnalyzer) -> QueryAnalyzer:
    return copy.copy(analyzer).fit(analyzer.index_)  # fit empties the caches


def test_analysed_queries_do_not_depend_on_the_caches(engine_matcher, monkeypatch):
    """Each request analysed cold, then warm, with caches emptied all along and the requests in
    another order: the same weights, origins and counts, in the same order."""
    with open(DEV_REQUESTS, encoding="utf-8") as fh:
        requests = [(r["text"], r.get("language")) for r in map(json.loads, fh)]
    assert {language for _, language in requests} >= {"fr", "en", "es", "pt", "ar"}
    reference = _fresh(engine_matcher.query_analyzer)
    expected = {request: _described(reference.analyse(*request)) for request in requests}
    vias = {origin.via for _, _, origins, _, _ in expected.values() for _, origin in origins}
    assert vias >= {"typo", "glossary", "cognate", "thesaurus"}

    warm = _fresh(engine_matcher.query_analyzer)
    for request in requests[::-1] + requests:
        assert _described(warm.analyse(*request)) == expected[request]

    monkeypatch.setattr(Analyzer, "max_cache_words", 7)
    monkeypatch.setattr(QueryAnalyzer, "max_typo_cache", 5)
    small = _fresh(engine_matcher.query_analyzer)
    for request in requests[::-1] + requests:
        assert _described(small.analyse(*request)) == expected[request]


@given(
    st.dictionaries(st.integers(0, 49), st.floats(0.0, 50.0, allow_nan=False), max_size=60),
    st.lists(st.floats(0.0, 12.0, width=32), min_size=50, max_size=50),
)
def test_idf_mass_is_the_python_sum(weights, idf_values):
    idf = np.array(idf_values, dtype=np.float32)
    expected = sum(w * idf[c] for c, w in weights.items())
    found = _idf_mass(weights, idf)
    assert type(found) is type(expected)
    assert found == expected
