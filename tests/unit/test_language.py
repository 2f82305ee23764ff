"""Language detection: the block scan gives py3langid's own answers."""

import json
import multiprocessing

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from py3langid.langid import MODEL_FILE, LanguageIdentifier

from matching.analysis import language
from matching.analysis.language import CANDIDATES, DETECTION_CHARS, SCANNER_DEPTH, _identifier, detect_languages
from matching.data.resources import data_path

EDGE_CASES = [
    "",
    "a",
    "é",
    "ab",
    "   ",
    "12 345",
    "MAIRIE DE TUNIS : GESTION DES DÉCHETS",
    "مرحبا، نطلب دعمكم في إدارة النفايات الصلبة",
    "Señor Presidente, le escribimos sobre el relleno sanitario",
    "fusin de comunes",
    "x" * 500,
    "\ud800 lone surrogate",
]


def _stock() -> LanguageIdentifier:
    """py3langid's identifier restricted the package's way (``set_languages``)."""
    stock = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    stock.set_languages(list(CANDIDATES))
    return stock


def _texts() -> list[str]:
    with open(data_path("requests.jsonl"), encoding="utf-8") as fh:
        requests = [json.loads(line)["text"] for line in fh]
    # Whole openings, and cuts at every length around the scanner's depth.
    return EDGE_CASES + [t[:DETECTION_CHARS] for t in requests] + [t[:n] for t in requests[:20] for n in range(1, 9)]


STOCK = _stock()


def test_block_scan_classifies_as_py3langid():
    texts = _texts()
    assert _identifier().classify_many(texts) == [STOCK.classify(t) for t in texts]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=60), min_size=1, max_size=8))
def test_block_scan_classifies_any_text_as_py3langid(texts):
    assert _identifier().classify_many(texts) == [STOCK.classify(t) for t in texts]


def test_detect_languages_reads_each_opening_alone():
    texts = _texts()
    assert detect_languages(texts) == [detect_languages([t])[0] for t in texts]
    assert detect_languages(["", "  ", "123"]) == [detect_languages([""])[0]] * 3
    assert detect_languages(["", "123"])[0].code == "fr"


def test_scanner_state_depends_on_its_last_bytes_only():
    """Every state of the scanner is reached from the start state in at most SCANNER_DEPTH
    bytes (breadth-first over the automaton): the block scan relies on it."""
    identifier = _identifier()
    next_state = np.asarray(memoryview(identifier.tk_nextmove))
    row_start = np.asarray(identifier._rowbase)
    depth = np.full(len(row_start), -1)
    depth[0] = 0
    frontier = np.array([0])
    level = 0
    while len(frontier):
        level += 1
        reached = np.unique(next_state[(row_start[frontier][:, None] + np.arange(256)).ravel()])
        frontier = reached[depth[reached] < 0]
        depth[frontier] = level
    assert (depth >= 0).all()
    assert depth.max() == SCANNER_DEPTH


def _model_arrays():
    identifier = _identifier()
    return identifier.nb_ptc, identifier.nb_pc, np.asarray(identifier.tk_nextmove), np.asarray(identifier.tk_output)


def test_a_model_loaded_meanwhile_is_the_packages(monkeypatch):
    """Loaded from a forked child's copy while the block runs: the same model, the same answers."""
    expected = _model_arrays()
    texts = _texts()
    answers = [STOCK.classify(t) for t in texts]
    loads = []
    real_load = language._load_saved_model
    monkeypatch.setattr(language, "_load_saved_model", lambda: loads.append(real_load()) or loads[-1])
    language._identifier.cache_clear()
    try:
        with language.loaded_meanwhile():
            assert not language._identifier.cache_info().currsize  # loaded by the child meanwhile
        assert language._identifier.cache_info().currsize == 1
        assert len(loads) == 1 and loads[0] is not None  # from the child's copy
        found = _model_arrays()
        assert all(np.array_equal(a, b) for a, b in zip(found, expected, strict=True))
        assert _identifier().classify_many(texts) == answers
    finally:
        language._identifier.cache_clear()


def test_a_failed_child_leaves_the_model_loaded_here(monkeypatch):
    def fail(path):
        raise OSError("disk full")

    monkeypatch.setattr(language, "save_model", fail)  # the forked child inherits it
    language._identifier.cache_clear()
    try:
        with language.loaded_meanwhile():
            pass
        assert language._identifier.cache_info().currsize == 1
        assert _identifier().classify_many(EDGE_CASES) == [STOCK.classify(t) for t in EDGE_CASES]
    finally:
        language._identifier.cache_clear()


def test_without_a_temporary_folder_the_model_is_loaded_here(monkeypatch):
    def unwritable(*args, **kwargs):
        raise PermissionError("read-only file system")

    monkeypatch.setattr(language.tempfile, "TemporaryDirectory", unwritable)
    language._identifier.cache_clear()
    try:
        with language.loaded_meanwhile():
            assert not multiprocessing.active_children()  # nothing forked
        assert language._identifier.cache_info().currsize == 1
        assert _identifier().classify_many(EDGE_CASES) == [STOCK.classify(t) for t in EDGE_CASES]
    finally:
        language._identifier.cache_clear()


def test_a_failure_in_the_block_leaves_no_model_and_no_child():
    language._identifier.cache_clear()
    try:
        with pytest.raises(ValueError, match="bad profiles"), language.loaded_meanwhile():
            raise ValueError("bad profiles")
        assert not language._identifier.cache_info().currsize
        assert not multiprocessing.active_children()
    finally:
        language._identifier.cache_clear()
