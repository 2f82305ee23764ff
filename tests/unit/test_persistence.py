import pytest
from engine_support import AS_OF, FIXTURES

from matching.data.persistence import StaleIndexError, file_checksum, load_matcher, load_or_build, save_matcher

PROFILES = FIXTURES / "engine_profiles.jsonl"


def test_saved_index_round_trips(tmp_path, engine_matcher):
    checksum = file_checksum(PROFILES)
    save_matcher(engine_matcher, tmp_path, checksum)
    loaded = load_matcher(tmp_path, checksum)
    assert loaded.index.n_profiles == engine_matcher.index.n_profiles
    assert [m.expert_id for m in loaded.search("eau potable").matches] == [
        m.expert_id for m in engine_matcher.search("eau potable").matches
    ]


def test_stale_or_corrupt_index_is_refused(tmp_path, engine_matcher):
    save_matcher(engine_matcher, tmp_path, "checksum-a")
    with pytest.raises(StaleIndexError, match="source_sha256"):
        load_matcher(tmp_path, "checksum-b")
    (tmp_path / "index.pickle").write_bytes(b"not a pickle")
    with pytest.raises(StaleIndexError, match="corrupt"):
        load_matcher(tmp_path, "checksum-a")


def test_load_or_build_rebuilds_with_a_log_line(tmp_path):
    lines: list[str] = []
    (tmp_path / "idx").mkdir()
    (tmp_path / "idx" / "manifest.json").write_text("{broken", encoding="utf-8")
    (tmp_path / "idx" / "index.pickle").write_bytes(b"junk")
    matcher = load_or_build(PROFILES, tmp_path / "idx", log=lines.append)
    assert matcher.index.n_profiles == 10
    assert lines and "rebuilding index" in lines[0]
    lines.clear()
    load_or_build(PROFILES, tmp_path / "idx", log=lines.append)
    assert lines == []


def test_a_saved_index_carries_the_language_model_and_detects_the_same(tmp_path):
    """The restricted language model saved next to the index gives the same detections as
    py3langid's own model, and a copy made for another candidate list is ignored."""
    import pickle

    from matching.analysis import language

    texts = [
        "Nous cherchons un appui pour l'eau potable",
        "We are looking for support on waste",
        "Buscamos apoyo para la recolección de basura",
        "Procuramos apoio para o saneamento",
    ]
    language._identifier.cache_clear()
    expected = [language.detect_language(t) for t in texts]
    path = tmp_path / "language-model.pickle"
    language.save_model(path)
    try:
        language.use_saved_model(path)
        language._identifier.cache_clear()
        assert language._load_saved_model() is not None
        assert [language.detect_language(t) for t in texts] == expected
        with open(path, "wb") as fh:  # made for other candidates: ignored
            pickle.dump((("0", ("xx",)), ()), fh)
        assert language._load_saved_model() is None
    finally:
        language.use_saved_model(tmp_path / "absent")
        language._identifier.cache_clear()


def test_a_one_off_match_on_a_saved_index_imports_neither_pandas_nor_wordfreq(tmp_path, engine_matcher):
    """``expe-match match`` on a saved index runs without pandas (nor scikit-learn, nor wordfreq
    while no request word unknown to the index has a look-alike in it to be corrected into):
    their imports were most of a one-off search's time. The command runs in a fresh
    interpreter, which reports the modules it imported."""
    import json
    import subprocess
    import sys

    save_matcher(engine_matcher, tmp_path, file_checksum(PROFILES))
    script = (
        "import json, sys\n"
        "from matching.cli import main\n"
        f"code = main(['match', 'eau potable xylophones', '--profiles', {str(PROFILES)!r},"
        f" '--index-dir', {str(tmp_path)!r}, '--as-of', {AS_OF.isoformat()!r}, '--json'])\n"
        "print(json.dumps([code] + [m for m in ('pandas', 'sklearn', 'wordfreq') if m in sys.modules]))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    *answer, imported = done.stdout.strip().splitlines()
    assert json.loads(imported) == [0]
    results = json.loads("\n".join(answer))["results"]
    from matching import MatchFilters

    expected = engine_matcher.search("eau potable xylophones", MatchFilters(as_of=AS_OF)).matches
    assert [r["expert_id"] for r in results] == [m.expert_id for m in expected]
    assert results[0]["label_end"] == str(engine_matcher.index.metadata_.label_end_[expected[0].row])
