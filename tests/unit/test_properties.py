"""Property-based tests (hypothesis): analysis, loaders and scoring never crash on arbitrary input.

Also: the analysis caches stay bounded however much new vocabulary comes in.
"""

from __future__ import annotations

import random
import string
import threading

from engine_support import AS_OF
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.analysis.text import Analyzer, fold, get_analyzer
from matching.data.loading import DataError, iter_request_blocks, load_profiles, load_requests
from matching.retrieval.filters import MatchFilters
from matching.retrieval.search import SearchQuery, clean_text, run_search

# Any code point, lone surrogates included (what a JSON "\ud800" escape can produce).
ANY_CHAR = st.characters(blacklist_categories=())
NO_FIXTURE_CHECK = [HealthCheck.function_scoped_fixture]


# ---------------------------------------------------------------------------- text analysis
@given(st.text(max_size=300))
def test_tokens_never_crash_and_agree_with_terms(text):
    analyzer = Analyzer()
    tokens = analyzer.tokens(text)
    assert [t.term for t in tokens] == Analyzer()(text)
    for token in tokens:
        assert token.term and token.term.isascii() and token.surface.isascii()
        assert token.surface == fold(token.surface)


@given(st.lists(st.text(max_size=60), min_size=1, max_size=8))
def test_a_tiny_cache_gives_the_same_analysis(texts):
    """Emptying the cache between texts is invisible: same tokens as a never-emptied analyser."""
    small, big = Analyzer(), Analyzer()
    small.max_cache_words = 3
    for text in texts:
        tokens = small.tokens(text)
        assert tokens == big.tokens(text)
        assert small(text) == big(text)


@given(st.text(alphabet=ANY_CHAR, max_size=200))
def test_clean_text_makes_any_string_encodable(text):
    cleaned = clean_text(text)
    cleaned.encode("utf-8")
    assert Analyzer()(cleaned) == Analyzer()(clean_text(cleaned))


@given(st.text(max_size=200))
def test_folding_is_idempotent_and_ascii(text):
    folded = fold(text)
    assert fold(folded) == folded and folded.isascii()


# ---------------------------------------------------------------------------- loaders
@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000), st.sampled_from([None, "upload.csv", "upload.jsonl", "upload.txt"]))
def test_loaders_raise_only_data_error_on_arbitrary_bytes(data, name):
    for load in (load_requests, load_profiles, lambda d, name: list(iter_request_blocks(d, 7, name))):
        try:
            load(data, name=name)
        except DataError as exc:
            assert exc.problems and all(p.message for p in exc.problems)
            str(exc).encode("utf-8")  # the message can always be shown


CSV_CELL = st.text(alphabet=st.sampled_from(list(string.printable) + ["é", "’", "\x00", "\ud800", "\x85"]), max_size=30)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.lists(CSV_CELL, min_size=1, max_size=4), min_size=1, max_size=6),
    st.sampled_from([",", ";", "\t"]),
    st.sampled_from(["utf-8", "cp1252", "utf-16", "latin-1"]),
)
def test_loaders_raise_only_data_error_on_csv_like_text(rows, separator, encoding):
    header = separator.join(["id", "text"]) + "\n"
    body = header + "".join(separator.join(r) + "\n" for r in rows)
    data = body.encode(encoding, "replace") if encoding != "utf-8" else body.encode("utf-8", "surrogatepass")
    try:
        frame = load_requests(data)
    except DataError:
        return
    assert frame["id"].is_unique and frame["text"].str.len().min() > 0
    for value in frame["text"]:
        value.encode("utf-8")


JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(alphabet=ANY_CHAR, max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(["id", "text", "language", "country", "received", "domains", "holder", "label_start"]),
            JSON_VALUE,
        ),
        min_size=1,
        max_size=5,
    )
)
def test_loaders_raise_only_data_error_on_arbitrary_json_records(records):
    import json

    data = "".join(json.dumps(r) + "\n" for r in records).encode()
    for load in (load_requests, load_profiles):
        try:
            frame = load(data, name="x.jsonl")
        except DataError:
            continue
        for value in frame.astype(str).to_numpy().ravel():
            value.encode("utf-8")  # accepted text is always storable (no lone surrogate)


