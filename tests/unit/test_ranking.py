from datetime import date

import numpy as np
import pytest
from engine_support import AS_OF

from matching import MatchFilters


def top_ids(matcher, text, **filters):
    result = matcher.search(text, MatchFilters(**{"as_of": AS_OF, **filters}), top_k=5)
    return [m.expert_id for m in result.matches]


def test_near_neighbours_are_told_apart(engine_matcher):
    assert top_ids(engine_matcher, "adduction d'eau potable pour nos villages, forages")[0] == "T-EAU-RURAL"
    assert top_ids(engine_matcher, "station d'épuration des eaux usées")[0] == "T-EAU-STEP"
    assert top_ids(engine_matcher, "tournées de collecte des ordures ménagères")[0] == "T-DECH-COLLECTE"
    assert top_ids(engine_matcher, "fermer la décharge à ciel ouvert")[0] == "T-DECH-DECHARGE"


def test_expired_labels_are_excluded_unless_asked(engine_matcher):
    text = "réhabilitation de décharges municipales"
    assert "T-DECH-OLD" not in top_ids(engine_matcher, text)
    assert "T-DECH-OLD" in top_ids(engine_matcher, text, include_expired=True)
    # Labels not yet started are never returned.
    assert top_ids(engine_matcher, "budget participatif", as_of=date(2023, 1, 1)) == []


def test_filters(engine_matcher):
    text = "eau potable assainissement décharge"
    assert set(top_ids(engine_matcher, text, domains=["DECH"])) <= {"T-DECH-COLLECTE", "T-DECH-DECHARGE"}
    assert top_ids(engine_matcher, text, countries=["MA"]) == ["T-EAU-STEP"]
    assert set(top_ids(engine_matcher, text, languages=["es"])) == {"T-EAU-RURAL"}
    assert top_ids(engine_matcher, text, holder_types=["departement"]) == ["T-DECH-DECHARGE"]
    assert top_ids(engine_matcher, text, regions=["grand est"]) == ["T-DECH-DECHARGE"]


def test_scores_are_cosines_in_unit_interval_and_descending(engine_matcher):
    result = engine_matcher.search("eau potable", MatchFilters(as_of=AS_OF), top_k=10)
    scores = [m.score for m in result.matches]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 < s <= 1.0 for s in scores)
    assert [m.rank for m in result.matches] == list(range(1, len(scores) + 1))


def test_matched_terms_are_readable_words(engine_matcher):
    match = engine_matcher.search("Restauration du patrimoine", MatchFilters(as_of=AS_OF)).matches[0]
    assert match.expert_id == "T-CULT-PATRIMOINE"
    terms = {t.term for t in match.matched_terms}
    assert {"restauration", "patrimoine"} <= terms


def test_typos_are_mapped_onto_the_vocabulary(engine_matcher):
    result = engine_matcher.search("rehabilitaton des dechargs sauvages", MatchFilters(as_of=AS_OF))
    assert result.matches[0].expert_id == "T-DECH-DECHARGE"
    vias = {t.via for t in result.matches[0].matched_terms}
    assert "typo" in vias


def test_foreign_requests_are_translated(engine_matcher):
    result = engine_matcher.search(
        "We need support to close an open dump and rehabilitate the landfill site", MatchFilters(as_of=AS_OF)
    )
    assert result.language.code == "en"
    assert result.matches[0].expert_id in {"T-DECH-DECHARGE"}
    assert any(t.via == "glossary" for t in result.matches[0].matched_terms)


def test_cap_per_holder(engine_matcher):
    result = engine_matcher.search("eau", MatchFilters(as_of=AS_OF), top_k=5, max_per_holder=1)
    holders = [engine_matcher.index.metadata_.holders_[m.row] for m in result.matches]
    assert len(holders) == len(set(holders))


def test_batch_of_requests_equals_single_requests(engine_matcher):
    texts = ["eau potable", "décharge sauvage", "état civil", "zzzz qqqq"]
    many = engine_matcher.search_many(texts, MatchFilters(as_of=AS_OF), top_k=3)
    for text, result in zip(texts, many, strict=True):
        single = engine_matcher.search(text, MatchFilters(as_of=AS_OF), top_k=3)
        assert [m.expert_id for m in result.matches] == [m.expert_id for m in single.matches]
        assert np.allclose([m.score for m in result.matches], [m.score for m in single.matches])
    assert many[3].matches == []


