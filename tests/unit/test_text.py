from collections import Counter
from itertools import chain

import pytest
from hypothesis import given
from hypothesis import strategies as st

from matching.analysis.text import Analyzer, fold, split_texts


def test_elisions_with_straight_and_typographic_apostrophes():
    a = Analyzer()
    assert a("l'eau") == a("l’eau") == a("eau")
    assert a("d'assainissement qu'elle jusqu'au") == a("assainissement")


def test_accents_and_case_are_folded():
    a = Analyzer()
    assert a("Déchets MÉNAGERS") == a("dechets menagers")
    assert fold("Œuvre à Île-de-France") == "oeuvre a ile-de-france"


def test_stemming_conflates_inflections():
    a = Analyzer()
    assert a("inondations") == a("inondation")
    assert a("décharges") == a("décharge")
    assert a("participatif") == a("participative")


def test_stop_words_removed_but_content_words_kept():
    a = Analyzer()
    assert a("les habitants de la commune") == a("habitants commune")
    # 'état' is in generic French stop lists but matters here (état civil).
    assert "etat" in a("état civil")


def test_acronyms_and_numbers_are_kept():
    a = Analyzer()
    terms = a("Révision du PLU et SIG en 2024, phase 2")
    assert {"plu", "sig", "2024", "2"} <= set(terms)
    # An acronym that spells a stop word is still kept.
    assert "est" in a("Région EST")


def test_tokens_keep_display_form():
    tokens = Analyzer().tokens("Décharges sauvages")
    assert [t.display for t in tokens] == ["décharges", "sauvages"]
    assert [t.surface for t in tokens] == ["decharges", "sauvages"]


@given(st.text(max_size=300))
def test_analysis_never_crashes_and_terms_are_ascii(text):
    terms = Analyzer()(text)
    assert all(t and t.isascii() and t == t.lower() for t in terms)


@given(st.text(max_size=200))
def test_folding_is_idempotent(text):
    assert fold(fold(text)) == fold(text)


def test_short_misspelt_french_queries_are_read_as_french():
    """A few misspelt French words fool the detector ("fusin de comunes" reads as Spanish);
    a short request whose words are mostly French (or misspellings of the profiles' words) is
    French, while a short request in a translated language stays in it."""
    from matching import build_matcher, detect_language, load_profiles
    from matching.data.resources import data_path

    analyzer = build_matcher(load_profiles(data_path("profiles.jsonl"))).query_analyzer
    assert detect_language("fusin de comunes").code == "es"
    assert analyzer.analyse("fusin de comunes").language.code == "fr"
    assert analyzer.analyse("recolección de basura").language.code == "es"
    assert detect_language("amende stationement").code == "nl"
    assert analyzer.analyse("amende stationement").language.code == "fr"


def _split_one_by_one(texts):
    words, ids, rows = split_texts(texts)
    written = list(words)
    by_text = [[] for _ in texts]
    for word, row in zip(ids.tolist(), rows.tolist(), strict=True):
        by_text[row].append(written[word])
    return words, by_text


def test_split_texts_splits_each_text_as_analyzer_words():
    texts = [
        "L'eau d’assainissement qu'elle jusqu'au PLU",
        "_d'eau 3d'eau l'l'eau lʼeau abʼ x",  # underscore, digit, U+02BC (a letter)
        "مُدَرَّب l'eau",  # Arabic vowel marks belong to words
        "",
        "a\x00b\u00a0l'x\nÎle-de-France ´x l´eau",  # NFKC turns U+00A0 and ´ into spaces
    ]
    words, by_text = _split_one_by_one(texts)
    assert by_text == [Analyzer.words(t) for t in texts]
    assert words == dict(Counter(w for t in texts for w in Analyzer.words(t)))


@given(st.lists(st.text(alphabet="ablcdjqusmnt'’ʼ‘`´ _-3\x00\u064bé\u0301ÉLQDx\n\u00a0", max_size=30), min_size=1))
def test_split_texts_agrees_with_analyzer_words(texts):
    words, by_text = _split_one_by_one(texts)
    assert by_text == [Analyzer.words(t) for t in texts]
    assert list(words.items()) == list(Counter(w for t in texts for w in Analyzer.words(t)).items())


@pytest.mark.parametrize("chunk", [1, 2, 3])
def test_split_texts_in_chunks_splits_as_at_once(monkeypatch, chunk):
    """Texts are split a chunk at a time (bounded memory): chunk boundaries change nothing,
    neither the words' order of first occurrence nor each occurrence's text, with or without
    a text holding the break character in a chunk."""
    import matching.analysis.text as text_module

    texts = ["l'eau potable", "", "eau\x00 usée", "la voirie, l'eau", "x", "voirie l'eau", "l'eau"]
    at_once = split_texts(texts)
    monkeypatch.setattr(text_module, "_SPLIT_CHUNK", chunk)
    words, ids, rows = split_texts(texts)
    assert list(words.items()) == list(at_once[0].items())
    assert ids.tolist() == at_once[1].tolist() and rows.tolist() == at_once[2].tolist()
    assert _split_one_by_one(texts)[1] == [Analyzer.words(t) for t in texts]


def test_top_words_are_wordfreqs_top_n_list():
    from wordfreq import top_n_list

    from matching.analysis.text import _top_words

    for language in ("en", "es", "pt", "ar", "fr"):
        assert _top_words(language, 250) == top_n_list(language, 250), language
    assert _top_words("en", 3000) == top_n_list("en", 3000)


@given(st.text(max_size=80))
def test_transliterate_is_unidecode(text):
    from unidecode import unidecode

    from matching.analysis.text import transliterate

    assert transliterate(text) == unidecode(text)


def _tokens_word_by_word(analyzer: Analyzer, text: str):
    return list(chain.from_iterable(analyzer.word(w) for w in Analyzer.words(text)))


@given(st.text(alphabet="ablcdjqusmnt'’ʼ‘`´ _-3\x00\u064bé\u0301ÉLQDx\n\u00a0\u00a8\ufb01\uff21\u2002", max_size=60))
def test_tokens_piece_by_piece_are_the_tokens_word_by_word(text):
    """Analyzer.tokens caches whitespace-separated pieces; what NFKC turns into white space
    (U+00A0, U+00A8, U+2002) or letters (ligature, full width) must not change its tokens."""
    analyzer = Analyzer()
    first = analyzer.tokens(text)  # cold, then warm
    assert first == analyzer.tokens(text) == _tokens_word_by_word(analyzer, text)


def test_tokens_piece_by_piece_after_the_caches_are_emptied():
    analyzer = Analyzer("ar")
    analyzer.max_cache_words = 3
    texts = ["L'eau d’assainissement qu'elle jusqu'au PLU", "مُدَرَّب l'eau", "Île-de-France ´x l´eau ﬁn"] * 3
    assert [analyzer.tokens(t) for t in texts] == [_tokens_word_by_word(Analyzer("ar"), t) for t in texts]
