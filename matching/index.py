"""The TF-IDF index over labelled profiles (scikit-learn's TfidfTransformer).

Each profile is one document made of weighted fields: the title and the labels of its
domains count more than the free-text description. Term frequencies saturate and are
normalised by document length as in BM25 (``tf * (k1 + 1) / (tf + k1 * (1 - b + b * len / avg_len))``),
then weighted by inverse document frequency (scikit-learn's ``TfidfTransformer``) and
L2-normalised, so the dot product of a normalised request vector with a row is a cosine
score in [0, 1]. On the bundled dev set the BM25-style saturation ranked better than
sublinear ``1 + log tf`` (``tf="sublinear"``), mostly on long everyday-words requests.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfTransformer

from .taxonomy import domain_codes, domains
from .text import get_analyzer

__all__ = ["ProfileIndex", "DEFAULT_FIELD_WEIGHTS"]

#: Relative weight of each profile field in the term counts.
DEFAULT_FIELD_WEIGHTS: dict[str, float] = {"title": 3.0, "domains": 1.5, "description": 1.0, "contact": 1.0}


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
    """

    def __init__(self, field_weights: dict[str, float] | None = None, tf: str = "bm25",
                 k1: float = 1.2, b: float = 0.75) -> None:
        self.field_weights = field_weights
        self.tf = tf
        self.k1 = k1
        self.b = b

    # ------------------------------------------------------------------ fit
    def fit(self, profiles: pd.DataFrame) -> ProfileIndex:
        """Index ``profiles`` (a frame from :func:`matching.load_profiles`)."""
        weights = dict(DEFAULT_FIELD_WEIGHTS if self.field_weights is None else self.field_weights)
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
        add_term = vocabulary.setdefault
        for field, texts in field_texts.items():
            weight = weights.get(field)
            if not weight:
                continue
            for row, text in enumerate(texts):
                words = analyzer.words(text)
                word_counts.update(words)
                ids = [add_term(t.term, len(vocabulary)) for w in words for t in analyzer.word(w)]
                rows.extend([row] * len(ids))
                cols.extend(ids)
                data.extend([weight] * len(ids))
        n_terms = len(vocabulary)
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