def test_top_k_must_be_positive(engine_matcher):
    with pytest.raises(ValueError):
        engine_matcher.search("eau", top_k=0)


def test_contributions_match_a_reference_elementwise_product(engine_matcher):
    texts = ["eau potable et assainissement", "décharge sauvage", "budget participatif des habitants"]
    analyzer = engine_matcher.query_analyzer
    vectors = analyzer.vectorize([analyzer.analyse(t, "fr") for t in texts])
    query_rows = np.array([0, 0, 1, 2, 2])
    profile_rows = np.array([0, 1, 3, 6, 2])
    reference = vectors.to_csr()[query_rows].multiply(engine_matcher.index.matrix_[profile_rows]).toarray()
    for pair, columns, values, _expanded in engine_matcher._contributions(vectors, query_rows, profile_rows):
        expected = np.sort(reference[pair][reference[pair] > 0])[::-1][: engine_matcher.explain_terms]
        assert np.allclose(values, expected)
        assert np.allclose(reference[pair][columns], values)


def test_query_vectors_count_words_and_leave_idf_to_the_index(engine_matcher):
    """idf is counted once, in the index's BM25 impacts: a request term weighs 1 + log(count)."""
    analyzer = engine_matcher.query_analyzer
    vectors = analyzer.vectorize([analyzer.analyse(t, "fr") for t in ["eau eau potable", "zzzz"]])
    vocabulary = engine_matcher.index.vocabulary_
    row = vectors.to_csr()[0].toarray().ravel()
    assert row[vocabulary["eau"]] == pytest.approx(1.0 + np.log(2.0))
    assert row[vocabulary["potabl"]] == pytest.approx(1.0)
    assert vectors.rows(1, 2).nnz == 0


def test_index_entries_are_bm25_impacts(engine_matcher):
    """Each entry is ``idf * tf (k1 + 1) / (tf + k1 (1 - b + b len / avg_len))``, idf as Lucene's."""
    index = engine_matcher.index
    n = index.n_profiles
    df = np.bincount(index.matrix_.indices, minlength=index.n_terms)
    assert np.allclose(index.idf_, np.log1p((n - df + 0.5) / (df + 0.5)), rtol=1e-5)
    # An impact never exceeds idf * (k1 + 1), BM25's saturation ceiling.
    row_of = np.repeat(np.arange(n), np.diff(index.matrix_.indptr))
    assert (index.matrix_.data <= index.idf_[index.matrix_.indices] * (index.k1 + 1) + 1e-5).all()
    assert (index.matrix_.data > 0).all() and len(row_of) == index.matrix_.nnz


def test_candidates_from_selective_terms_are_scored_exactly():
    """Pruning frequent terms from the first stage changes which profiles are tried, never
    their scores: every returned score is the request's exact BM25 score with that profile."""
    from matching import Matcher, build_matcher, load_profiles
    from matching.data.resources import data_path
    from matching.retrieval.candidates import without_terms as _without_terms

    filters = MatchFilters(as_of=AS_OF)
    pruned = build_matcher(
        load_profiles(data_path("profiles.jsonl")),
        use_domain_prior=False,
        feedback_weight=0.0,
        first_stage_max_df=0.12,
        calibration=None,
        min_expansion_terms=1,
    )
    full = Matcher(
        pruned.index,
        pruned.query_analyzer,
        feedback_weight=0.0,
        rerank_depth=pruned.index.n_profiles,
        first_stage_max_df=1.0,
        calibration=None,
        min_expansion_terms=1,
    )
    texts = [
        "Notre commune souhaite améliorer la gestion de l'eau potable et de l'assainissement des quartiers",
        "formation des agents de la mairie au budget et à la fiscalité locale",
        "commune",
    ]
    analyzer = pruned.query_analyzer
    vectors = analyzer.vectorize([analyzer.analyse(t, "fr") for t in texts])
    frequent = pruned._allowed(filters)[2]
    first_stage = _without_terms(vectors, frequent)
    assert first_stage.nnz < vectors.nnz  # the first stage did drop frequent terms
    assert np.diff(first_stage.indptr)[2] > 0  # a request of frequent words only keeps them
    exact = (vectors.to_csr() @ pruned.index.matrix_.T).toarray()
    for b, (p, f) in enumerate(zip(pruned.search_many(texts, filters), full.search_many(texts, filters), strict=True)):
        assert p.matches
        assert np.allclose([m.score for m in p.matches], exact[b, [m.row for m in p.matches]], atol=1e-5)
        assert p.matches[0].expert_id == f.matches[0].expert_id


