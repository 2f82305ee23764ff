import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.analysis.lexicon import PhraseLexicon, load_thesaurus
from matching.data.resources import data_path

THESAURUS = load_thesaurus(data_path("thesaurus.csv"), reverse=True)
# Terms that start, continue or end keys, and one no key holds.
TERMS = sorted({term for key in THESAURUS.table_ for term in key})[:40] + ["zzz"]
TERMS += [term for key in list(THESAURUS.table_)[:60] for term in key]


def _find_columns_as_find(lexicon: PhraseLexicon, sequences: list[list[str]]):
    vocabulary = {term: i for i, term in enumerate(dict.fromkeys(t for s in sequences for t in s))}
    columns = np.array([vocabulary[t] for s in sequences for t in s], dtype=np.int64)
    lengths = np.array([len(s) for s in sequences], dtype=np.int64)
    ends = np.repeat(np.cumsum(lengths), lengths)
    starts, keys, found = lexicon.find_columns(columns, ends, vocabulary)
    offsets = np.cumsum(lengths) - lengths
    sequence_of = np.searchsorted(np.cumsum(lengths), starts, side="right")
    return [(int(s), int(start - offsets[s]), found[k]) for s, start, k in zip(sequence_of, starts, keys, strict=True)]


def _find(lexicon: PhraseLexicon, sequences: list[list[str]]):
    return [
        (s, hit.start, tuple(terms[hit.start : hit.end]))
        for s, terms in enumerate(sequences)
        for hit in lexicon.find(terms)
    ]


def test_find_columns_finds_what_find_finds():
    sequences = [list(key) for key in list(THESAURUS.table_)[:300]]
    sequences += [[t for key in list(THESAURUS.table_)[i : i + 4] for t in key] for i in range(0, 400, 3)]
    sequences += [[], ["zzz"]]
    assert _find_columns_as_find(THESAURUS, sequences) == _find(THESAURUS, sequences)


@settings(max_examples=200, deadline=None)  # each example builds the whole trie: slow on a loaded machine
@given(st.lists(st.lists(st.sampled_from(TERMS), max_size=12), min_size=1, max_size=6))
def test_find_columns_agrees_with_find(sequences):
    assert _find_columns_as_find(THESAURUS, sequences) == _find(THESAURUS, sequences)


def test_find_columns_prefers_the_longest_key_and_never_overlaps():
    entries = [("canal berge", "rive"), ("canal berge digue", "rive"), ("berge", "rive"), ("digue crue", "rive")]
    lexicon = PhraseLexicon(entries, "fr")
    assert sorted(lexicon.table_) == [("berg",), ("canal", "berg"), ("canal", "berg", "digu"), ("digu", "cru")]
    sequences = [["canal", "berg", "digu", "cru", "berg", "canal", "berg"], ["berg", "digu"], ["canal"], []]
    found = _find_columns_as_find(lexicon, sequences)
    assert found == _find(lexicon, sequences)
    assert [(s, start, len(key)) for s, start, key in found] == [(0, 0, 3), (0, 4, 1), (0, 5, 2), (1, 0, 1)]


def _longest_keys(lexicon: PhraseLexicon, terms: list[str]) -> list[tuple]:
    """What find means: left to right, at each position after the last match, the longest key
    starting there, if any."""
    hits, i = [], 0
    while i < len(terms):
        for length in range(min(lexicon.max_terms, len(terms) - i), 0, -1):
            key = tuple(terms[i : i + length])
            if key in lexicon.table_:
                hits.append((i, i + length, lexicon.table_[key], key))
                i += length
                break
        else:
            i += 1
    return hits


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(TERMS), max_size=16))
def test_find_takes_the_longest_key_at_each_free_position(terms):
    assert [tuple(hit) for hit in THESAURUS.find(terms)] == _longest_keys(THESAURUS, terms)


def test_find_walks_past_a_key_to_a_longer_one_and_back():
    lexicon = PhraseLexicon([("canal berge", "rive"), ("canal berge digue", "rive"), ("berge", "rive")], "fr")
    # In "canal berg cru", the walk passes the key ("canal", "berg") and stops at "cru", which
    # continues no key: the match is the key it passed. Then the longer key, to its end.
    assert [(h.start, h.end) for h in lexicon.find(["canal", "berg", "cru", "canal", "berg", "digu"])] == [
        (0, 2),
        (3, 6),
    ]
    assert lexicon.find(["canal"]) == [] and lexicon.find([]) == []
