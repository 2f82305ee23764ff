"""From request text to a weighted query vector in the index's term space.

A request's own words count fully. Words the index does not know are rescued three ways,
each with a lower weight than the request's own words so that they help recall without
drowning precise requests:

- **typos**: an unknown word is mapped onto the closest word of the index's vocabulary
  (rapidfuzz; only the vocabulary is searched, never every document's character n-grams);
- **translation**: English, Spanish and Portuguese terms are mapped into French through the
  bilingual glossary; foreign words it misses still match French cognates;
- **expansion**: everyday French expressions add the technical terms of the thesaurus.

Every term added records where it came from, for the explanation shown to staff.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from rapidfuzz import fuzz, process
from sklearn.preprocessing import normalize
from wordfreq import zipf_frequency

from .index import ProfileIndex
from .language import CROSS_LINGUAL, DetectedLanguage, detect_language
from .lexicon import PhraseLexicon
from .text import Token, get_analyzer

__all__ = ["QueryAnalyzer", "AnalysedQuery", "TermOrigin"]


@dataclass(frozen=True, slots=True)
class TermOrigin:
    """How a query term came from the request.

    ``via`` is ``"request"`` (the request's own word), ``"typo"`` (a misspelt word mapped to
    the vocabulary), ``"glossary"`` (translated), ``"cognate"`` (a foreign word that is
    also French) or ``"thesaurus"`` (an everyday expression expanded); ``source`` holds the
    request's words as written.
    """

    via: str
    source: str


@dataclass(slots=True)
class AnalysedQuery:
    """One request, analysed: its language and term weights by index column."""

    language: DetectedLanguage
    weights: dict[int, float] = field(default_factory=dict)
    origins: dict[int, TermOrigin] = field(default_factory=dict)
    own_counts: dict[int, int] = field(default_factory=dict)

    def add(self, column: int, weight: float, origin: TermOrigin) -> None:
        """Add an expansion weight; the first origin recorded for a column is kept."""
        self.weights[column] = self.weights.get(column, 0.0) + weight
        self.origins.setdefault(column, origin)


class QueryAnalyzer:
    """Analyses requests against one fitted :class:`ProfileIndex`.

    Parameters
    ----------
    glossary : dict of language -> PhraseLexicon, optional
        Foreign-to-French term maps (see :func:`matching.lexicon.load_glossary`).
    thesaurus : PhraseLexicon, optional
        Everyday-to-technical French expansions.
    typo_cutoff : float, default 84
        Minimum rapidfuzz ratio (0-100) for mapping an unknown word onto the vocabulary.
    typo_weight, glossary_weight, cognate_weight, thesaurus_weight : float
        Weights of the added terms, relative to 1 for a word of the request.
    min_typo_length : int, default 5
        Shorter unknown words are left alone (too many near neighbours to guess).
    known_word_zipf : float, default 1.8
        A word at least this frequent in French (wordfreq's Zipf scale, about once per
        60 million words) is a real word, merely absent from the profiles: it is not
        "corrected" into a look-alike ("argent" is not a typo for "agents").
    max_expansion_share : float, default 0.5
        Thesaurus expansions together weigh at most this share of the request's own words,
        so that a long everyday request is not drowned by its expansions.
    """

    def __init__(self, glossary: dict[str, PhraseLexicon] | None = None, thesaurus: PhraseLexicon | None = None,
                 typo_cutoff: float = 84.0, typo_weight: float = 0.8, glossary_weight: float = 1.0,
                 cognate_weight: float = 0.6, thesaurus_weight: float = 0.35, min_typo_length: int = 5,
                 known_word_zipf: float = 1.8, max_expansion_share: float = 0.5, idf_power: float = 1.0) -> None:
        self.glossary = glossary
        self.thesaurus = thesaurus
        self.typo_cutoff = typo_cutoff
        self.typo_weight = typo_weight
        self.glossary_weight = glossary_weight
        self.cognate_weight = cognate_weight
        self.thesaurus_weight = thesaurus_weight
        self.min_typo_length = min_typo_length
        self.known_word_zipf = known_word_zipf
        self.max_expansion_share = max_expansion_share
        self.idf_power = idf_power

    def fit(self, index: ProfileIndex) -> QueryAnalyzer:
        """Bind to ``index``: its vocabulary, idf and the words written in its profiles."""
        self.index_ = index
        by_length: dict[int, list[str]] = {}
        for surface in index.surface_terms_:
            if len(surface) >= self.min_typo_length - 1 and surface.isalpha():
                by_length.setdefault(len(surface), []).append(surface)
        self.surfaces_by_length_ = by_length
        self.typo_cache_: dict[str, int | None] = {}
        return self

    # ------------------------------------------------------------------ words
    def _closest_column(self, surface: str, display: str) -> int | None:
        """Vocabulary column of the indexed word closest to ``surface``, or None."""
        cached = self.typo_cache_.get(surface, -1)
        if cached != -1:
            return cached
        column = None
        if (len(surface) >= self.min_typo_length and surface.isalpha()
                and zipf_frequency(display, "fr") < self.known_word_zipf):
            n = len(surface)
            choices = [s for length in range(n - 2, n + 3) for s in self.surfaces_by_length_.get(length, ())]
            hit = process.extractOne(surface, choices, scorer=fuzz.ratio, score_cutoff=self.typo_cutoff)
            if hit is not None:
                column = self.index_.vocabulary_.get(self.index_.surface_terms_[hit[0]])
        self.typo_cache_[surface] = column
        return column

    def _add_french(self, query: AnalysedQuery, tokens: list[Token], via_unknown: str,
                    unknown_weight: float) -> None:
        vocabulary = self.index_.vocabulary_
        for token in tokens:
            column = vocabulary.get(token.term)
            if column is not None:
                if via_unknown == "typo":  # the request's own French word
                    query.own_counts[column] = query.own_counts.get(column, 0) + 1
                    query.origins.setdefault(column, TermOrigin("request", token.display))
                else:
                    query.add(column, unknown_weight, TermOrigin(via_unknown, token.display))
                continue
            column = self._closest_column(token.surface, token.display)
            if column is not None:
                weight = self.typo_weight if via_unknown == "typo" else unknown_weight * self.typo_weight
                query.add(column, weight, TermOrigin(via_unknown, token.display))

    def _lexicon_hits(self, query: AnalysedQuery, lexicon: PhraseLexicon, tokens: list[Token],
                      via: str) -> tuple[dict[int, float], dict[int, TermOrigin], set[int]]:
        """Target columns of every lexicon hit (with hit counts), their origins, positions covered."""
        counts: dict[int, float] = {}
        origins: dict[int, TermOrigin] = {}
        covered: set[int] = set()
        vocabulary = self.index_.vocabulary_
        for hit in lexicon.find([t.term for t in tokens]):
            source = " ".join(t.display for t in tokens[hit.start:hit.end])
            for term in hit.target_terms:
                column = vocabulary.get(term)
                if column is not None and column not in query.own_counts:
                    counts[column] = counts.get(column, 0.0) + 1.0
                    origins.setdefault(column, TermOrigin(via, f"{source} → {hit.target}"))
            covered.update(range(hit.start, hit.end))
        return counts, origins, covered

    # ------------------------------------------------------------------ requests
    def analyse(self, text: str, language: str | None = None) -> AnalysedQuery:
        """Analyse one request. ``language`` (ISO 639-1) skips detection when given."""
        detected = DetectedLanguage(language, 1.0) if language else detect_language(text)
        query = AnalysedQuery(detected)
        code = detected.code
        if code in CROSS_LINGUAL and self.glossary and code in self.glossary:
            tokens = get_analyzer(code).tokens(text)
            counts, origins, covered = self._lexicon_hits(query, self.glossary[code], tokens, "glossary")
            for column, count in counts.items():  # translations count as the request's own words
                query.add(column, self.glossary_weight * (1.0 + math.log(count)), origins[column])
            french = get_analyzer("fr")
            rest = [ft for i, t in enumerate(tokens) if i not in covered for ft in french.word(t.display)]
            self._add_french(query, rest, "cognate", self.cognate_weight)
        else:
            tokens = get_analyzer("fr").tokens(text)
            self._add_french(query, tokens, "typo", self.typo_weight)
        for column, count in query.own_counts.items():
            query.weights[column] = query.weights.get(column, 0.0) + 1.0 + math.log(count)
        if self.thesaurus is not None and code not in CROSS_LINGUAL:
            counts, origins, _ = self._lexicon_hits(query, self.thesaurus, tokens, "thesaurus")
            if counts:
                weights = {c: self.thesaurus_weight * (1.0 + math.log(n)) for c, n in counts.items()}
                budget = self.max_expansion_share * sum(query.weights.values())
                scale = min(1.0, budget / sum(weights.values()))
                for column, weight in weights.items():
                    query.add(column, weight * scale, origins[column])
        return query

    def vectorize(self, queries: list[AnalysedQuery]) -> sp.csr_matrix:
        """TF-IDF matrix of shape (n_queries, n_terms), rows L2-normalised (zero rows stay zero)."""
        indptr = [0]
        indices: list[int] = []
        data: list[float] = []
        for q in queries:
            indices.extend(q.weights.keys())
            data.extend(q.weights.values())
            indptr.append(len(indices))
        matrix = sp.csr_matrix(
            (np.asarray(data, dtype=np.float32), np.asarray(indices, dtype=np.int32), np.asarray(indptr)),
            shape=(len(queries), self.index_.n_terms),
        )
        matrix = matrix @ sp.diags(self.index_.idf_ ** self.idf_power)
        return normalize(matrix, norm="l2", copy=False).astype(np.float32)