@pytest.mark.parametrize("seed", range(4))
def test_best_columns_are_each_rows_highest_scores(seed):
    """The sampled floor leaves out no column of a row's k best: the same columns as a full
    partition, for rows with many scores, with fewer non-zero scores than k (the floor is 0:
    the whole row is partitioned) and with a score shared by the whole sample."""
    from matching.retrieval.candidates import best_columns

    rng = np.random.default_rng(seed)
    k, n = 50, 4000
    scores = rng.gamma(1.0, size=(6, n)).astype(np.float32)
    scores[scores < 0.7] = 0.0  # as first-stage scores: many profiles share no selective term
    scores[1, :30] = rng.uniform(1.0, 2.0, 30)
    scores[1, 30:] = 0.0  # 30 non-zero scores, fewer than k
    scores[2] = 0.0
    scores[2, ::8] = 1.0  # the sample all alike; the k best of the row hold only 1.0
    scores[2, 1] = 2.0
    best = best_columns(scores, k)
    assert best.shape == (6, k)
    for row, columns in zip(scores, best, strict=True):
        assert len(set(columns.tolist())) == k
        threshold = np.sort(row)[-k]
        assert (row[columns] >= threshold).all()  # the k highest (ties at the k-th: any of them)
        assert np.array_equal(np.sort(row[columns]), np.sort(row)[-k:])
    assert set(best[1].tolist()) >= set(range(30))


def test_profiles_are_expanded_with_everyday_words_and_say_so(tmp_path, engine_profiles_path):
    """A request in everyday words meets a profile's technical phrase through document
    expansion, and the explanation names the phrase: "décharge sauvage ← immondices"."""
    from matching import Matcher, ProfileIndex, load_profiles
    from matching.analysis.lexicon import load_thesaurus

    thesaurus = tmp_path / "thesaurus.csv"
    thesaurus.write_text(
        "domain,technical,everyday\nDECH,décharge sauvage,montagne d'immondices | fumée noire\n", encoding="utf-8"
    )
    profiles = load_profiles(engine_profiles_path)
    plain = Matcher(ProfileIndex().fit(profiles), feedback_weight=0.0)
    expanded = Matcher(
        ProfileIndex(expansion=load_thesaurus(thesaurus, reverse=True)).fit(profiles), feedback_weight=0.0
    )
    request = "une montagne d'immondices brûle et une fumée noire recouvre le quartier"
    assert plain.search(request, MatchFilters(as_of=AS_OF)).matches == []
    [best, *_] = expanded.search(request, MatchFilters(as_of=AS_OF)).matches
    assert best.expert_id == "T-DECH-DECHARGE"
    labels = {t.label() for t in best.matched_terms}
    assert "décharge sauvage ← immondices" in labels
    assert all(t.via == "thesaurus" and t.term == "décharge sauvage" for t in best.matched_terms)
    # Only the profile holding the technical phrase is expanded.
    assert {m.expert_id for m in expanded.search(request, MatchFilters(as_of=AS_OF)).matches} == {"T-DECH-DECHARGE"}


