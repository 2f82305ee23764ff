"""Arabic requests: analysis (normalisation, clitics, stemming), glossary, matching, explanations."""

from __future__ import annotations

import csv

import pytest
from engine_support import AS_OF

from matching import MatchFilters
from matching.analysis.arabic import is_arabic_word, normalize_arabic, strip_clitics
from matching.analysis.language import detect_language
from matching.analysis.lexicon import load_glossary
from matching.analysis.text import Analyzer, get_analyzer
from matching.data.resources import data_path


@pytest.mark.parametrize(
    ("written", "normalised"),
    [
        ("مَدْرَسَةٌ", "مدرسه"),  # harakat and tanwin removed (taa marbuta as haa)
        ("مُدَرِّب", "مدرب"),  # shadda removed
        ("هٰذا", "هذا"),  # dagger alef removed
        ("بلـــدية", "بلديه"),  # tatweel removed
        ("أمن إدارة آبار ٱلماء", "امن اداره ابار الماء"),  # alef forms
        ("مسؤول بيئة", "مسوول بييه"),  # hamza carriers
        ("مدينة", "مدينه"),  # taa marbuta
        ("مستشفى", "مستشفي"),  # alef maqsura
        ("سنة ٢٠٢٧ و۲۰۲۸", "سنه 2027 و2028"),  # Arabic-Indic and Persian digits
        ("PLU Adduction d'eau", "PLU Adduction d'eau"),  # Latin text untouched
    ],
)
def test_normalisation_rules(written, normalised):
    assert normalize_arabic(written) == normalised


@pytest.mark.parametrize(
    ("word", "bare"),
    [
        ("المياه", "مياه"),
        ("والمياه", "مياه"),
        ("بالمدينه", "مدينه"),
        ("فالبلديه", "بلديه"),
        ("كالعاده", "عاده"),
        ("للشرب", "شرب"),
        ("وللاطفال", "اطفال"),
        ("وبالمدارس", "مدارس"),
        ("ومدارس", "مدارس"),  # conjunction before a long word
        ("فنادق", "نادق"),  # ... which a prefix test cannot tell from a first letter: same for the glossary
        ("ورد", "ورد"),  # too short for the conjunction to be a clitic
        ("بلديه", "بلديه"),  # lone ب, ل, ك are kept
        ("لجنه", "لجنه"),
        ("ال", "ال"),  # nothing left after the article: kept as it is
    ],
)
def test_clitic_stripping(word, bare):
    assert strip_clitics(word) == bare


def test_spellings_and_clitics_meet_on_one_term():
    analyzer = Analyzer("ar")
    variants = ["المدرسة", "والمدرسه", "بالمَدْرَسَة", "للمدرسة"]
    assert len({tuple(analyzer(v)) for v in variants}) == 1
    # plural and suffixed forms share the stem of the singular (Snowball)
    assert analyzer("الموظفين") == analyzer("موظفون")


def test_vowel_marks_do_not_split_words():
    tokens = Analyzer("ar").tokens("مُدَرَّبون")
    assert len(tokens) == 1 and tokens[0].display == "مُدَرَّبون"


def test_letter_formulas_and_function_words_are_dropped():
    analyzer = Analyzer("ar")
    assert analyzer("السيدات والسادة المحترمون، تحية طيبة وبعد، في هذه التي") == []
    assert analyzer("وتفضلوا بقبول فائق عبارات التقدير والاحترام") == []


def test_latin_words_in_arabic_text_are_kept_folded():
    terms = Analyzer("ar")("نحتاج خبيرا في PLU و Assainissement")
    assert "plu" in terms and "assainissement" in terms


def test_glossary_loads_arabic_with_multiword_and_ambiguous_entries():
    glossary = load_glossary(data_path("glossary.csv"))
    arabic = glossary["ar"]
    assert len(arabic) >= 500
    analyzer = Analyzer("ar")
    # multi-word entries are found whole, written with other spellings and clitics; the
    # longest entry wins ("محطة معالجة المياه العادمة", not "معالجة المياه العادمة")
    terms = analyzer("نريد تحسين الماء الصالح للشرب ومحطة معالجة المياه العادمة")
    hits = arabic.find(terms)
    assert [[e.target for e in hit.entries] for hit in hits] == [["eau potable"], ["station d'épuration"]]
    # Maghreb and Levant words for the same thing lead to the same French
    for word in ("التطهير السائل", "الصرف الصحي"):
        (hit,) = arabic.find(analyzer(word))
        assert [e.target for e in hit.entries] == ["assainissement"]
    # an ambiguous word keeps each of its senses
    (hit,) = arabic.find(analyzer("الحملة"))
    assert {e.target for e in hit.entries} == {"crue", "campagne"}


def test_every_domain_is_reachable_from_arabic():
    glossary = load_glossary(data_path("glossary.csv"))["ar"]
    french_targets = {term for entries in glossary.table_.values() for e in entries for term in e.target_terms}
    french = get_analyzer("fr")
    with open(data_path("domains.csv"), encoding="utf-8", newline="") as fh:
        domains = list(csv.DictReader(fh))
    for domain in domains:
        description = set(french(domain["description"]))
        # most of each domain's description words have an Arabic source
        assert len(description & french_targets) >= 0.6 * len(description), domain["code"]


def test_arabic_request_matches_and_explains_with_arabic_words(engine_matcher):
    text = "نحتاج إلى دعم لتحسين التزويد بالماء الصالح للشرب وحفر الآبار في القرى"
    assert detect_language(text).code == "ar"
    result = engine_matcher.search(text, MatchFilters(as_of=AS_OF), top_k=3)
    assert result.language.code == "ar"
    top = result.matches[0]
    assert top.expert_id == "T-EAU-RURAL"
    glossed = [t for t in top.matched_terms if t.via == "glossary"]
    assert glossed
    # the explanation shows the request's Arabic words and their French rendering
    # ("وحفر الآبار → forages": as written in the request, clitic included)
    assert any(t.source == "وحفر الآبار → forages" and t.term == "forages" for t in glossed)
    assert all(is_arabic_word(t.words) for t in glossed)


def test_arabic_request_mixed_with_french_words(engine_matcher):
    mixed = "نطلب خبيرا لمدينتنا في la numérisation des registres d'état civil"
    result = engine_matcher.search(mixed, MatchFilters(as_of=AS_OF), top_k=3)
    assert result.language.code == "ar"
    assert result.matches[0].expert_id == "T-GOUV-ETATCIVIL"
    # the French words count, read as French from inside the Arabic request
    sources = {t.source for t in result.matches[0].matched_terms if t.via == "cognate"}
    assert {"numérisation", "registres"} <= sources


def test_arabic_words_missed_by_the_glossary_are_not_read_as_french(engine_matcher):
    # An unknown Arabic word must not be transliterated and "corrected" into a French word.
    query = engine_matcher.query_analyzer.analyse("زقزقة", language="ar")
    assert query.weights == {}
