"""The TF-IDF index over labelled profiles (scikit-learn's TfidfTransformer).

Each profile is one document made of weighted fields: the title and the labels of its
domains count more than the free-text description. Term frequencies saturate and are
normalised by document length as in BM25 (``tf * (k1 + 1) / (tf + k1 * (1 - b + b * len / avg_len))``),
then weighted by inverse document frequency (scikit-learn's ``TfidfTransformer``) and
L2-normalised, so the dot product of a normalised request vector with a row is a cosine
score in [0, 1]. On the bundled dev set the BM25-style saturation ranked better than
sublinear ``1 + log tf`` (``tf="sublinear"``), mostly on long everyday-words requests.

**Document expansion.** Given the thesaurus read the other way (technical phrase → everyday
phrases, see :func:`matching.lexicon.load_thesaurus`), each profile gets one more field: the
everyday phrases of the technical terms it contains. A request that says "tas d'ordures qui
fument" then meets a profile that says "décharge sauvage" word by word, even where no phrase of
the thesaurus matches the request as a whole; and everyday words spread over many profiles this
way lose idf, so they weigh less in ordinary matches. Each term a profile holds only through
its expansion remembers the technical phrase it came from, for the explanation.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfTransformer

from .lexicon import PhraseLexicon
from .taxonomy import domain_codes, domains
from .text import get_analyzer

__all__ = ["ProfileIndex", "DEFAULT_FIELD_WEIGHTS"]

#: Relative weight of each profile field in the term counts.
DEFAULT_FIELD_WEIGHTS: dict[str, float] = {"title": 3.0, "domains": 1.5, "description": 1.0, "contact": 1.0,
                                           "expansion": 1.0}


class ProfileIndex:
    """Sparse TF-IDF matrix of profiles, with what ranking, filters and explanations need.

    Parameters
    ----------
    field_weights : dict, optional
        Weight of each field among ``title``, ``domains`` (the French labels of the
        profile's domains), ``description`` and ``contact``; each at least 0.5 so that
        sublinear term frequencies stay positive. Defaults to :data:`DEFAULT_FIELD_WEIGHTS`.
    tf : {"bm25", "sublinear"}, default "bm25"
        Term-frequency weighting (see the module docstring).
    k1, b : float, default 1.2 and 0.75
        BM25 saturation and length-normalisation parameters (``tf="bm25"`` only).
    expansion : PhraseLexicon, optional
        Technical French phrases to everyday ones (``load_thesaurus(path, reverse=True)``),
        matched in each profile's title and description to fill the ``expansion`` field.

    Attributes
    ----------
    matrix_ : scipy.sparse.csr_matrix of shape (n_profiles, n_terms), float32
        L2-normalised TF-IDF rows.
    idf_ : ndarray of shape (n_terms,)
    vocabulary_ : dict term -> column
    display_ : list of str, length n_terms
        The most frequent written form of each term in the profiles (what a user reads).
    profiles_ : DataFrame, the profiles in row order.
    domain_matrix_ : ndarray of bool, shape (n_profiles, n_domains)
    label_start_, label_end_ : ndarray of datetime64[D], shape (n_profiles,)
    expansion_keys_ : ndarray of int64, sorted
        ``row * n_terms + column`` of each entry a profile holds only through its expansion.
    expansion_sources_ : ndarray of int32, same length
        For each such entry, the position in ``expansion_phrases_`` of the technical phrase
        of the profile it came from.
    expansion_phrases_ : list of str
    """

    def __init__(self, field_weights: dict[str, float] | None = None, tf: str = "bm25",
                 k1: float = 1.2, b: float = 0.75, expansion: PhraseLexicon | None = None) -> None:
        self.field_weights = field_weights
        self.tf = tf
        self.k1 = k1
        self.b = b
        self.expansion = expansion

    # ------------------------------------------------------------------ fit
    def fit(self, profiles: pd.DataFrame) -> ProfileIndex:
        """Index ``profiles`` (a frame from :func:`matching.load_profiles`)."""
        weights = dict(DEFAULT_FIELD_WEIGHTS if self.field_weights is None else self.field_weights)
        if self.expansion is None:
            weights.pop("expansion", None)
        unknown = set(weights) - set(DEFAULT_FIELD_WEIGHTS)
        if unknown:
            raise ValueError(f"unknown field(s) in field_weights: {sorted(unknown)}")
        if self.tf not in ("bm25", "sublinear"):
            raise ValueError(f"tf must be 'bm25' or 'sublinear', got {self.tf!r}")
        if any(w < 0.5 for w in weights.values()):
            raise ValueError("field weights must be at least 0.5")
        if len(profiles) == 0:
            raise ValueError("cannot index an empty set of profiles")

        analyzer = get_analyzer("fr")
        label_of = {d.code: d.label for d in domains()}
        vocabulary: dict[str, int] = {}
        word_counts: Counter[str] = Counter()
        rows: list[int] = []
        cols: list[int] = []
        data: list[float] = []
        field_texts = {
            "title": profiles["title"].tolist(),
            "description": profiles["description"].tolist(),
            "contact": profiles["contact"].fillna("").tolist(),
            "domains": [" ; ".join(label_of[c] for c in codes) for codes in profiles["domains"]],
        }
        expansion_rows: list[list[tuple[str, str]]] = []
        if "expansion" in weights:
            expansion_rows = [self._expansions(analyzer, title, description)
                              for title, description in zip(field_texts["title"], field_texts["description"],
                                                            strict=True)]
            field_texts["expansion"] = [" ; ".join(everyday for everyday, _ in row) for row in expansion_rows]
        own_entries = 0
        add_term = vocabulary.setdefault
        for field, texts in field_texts.items():
            weight = weights.get(field)
            if not weight:
                continue
            if field == "expansion":
                own_entries = len(rows)
            for row, text in enumerate(texts):
                words = analyzer.words(text)
                word_counts.update(words)
                ids = [add_term(t.term, len(vocabulary)) for w in words for t in analyzer.word(w)]
                rows.extend([row] * len(ids))
                cols.extend(ids)
                data.extend([weight] * len(ids))
        n_terms = len(vocabulary)
        self._fit_expansion_sources(analyzer, vocabulary, expansion_rows, rows, cols, own_entries)
        counts = sp.csr_matrix(
            (np.asarray(data, dtype=np.float32), (np.asarray(rows), np.asarray(cols))),
            shape=(len(profiles), n_terms),
        )
        counts.sum_duplicates()
        if self.tf == "bm25":
            # BM25's saturating, length-normalised term frequency, then idf and L2 norm.
            lengths = np.asarray(counts.sum(axis=1)).ravel()
            norm = self.k1 * (1 - self.b + self.b * lengths / lengths.mean())
            row_of = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
            counts.data = counts.data * (self.k1 + 1) / (counts.data + norm[row_of])
            transformer = TfidfTransformer(norm="l2", use_idf=True, smooth_idf=True, sublinear_tf=False)
        else:
            transformer = TfidfTransformer(norm="l2", use_idf=True, smooth_idf=True, sublinear_tf=True)
        self.matrix_ = transformer.fit_transform(counts).astype(np.float32).tocsr()
        self.idf_ = transformer.idf_.astype(np.float32)
        self.vocabulary_ = vocabulary
        self.terms_ = np.array(sorted(vocabulary, key=vocabulary.__getitem__), dtype=object)

        # Display form and fuzzy-lookup table from the words actually written in profiles.
        best: dict[str, tuple[int, str]] = {}
        surfaces: dict[str, str] = {}
        for word, count in word_counts.items():
            for token in analyzer.word(word):
                current = best.get(token.term)
                if current is None or count > current[0]:
                    best[token.term] = (count, token.display)
                surfaces.setdefault(token.surface, token.term)
        self.display_ = [best[t][1] for t in self.terms_]
        self.surface_terms_ = surfaces

        self.profiles_ = profiles.reset_index(drop=True)
        self.ids_ = self.profiles_["id"].to_numpy(dtype=object)
        self.position_ = {pid: i for i, pid in enumerate(self.ids_)}
        codes = domain_codes()
        self.domain_matrix_ = np.zeros((len(profiles), len(codes)), dtype=bool)
        code_pos = {c: i for i, c in enumerate(codes)}
        for row, profile_codes in enumerate(self.profiles_["domains"]):
            for c in profile_codes:
                self.domain_matrix_[row, code_pos[c]] = True
        self.label_start_ = self.profiles_["label_start"].to_numpy(dtype="datetime64[D]")
        self.label_end_ = self.profiles_["label_end"].to_numpy(dtype="datetime64[D]")
        self.languages_, self.language_matrix_ = _membership(self.profiles_["languages"])
        self.countries_, self.country_matrix_ = _membership(self.profiles_["countries"])
        self.holder_types_ = self.profiles_["holder_type"].to_numpy(dtype=object)
        self.regions_ = self.profiles_["region"].to_numpy(dtype=object)
        self.holders_ = self.profiles_["holder"].to_numpy(dtype=object)
        self.built_at_ = datetime.now(UTC).isoformat(timespec="seconds")
        return self

    # ------------------------------------------------------------------ expansion
    def _expansions(self, analyzer, title: str, description: str) -> list[tuple[str, str]]:
        """``(everyday phrase, technical phrase found)`` pairs of one profile, each phrase once."""
        assert self.expansion is not None
        found: dict[str, str] = {}
        for text in (title, description):
            for hit in self.expansion.find(analyzer(text)):
                for entry in hit.entries:
                    found.setdefault(entry.target, entry.source)
        return list(found.items())

    def _fit_expansion_sources(self, analyzer, vocabulary: dict[str, int], expansion_rows: list[list[tuple[str, str]]],
                               rows: list[int], cols: list[int], own_entries: int) -> None:
        """Record, for each entry a profile holds only through its expansion, the technical
        phrase that brought it (``expansion_keys_``, ``expansion_sources_``, ``expansion_phrases_``)."""
        n_terms = len(vocabulary)
        phrases: dict[str, int] = {}
        keys, sources = [], []
        for row, pairs in enumerate(expansion_rows):
            for everyday, technical in pairs:
                phrase = phrases.setdefault(technical, len(phrases))
                for term in analyzer(everyday):
                    keys.append(row * n_terms + vocabulary[term])
                    sources.append(phrase)
        keys_array = np.asarray(keys, dtype=np.int64)
        own = np.asarray(rows[:own_entries], dtype=np.int64) * n_terms + np.asarray(cols[:own_entries], dtype=np.int64)
        # The first technical phrase per entry, and only entries absent from the profile's own fields.
        keys_array, first = np.unique(keys_array, return_index=True)
        only_expanded = ~np.isin(keys_array, own)
        self.expansion_keys_ = keys_array[only_expanded]
        self.expansion_sources_ = np.asarray(sources, dtype=np.int32)[first][only_expanded]
        self.expansion_phrases_ = list(phrases)

    def expansion_sources(self, rows: np.ndarray, columns: np.ndarray) -> list[str | None]:
        """The technical phrase through which profile ``rows[i]`` holds term ``columns[i]``, or
        None where the profile's own text holds it."""
        wanted = rows.astype(np.int64) * self.n_terms + columns
        keys = self.expansion_keys_
        if len(keys) == 0 or len(wanted) == 0:
            return [None] * len(wanted)
        found = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
        hit = keys[found] == wanted
        phrases = self.expansion_phrases_
        return [phrases[s] if h else None for s, h in zip(self.expansion_sources_[found].tolist(), hit.tolist(),
                                                           strict=True)]

    # ------------------------------------------------------------------ helpers
    @property
    def n_profiles(self) -> int:
        return self.matrix_.shape[0]

    @property
    def n_terms(self) -> int:
        return self.matrix_.shape[1]

    def valid_mask(self, as_of: np.datetime64) -> np.ndarray:
        """Boolean mask of shape (n_profiles,): labels valid on ``as_of`` (start <= as_of <= end)."""
        return (self.label_start_ <= as_of) & (as_of <= self.label_end_)


def _membership(values: pd.Series) -> tuple[dict[str, int], sp.csc_matrix]:
    """Codes and a (n_rows, n_codes) boolean membership matrix for a column of tuples."""
    codes: dict[str, int] = {}
    rows, cols = [], []
    for row, items in enumerate(values):
        for item in items:
            rows.append(row)
            cols.append(codes.setdefault(item, len(codes)))
    matrix = sp.csc_matrix((np.ones(len(rows), dtype=bool), (rows, cols)), shape=(len(values), max(len(codes), 1)))
    return codes, matrix