def test_a_requests_terms_do_not_depend_on_the_requests_analysed_before(engine_profiles_path):
    """ "seria" is a French word, left alone; "sería" is not, and is read as a typo for
    "serial". Whichever comes first must not decide for the other (they fold alike)."""
    from matching import ProfileIndex, QueryAnalyzer, load_profiles

    profiles = load_profiles(engine_profiles_path)
    profiles.loc[0, "description"] += " Numéro serial de chaque compteur."
    index = ProfileIndex().fit(profiles)
    request = "relevé du compteur sería"
    alone = QueryAnalyzer().fit(index).analyse(request, "fr")
    assert any(origin.via == "typo" for origin in alone.origins.values())
    analyzer = QueryAnalyzer().fit(index)
    analyzer.analyse("relevé du compteur seria", "fr")
    after = analyzer.analyse(request, "fr")
    assert (after.weights, after.origins) == (alone.weights, alone.origins)


def test_known_word_test_agrees_with_wordfreq_around_the_threshold(engine_matcher):
    from wordfreq import freq_to_zipf, get_frequency_dict, zipf_frequency

    analyzer = engine_matcher.query_analyzer
    threshold = analyzer.known_word_zipf
    near = [w for w, f in get_frequency_dict("fr").items() if w.isalpha() and abs(freq_to_zipf(f) - threshold) <= 0.02]
    near = near[:: max(1, len(near) // 300)]  # words just below, at and just above the threshold
    words = near + ["seria", "sería", "contat", "decharge", "déchets", "xqzwv"]
    assert len(near) > 50
    for word in words:
        assert analyzer.is_known_word(word) == (zipf_frequency(word, "fr") >= threshold), word


def test_a_requests_own_word_outranks_the_same_word_reached_through_expansions():
    """The issue's case: the profile whose title says "décharge" comes before a landfill-design
    profile that never says it and is reached only through the thesaurus, both ways."""
    from matching import build_matcher, load_profiles
    from matching.data.resources import data_path

    matcher = build_matcher(load_profiles(data_path("profiles.jsonl")))
    result = matcher.search("Nous cherchons un appui pour la gestion de notre décharge", MatchFilters(as_of=AS_OF))
    ranked = [m.expert_id for m in result.matches]
    assert ranked.index("EXP-0070") < ranked.index("EXP-0069")
    first = result.matches[0]
    assert any(t.via == "request" and t.term == "décharge" for t in first.matched_terms)


def test_short_queries_are_not_reranked_by_domain_or_feedback(engine_matcher):
    """Re-ranking trusts what a request says about itself: a two-word query gets (almost) plain
    BM25 order, so the domain prior cannot demote the profile that holds both words."""
    from matching import Matcher

    plain = Matcher(engine_matcher.index, engine_matcher.query_analyzer, None, feedback_weight=0.0)
    filters = MatchFilters(as_of=AS_OF)
    for text in ["eau potable", "budget participatif", "formation agents"]:
        gated = [m.expert_id for m in engine_matcher.search(text, filters).matches]
        base = [m.expert_id for m in plain.search(text, filters).matches]
        assert gated[:3] == base[:3]


def test_one_everyday_word_out_of_its_phrase_is_no_evidence():
    """The issue's case: "collecte des ordures ménagères" (from Spanish) meets "aide ménagère",
    an everyday phrase of "aidants", by one word only: that match neither counts nor shows."""
    from matching import build_matcher, load_profiles
    from matching.data.resources import data_path

    matcher = build_matcher(load_profiles(data_path("profiles.jsonl")))
    result = matcher.search(
        "Buscamos apoyo para la recolección de basura en nuestro municipio", MatchFilters(as_of=AS_OF), top_k=10
    )
    assert result.language.code == "es" and result.matches
    labels = [t.label() for m in result.matches for t in m.matched_terms]
    assert not any(label.startswith("aidants") for label in labels)
    lenient = build_matcher(load_profiles(data_path("profiles.jsonl")), min_expansion_terms=1)
    loose = lenient.search(
        "Buscamos apoyo para la recolección de basura en nuestro municipio", MatchFilters(as_of=AS_OF), top_k=10
    )
    assert any(t.label().startswith("aidants") for m in loose.matches for t in m.matched_terms)


def test_a_glossary_rendering_found_in_no_profile_falls_back_to_cognates(engine_matcher):
    """When the glossary's French is in no profile, the foreign word is still read as a cognate
    of a word that is ("potable" where the glossary said something else)."""
    from matching import QueryAnalyzer
    from matching.analysis.lexicon import PhraseLexicon

    glossary = {"en": PhraseLexicon([("potable", "xylophone quantique")], source_language="en")}
    analyzer = QueryAnalyzer(glossary=glossary).fit(engine_matcher.index)
    query = analyzer.analyse("potable", "en")
    column = engine_matcher.index.vocabulary_["potabl"]
    assert column in query.weights
    assert query.origins[column].via == "cognate"


def test_an_acronym_no_profile_writes_stands_for_its_expansion(tmp_path):
    """An acronym the profiles never write finds the profile that spells it out, shown as reached
    through the acronym; an acronym the profiles write is matched as written, nothing added."""
    from matching import build_matcher, load_profiles
    from matching.analysis.lexicon import load_acronyms
    from matching.data.resources import data_path

    matcher = build_matcher(load_profiles(data_path("profiles.jsonl")), use_acronyms=False)
    path = tmp_path / "acronyms.csv"
    path.write_text(
        "acronym,expansion\nXQZB,service public d'assainissement non collectif\n"
        "SPANC,service public d'assainissement non collectif\n",
        encoding="utf-8",
    )
    matcher.query_analyzer.acronyms = load_acronyms(path)
    result = matcher.search("XQZB", MatchFilters(as_of=AS_OF))
    assert result.matches and result.matches[0].expert_id == "EXP-0056"
    assert all(t.via == "abbreviation" and t.words.lower() == "xqzb" for t in result.matches[0].matched_terms)
    assert "spanc" in matcher.index.vocabulary_  # written by EXP-0056
    query = matcher.query_analyzer.analyse("SPANC", "fr")
    assert not any(o.via == "abbreviation" for o in query.origins.values())


def test_matched_terms_are_immutable_values(engine_matcher):
    from matching import MatchedTerm

    terms = [
        t for m in engine_matcher.search("décharge sauvage", MatchFilters(as_of=AS_OF)).matches for t in m.matched_terms
    ]
    assert terms and all(type(t) is MatchedTerm for t in terms)
    term = MatchedTerm("décharge sauvage", "decharg sauvag", 1.25, "thesaurus", "tas d'ordures", "dépôt sauvage")
    same = MatchedTerm("décharge sauvage", "decharg sauvag", 1.25, "thesaurus", "tas d'ordures", "dépôt sauvage")
    assert term == same and hash(term) == hash(same) and len({term, same}) == 1
    assert term != term._replace(contribution=1.5)
    with pytest.raises(AttributeError):
        term.contribution = 2.0  # type: ignore[misc]
    assert term.source == "tas d'ordures → dépôt sauvage"
    assert term.label() == "décharge sauvage ← tas d'ordures"
    own = MatchedTerm("eau", "eau", 0.5, "request", "eau")
    assert own.target is None and own.source == "eau" and own.label() == "eau"
    assert MatchedTerm("Eau", "eau", 0.5, "typo", "eau").label() == "Eau"


@pytest.mark.parametrize(
    "via, words", [("request", "eaux"), ("typo", "EAU"), ("typo", "eaux"), ("glossary", "water"), ("thesaurus", "x y")]
)
def test_matched_term_label_is_term_label(via, words):
    from matching import MatchedTerm
    from matching.retrieval.ranking import term_label

    assert MatchedTerm("eau", "eau", 0.5, via, words).label() == term_label("eau", via, words)


def test_domain_boost_is_the_best_score_among_the_profiles_domains(engine_matcher):
    prior = engine_matcher.domain_prior
    domains = engine_matcher.index.metadata_.domain_matrix_
    analyzer = engine_matcher.query_analyzer
    vectors = analyzer.vectorize([analyzer.analyse(t) for t in ("décharge sauvage", "eau potable", "xyzzy")])
    rows = np.random.default_rng(0).integers(0, engine_matcher.index.n_profiles, (3, 40))
    scores = prior.domain_scores(vectors)
    expected = np.array(
        [[max((scores[q, d] for d in np.flatnonzero(domains[row])), default=0.0) for row in rows[q]] for q in range(3)],
        dtype=np.float32,
    )
    assert np.array_equal(prior.boost(vectors, rows), expected)
    assert (expected[2] == 0).all() and expected[:2].max() == 1.0