# ---------------------------------------------------------------------------- scores
@settings(max_examples=150, deadline=None, suppress_health_check=NO_FIXTURE_CHECK)
@given(
    text=st.text(alphabet=ANY_CHAR, min_size=1, max_size=400), include_expired=st.booleans(), top_k=st.integers(1, 20)
)
def test_scores_stay_in_the_unit_interval(engine_matcher, text, include_expired, top_k):
    query = SearchQuery(text=text, top_k=top_k, as_of=AS_OF, include_expired=include_expired)
    outcome = run_search(engine_matcher, query)
    scores = [r.score for r in outcome.results]
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert scores == sorted(scores, reverse=True) and len(scores) <= top_k
    assert [r.rank for r in outcome.results] == list(range(1, len(scores) + 1))


@settings(max_examples=40, deadline=None, suppress_health_check=NO_FIXTURE_CHECK)
@given(texts=st.lists(st.text(min_size=1, max_size=200), min_size=1, max_size=6))
def test_block_scores_stay_in_the_unit_interval(engine_matcher, texts):
    results = engine_matcher.search_many(texts, MatchFilters(as_of=AS_OF), top_k=10)
    assert len(results) == len(texts)
    for result in results:
        assert all(0.0 <= m.score <= 1.0 for m in result.matches)


# ---------------------------------------------------------------------------- bounded caches
def _random_words(rng: random.Random, n: int) -> str:
    return " ".join("".join(rng.choices(string.ascii_lowercase + "éèàç", k=rng.randint(5, 12))) for _ in range(n))


def test_analyzer_cache_stays_bounded_on_random_words():
    default = Analyzer.max_cache_words
    analyzer = Analyzer()
    analyzer.max_cache_words = 1000
    rng = random.Random(6)
    for _ in range(400):
        text = _random_words(rng, 50)  # 20,000 words, nearly all new
        tokens = analyzer.tokens(text) if rng.random() < 0.5 else None
        analyzer(text)
        assert len(analyzer._cache) <= 1000
        if tokens:
            assert tokens == Analyzer().tokens(text)
    assert Analyzer.max_cache_words == default  # the bound is per instance


def test_query_caches_stay_bounded_and_transparent(engine_matcher, monkeypatch):
    query_analyzer = engine_matcher.query_analyzer
    default = type(query_analyzer).max_typo_cache
    french = get_analyzer("fr")
    monkeypatch.setattr(query_analyzer, "max_typo_cache", 300)
    monkeypatch.setattr(french, "max_cache_words", 300)
    probe = "réhabilitation de la décharge sauvage et adduction d'eau potabel en milieu rurale"
    before = [(m.expert_id, round(m.score, 6)) for m in engine_matcher.search(probe, top_k=5).matches]
    rng = random.Random(7)
    errors: list[BaseException] = []

    def flood(seed: int) -> None:
        local = random.Random(seed)
        try:
            for _ in range(150):
                engine_matcher.search(_random_words(local, 30), top_k=3)
                assert len(query_analyzer.typo_cache_) <= 300 + 30 * 4 * 2
                assert len(french._cache) <= 300 + 30 * 4 * 2
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    # Several threads share the analysers, as the API's worker threads do.
    threads = [threading.Thread(target=flood, args=(rng.randrange(1 << 30),)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    assert len(query_analyzer.typo_cache_) <= 300 + 30 * 4 * 2
    after = [(m.expert_id, round(m.score, 6)) for m in engine_matcher.search(probe, top_k=5).matches]
    assert after == before  # emptied caches change nothing but memory
    assert type(query_analyzer).max_typo_cache == default
