"""From request text to a weighted query vector in the index's term space.

A request's own words count fully. Words the index does not know are rescued three ways,
each with a lower weight than the request's own words so that they help recall without
drowning precise requests:

- **typos**: an unknown word is mapped onto the closest word of the index's vocabulary
  (rapidfuzz; only the vocabulary is searched, never every document's character n-grams);
- **translation**: English, Spanish, Portuguese and Arabic terms are mapped into French through
  the bilingual glossary; foreign words it misses still match French cognates;
- **expansion**: everyday French expressions add the technical terms of the thesaurus.

Every term added records where it came from, for the explanation shown to staff.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain, compress, repeat
from operator import attrgetter, is_not, not_
from typing import Any, cast

import numpy as np

from matching.analysis.arabic import is_arabic_word
from matching.analysis.language import CROSS_LINGUAL, DetectedLanguage, detect_languages
from matching.analysis.language import warm_up as warm_up_detector
from matching.analysis.lexicon import Entry, PhraseLexicon
from matching.analysis.text import Token, get_analyzer
from matching.analysis.typos import TypoCorrector, _french_frequencies
from matching.index.profiles import ProfileIndex
from matching.index.sparse import SparseRows

_TERM = attrgetter("term")
_DISPLAY = attrgetter("display")

__all__ = ["QueryAnalyzer", "AnalysedQuery", "TermOrigin"]


@dataclass(frozen=True, slots=True)
class TermOrigin:
    """How a query term came from the request.

    ``via`` is ``"request"`` (the request's own word), ``"abbreviation"`` (an acronym
    for its expansion or back), ``"typo"`` (a misspelt word mapped to
    the vocabulary), ``"glossary"`` (translated), ``"cognate"`` (a foreign word that is
    also French) or ``"thesaurus"`` (an everyday expression expanded); ``words`` holds the
    request's words as written and ``target`` the glossary or thesaurus entry they were
    rewritten into (None for a typo or a cognate).
    """

    via: str
    words: str
    target: str | None = None

    @property
    def source(self) -> str:
        """``words → target`` (or the words alone), as the API's ``source`` field shows it."""
        return self.words if self.target is None else f"{self.words} → {self.target}"


#: Stands for a request word the acronym lexicon must not look up (it cannot match an entry).
_NOT_AN_ACRONYM = Token("", "", "\x00")

#: Origins that add terms the request did not say (they tell nothing more of what it is about).
_EXPANSIONS = frozenset({"thesaurus", "abbreviation"})

#: A glossary hit's share of a word (one over its senses), its French rendering, and its
#: columns in the vocabulary with their origins (one per target term: a column may repeat).
_GlossaryHit = tuple[float, tuple[Token, ...], tuple[tuple[int, TermOrigin], ...]]
#: A thesaurus or acronym hit's idf mass, its targets (column, idf, origin) and their idf mass.
_LexiconHit = tuple[float, tuple[tuple[int, float, TermOrigin], ...], float]
#: Tells a hit not cached yet from one cached as None.
_NOT_CACHED = object()
#: Tells a word not read yet from one read as None (see QueryAnalyzer._read_missed).
_UNREAD = object()


class _OwnWeights(dict[int, float]):
    """The weight of a word said ``count`` times, ``1 + log(count)``, by count (computed once)."""

    def __missing__(self, count: int) -> float:
        weight = 0.0 + 1.0 + math.log(count)  # as added to an empty weight
        if count <= 1_000:  # a request's counts; bounded all the same
            self[count] = weight
        return weight


_OWN_WEIGHTS = _OwnWeights()


def _idf_mass(weights: dict[int, float], idf: np.ndarray) -> Any:
    """``sum(w * idf[c] for c, w in weights.items())`` as numpy computes it term by term, at C
    speed: with float32 idf, each Python-float weight is rounded to float32 (NEP 50), multiplied
    and added in float32, left to right (``np.add.accumulate``, unlike ``sum``, is sequential).
    A numpy scalar, or 0 without weights, as ``sum`` returns."""
    if not weights:
        return 0
    n = len(weights)
    columns = np.fromiter(weights.keys(), dtype=np.intp, count=n)
    values = np.fromiter(weights.values(), dtype=idf.dtype, count=n)
    return np.add.accumulate(values * idf[columns])[-1]


@dataclass(slots=True)
class AnalysedQuery:
    """One request, analysed: its language and term weights by index column."""

    language: DetectedLanguage
    weights: dict[int, float] = field(default_factory=dict)
    origins: dict[int, TermOrigin] = field(default_factory=dict)
    own_counts: dict[int, int] = field(default_factory=dict)

    @property
    def evidence_terms(self) -> int:
        """Distinct terms the request says itself (its words, translated or corrected), not
        counting thesaurus expansions: how much it tells about what it is about."""
        # All terms less the expansions: a loop over the origins, fewer than the terms.
        weights = self.weights
        return len(weights) - sum(1 for c, o in self.origins.items() if o.via in _EXPANSIONS and c in weights)

    def add(self, column: int, weight: float, origin: TermOrigin) -> None:
        """Add an expansion weight; the first origin recorded for a column is kept."""
        self.weights[column] = self.weights.get(column, 0.0) + weight
        self.origins.setdefault(column, origin)


class QueryAnalyzer:
    """Analyses requests against one fitted :class:`ProfileIndex`.

    Parameters
    ----------
    glossary : dict of language -> PhraseLexicon, optional
        Foreign-to-French term maps (see :func:`matching.analysis.lexicon.load_glossary`).
    thesaurus : PhraseLexicon, optional
        Everyday-to-technical French expansions.
    acronyms : PhraseLexicon, optional
        French acronyms to their expansions (:func:`matching.analysis.lexicon.load_acronyms`),
        used for acronyms that no profile writes.
    acronym_weight : float, default 1.0
        Share of an acronym's idf mass that its expansion receives.
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
    short_request_words : int, default 6
        Requests of at most this many words (of three letters or more) detected as foreign are
        read as French when most of their words are French (see :meth:`_detect`), unless the
        detector's confidence is at least ``sure_detection`` (default 0.9).
    cognate_cutoffs : dict of language -> float, default {"es": 80, "pt": 80}
        Minimum rapidfuzz ratio for reading a foreign word the glossary missed as a near French
        word, per request language (``typo_cutoff`` for the others): Spanish and Portuguese
        share Latin roots with French ("dignidad", "liberdade"), and their cognates differ from
        French more than typos do; English has fewer true cognates and more false friends.
    cognate_typos : bool, default True
        Also map foreign words missed by the glossary onto near French words ("collection").
    """

    def __init__(
        self,
        glossary: dict[str, PhraseLexicon] | None = None,
        thesaurus: PhraseLexicon | None = None,
        acronyms: PhraseLexicon | None = None,
        acronym_weight: float = 1.0,
        typo_cutoff: float = 84.0,
        typo_weight: float = 0.8,
        glossary_weight: float = 1.0,
        cognate_weight: float = 0.8,
        thesaurus_weight: float = 0.35,
        min_typo_length: int = 5,
        known_word_zipf: float = 1.8,
        max_expansion_share: float = 0.5,
        short_request_words: int = 6,
        sure_detection: float = 0.9,
        cognate_typos: bool = True,
        cognate_cutoffs: dict[str, float] | None = None,
    ) -> None:
        self.glossary = glossary
        self.thesaurus = thesaurus
        self.acronyms = acronyms
        self.acronym_weight = acronym_weight
        self.typo_cutoff = typo_cutoff
        self.typo_weight = typo_weight
        self.glossary_weight = glossary_weight
        self.cognate_weight = cognate_weight
        self.thesaurus_weight = thesaurus_weight
        self.min_typo_length = min_typo_length
        self.known_word_zipf = known_word_zipf
        self.max_expansion_share = max_expansion_share
        self.short_request_words = short_request_words
        self.sure_detection = sure_detection
        self.cognate_typos = cognate_typos
        self.cognate_cutoffs = {"es": 80.0, "pt": 80.0} if cognate_cutoffs is None else cognate_cutoffs

    #: Typo look-ups cached before the cache is emptied (a word and a column each; memory:
    #: bench/README.md).
    max_typo_cache = 20_000

    def fit(self, index: ProfileIndex) -> QueryAnalyzer:
        """Bind to ``index``: its vocabulary, idf and the words written in its profiles."""
        self.index_ = index
        loosest = min(self.cognate_cutoffs.values(), default=self.typo_cutoff)
        self.typos_ = TypoCorrector(
            self.typo_cutoff, self.min_typo_length, self.known_word_zipf, loosest_cutoff=loosest
        ).fit(index)
        # Foreign words the glossary missed: their French reading (None for an Arabic word).
        self._readings: dict[str, tuple[Token, ...] | None] = {}
        # What a lexicon hit adds, as far as it does not depend on the rest of the request (it
        # depends on the vocabulary and idf, hence emptied here): see _glossary_hit and _lexicon_hit.
        self._glossary_hits: dict[tuple[PhraseLexicon, tuple[str, ...], str], _GlossaryHit | None] = {}
        self._lexicon_hits: dict[tuple[PhraseLexicon, tuple[str, ...], str], _LexiconHit] = {}
        # Foreign words read as French ones, by (language, word): see _add_cognates.
        self._cognates: dict[tuple[str, str], tuple[tuple[int, TermOrigin], ...]] = {}
        return self

    def __setstate__(self, state: dict) -> None:
        # A fitted analyser pickled before its hit caches (format 9) or its cognate cache (11)
        # existed gets them empty: they fill as requests come.
        if "index_" in state:
            state.setdefault("_glossary_hits", {})
            state.setdefault("_lexicon_hits", {})
            state.setdefault("_cognates", {})
        self.__dict__.update(state)

    def warm_up(self, detection: bool = True) -> None:
        """Load word frequencies, and the language model unless ``detection`` is False, now
        (before forking batch workers, so that they share them)."""
        if detection:
            warm_up_detector()
        _french_frequencies()

    # ------------------------------------------------------------------ words
    @property
    def typo_cache_(self) -> dict[str, tuple[int | None, float] | None]:
        """The typo corrector's cache (see :class:`matching.analysis.typos.TypoCorrector`)."""
        return self.typos_.cache_

    def is_known_word(self, word: str) -> bool:
        """See :meth:`matching.analysis.typos.TypoCorrector.is_known_word`."""
        return self.typos_.is_known_word(word)

    def _closest_column(self, surface: str, display: str, cutoff: float | None = None) -> int | None:
        return self.typos_.closest_column(surface, display, self.max_typo_cache, cutoff)

    def _add_own_french(self, query: AnalysedQuery, tokens: list[Token]) -> None:
        """Count the request's French words; map unknown ones onto the vocabulary (typos).

        Works on distinct terms (counted at C speed), since requests repeat their words.
        """
        vocabulary = self.index_.vocabulary_
        own = query.own_counts
        counted = Counter(map(_TERM, tokens))
        columns = list(map(vocabulary.get, counted))
        known = list(map(is_not, columns, repeat(None)))
        # (column, count) of the terms in the vocabulary, in the terms' order.
        pairs = cast("Iterator[tuple[int, int]]", compress(zip(columns, counted.values(), strict=True), known))
        if not own:
            own.update(pairs)  # at C speed: the vocabulary gives each term its own column
        else:
            for column, n in pairs:
                own[column] = own.get(column, 0) + n
        if all(known):
            return
        # The request's first token per term (not the shared analyser's state, which another
        # thread may reset meanwhile); built at C speed, later tokens first.
        first = dict(zip(map(_TERM, reversed(tokens)), reversed(tokens), strict=True))
        for term, n in compress(counted.items(), map(not_, known)):
            token = first[term]
            typo_column = self._closest_column(token.surface, token.display)
            if typo_column is not None:
                query.add(typo_column, self.typo_weight * n, TermOrigin("typo", token.display))

    def _add_cognates(self, query: AnalysedQuery, words: Counter[str], language: str) -> None:
        """Foreign words the glossary missed, read as French words ("irrigation", "festival").

        ``words`` counts the missed words as written; each distinct word is looked up once.
        """
        memo = self._cognates
        if len(memo) >= self.max_typo_cache:  # bounded, as the other word caches
            memo.clear()
        weight = self.cognate_weight
        for word, n in words.items():
            found = memo.get(key := (language, word))
            if found is None:
                found = memo[key] = self._cognates_of(word, language)
            for column, origin in found:
                query.add(column, weight * n, origin)

    def _cognates_of(self, word: str, language: str) -> tuple[tuple[int, TermOrigin], ...]:
        """The columns the foreign ``word`` (of ``language``) reads as in French, and their
        origins: cached by :meth:`_add_cognates`, since backlogs repeat their foreign words and
        each reading costs a French analysis and a typo look-up per token."""
        vocabulary = self.index_.vocabulary_
        cutoff = self.cognate_cutoffs.get(language, self.typo_cutoff)
        found = []
        for token in get_analyzer("fr").word(word):
            column = vocabulary.get(token.term)
            if column is None and self.cognate_typos:
                column = self._closest_column(token.surface, token.display, cutoff)
            if column is not None:
                found.append((column, TermOrigin("cognate", token.display)))
        return tuple(found)

    def _add_translated(self, query: AnalysedQuery, text: str, glossary: PhraseLexicon) -> list[Token]:
        """Map a foreign request into French; return its French rendering as tokens, in order.

        Glossary hits count as the request's own words; words the glossary misses are read
        as French cognates ("irrigation", "festival"), with a lower weight.
        """
        tokens = get_analyzer(glossary.source_language).tokens(text)
        terms = list(map(_TERM, tokens))
        words = list(map(_DISPLAY, tokens))
        # Each word's French reading, for the words the glossary misses (see _read_missed), looked
        # up at once at C speed; _UNREAD for a word not read yet.
        readings: list[Any] = list(map(self._readings.get, words, repeat(_UNREAD)))
        origins = query.origins
        rendering: list[Token] = []
        counts: dict[int, float] = {}
        missed: list[str] = []  # the words that may be cognates, as written, in order
        i = 0
        for hit in chain(glossary.find(terms), (None,)):
            # The words before the hit (or the end), which the glossary missed, in one go.
            end = len(tokens) if hit is None else hit.start
            if end > i:
                found: list[tuple[Token, ...] | None] = readings[i:end]
                if _UNREAD in found:
                    found = self._read_missed(words[i:end])
                # Words read as nothing (French stop words) are left out: they add no cognate either.
                missed.extend(compress(words[i:end], found))
                rendering.extend(chain.from_iterable(filter(None, found)))
            if hit is None:
                break
            i = hit.end
            source = " ".join(words[hit.start : hit.end])
            hit_found = self._glossary_hit(glossary, hit.terms, source, hit.entries)
            if hit_found is None:
                # The glossary's French is in no profile: the words may still be cognates of
                # words that are ("nationality" for "nationalité" where the glossary says "citoyenneté").
                missed.extend(words[hit.start : hit.end])
                rendering.extend(chain.from_iterable(map(get_analyzer("fr").word, words[hit.start : hit.end])))
                continue
            share, hit_rendering, hit_columns = hit_found
            rendering.extend(hit_rendering)
            for column, origin in hit_columns:
                counts[column] = counts.get(column, 0.0) + share
                origins.setdefault(column, origin)
        # Counted once, in order of first occurrence, as the cognates are added.
        self._add_cognates(query, Counter(missed), glossary.source_language)
        for column, n in counts.items():
            tf = 1.0 + math.log(n) if n > 1 else n
            query.add(column, self.glossary_weight * tf, query.origins[column])
        return rendering

    def _glossary_hit(
        self, glossary: PhraseLexicon, key: tuple[str, ...], source: str, entries: tuple[Entry, ...]
    ) -> _GlossaryHit | None:
        """What the glossary hit ``key`` (its entries ``entries``), written ``source`` in the
        request, adds to the request: None when none of its French terms is in the vocabulary.

        Cached by hit and words as written, since requests repeat them: each later hit costs a
        dictionary look-up, where it built its tokens and origins term by term. The cached
        objects are immutable and all hold the same ``source``, as one request's would.
        """
        memo = self._glossary_hits
        found = memo.get(cache_key := (glossary, key, source), _NOT_CACHED)
        if found is not _NOT_CACHED:
            return found  # type: ignore[return-value]
        vocabulary = self.index_.vocabulary_
        if not any(term in vocabulary for entry in entries for term in entry.target_terms):
            found = None
        else:
            rendering: list[Token] = []
            columns: list[tuple[int, TermOrigin]] = []
            for entry in entries:
                for term in entry.target_terms:
                    rendering.append(Token(source, source, term))
                    column = vocabulary.get(term)
                    if column is not None:
                        columns.append((column, TermOrigin("glossary", source, entry.target)))
            # An ambiguous term's senses share one word's weight.
            found = (1.0 / len(entries), tuple(rendering), tuple(columns))
        if len(memo) >= self.max_typo_cache:  # bounded, as the word caches
            memo.clear()
        memo[cache_key] = found
        return found

    def _read_missed(self, words: list[str]) -> list[tuple[Token, ...] | None]:
        """The French reading of each foreign word (as written) that the glossary missed, cached:
        its French tokens (none for a French stop word), or None for an Arabic word.

        Only Latin-script words can be French cognates: an Arabic word missed by the glossary,
        transliterated, would be "corrected" into a random French word.
        """
        readings = self._readings
        if len(readings) >= self.max_typo_cache:  # bounded, as the other word caches
            readings.clear()
        french = get_analyzer("fr")
        for word in set(words).difference(readings):
            readings[word] = None if is_arabic_word(word) else french.word(word)
        return list(map(readings.__getitem__, words))

    def _lexicon_weights(
        self,
        query: AnalysedQuery,
        tokens: list[Token],
        terms: list[str],
        lexicon: PhraseLexicon,
        weight: float,
        via: str,
    ) -> tuple[dict[int, float], dict[int, TermOrigin]]:
        """Weights of the terms that the request's phrases found in ``lexicon`` stand for, and
        where each came from.

        Each phrase found hands its targets a share ``weight`` of its own words' idf mass (the
        most they can add to a score), split over its targets by their idf: one everyday word
        expanded into five technical terms weighs less, all five together, than the word itself
        found literally in a profile. ``terms`` are the tokens' terms, as the lexicon looks them up.
        """
        weights: dict[int, float] = {}
        origins: dict[int, TermOrigin] = {}
        own = query.own_counts
        memo = self._lexicon_hits
        for hit in lexicon.find(terms):
            source = " ".join(map(_DISPLAY, tokens[hit.start : hit.end]))
            found = memo.get((lexicon, hit.terms, source))
            # A one-word hit's source is its word as the request holds it (join returns it): its
            # origins must hold that very string, as the request's other origins may (a typo's, a
            # glossary's); equal words from another request are rebuilt (pickles, which share
            # strings by identity, then come out byte for byte as without the cache).
            if found is None or (hit.end - hit.start == 1 and found[1] and found[1][0][2].words is not source):
                found = self._lexicon_hit(lexicon, hit.terms, hit.entries, source, via)
            source_mass, targets, targets_mass = found
            # Targets the request says itself are left out (they count fully already).
            kept = [target for target in targets if target[0] not in own]
            if not kept:
                continue
            if len(kept) < len(targets):
                targets_mass = sum(column_idf for _, column_idf, _ in kept)
            share = weight * source_mass / targets_mass
            for column, _, origin in kept:
                weights[column] = weights.get(column, 0.0) + share
                if column not in origins:
                    origins[column] = origin
        return weights, origins

    def _lexicon_hit(
        self, lexicon: PhraseLexicon, key: tuple[str, ...], entries: tuple[Entry, ...], source: str, via: str
    ) -> _LexiconHit:
        """For a hit of the terms ``key`` (its entries ``entries``, written ``source`` in the
        request) in ``lexicon``: its words' idf mass, its targets in the vocabulary (column, idf
        and origin; each column once, with the first target that has it) and their idf mass.

        Cached by hit and words as written: none of it depends on the rest of the request. The
        origins are immutable and all hold the same ``source``, as one request's would.
        """
        vocabulary, idf = self.index_.vocabulary_, self.index_.idf_
        unseen = float(self.index_.unseen_idf_)
        source_mass = sum(float(idf[c]) if (c := vocabulary.get(term)) is not None else unseen for term in key)
        targets: dict[int, str] = {}
        for entry in entries:
            for term in entry.target_terms:
                column = vocabulary.get(term)
                if column is not None:
                    targets.setdefault(column, entry.target)
        columns = tuple(
            (column, float(idf[column]), TermOrigin(via, source, target)) for column, target in targets.items()
        )
        memo = self._lexicon_hits
        if len(memo) >= self.max_typo_cache:  # bounded, as the word caches
            memo.clear()
        # Summed in the same order as the request-dependent sums of _lexicon_weights.
        found = memo[lexicon, key, source] = (source_mass, columns, sum(c[1] for c in columns))
        return found

    # ------------------------------------------------------------------ requests
    def _detect(self, texts: Sequence[str]) -> list[DetectedLanguage]:
        """Each request's language; a short request whose words are mostly French is French.

        A few words, misspelt or abbreviated ("fusin de comunes", "amende stationement"), fool
        the detector into Spanish or Dutch, and a French query read through the Spanish glossary
        finds nothing. Up to ``short_request_words`` words, unless the detector is sure (at least
        ``sure_detection``), the request is French when most of its words are real French
        words, words of the profiles or their misspellings.
        """
        detected = detect_languages(texts)
        return [self._french_if_short(text, language) for text, language in zip(texts, detected, strict=True)]

    def _french_if_short(self, text: str, detected: DetectedLanguage) -> DetectedLanguage:
        if detected.code == "fr" or detected.confidence >= self.sure_detection:
            return detected
        words = [t for t in get_analyzer("fr").tokens(text) if len(t.surface) >= 3]
        if not words or len(words) > self.short_request_words:
            return detected
        french = sum(
            self.is_known_word(t.display.lower())
            or t.term in self.index_.vocabulary_
            or self._closest_column(t.surface, t.display) is not None
            for t in words
        )
        share = french / len(words)
        # Half is enough against a language the engine cannot read anyway (Catalan, Italian...);
        # against one it translates, French must be the majority.
        enough = share > 0.5 if detected.code in CROSS_LINGUAL else share >= 0.5
        return DetectedLanguage("fr", round(share, 3)) if enough else detected

    def analyse(self, text: str, language: str | None = None) -> AnalysedQuery:
        """Analyse one request. ``language`` (ISO 639-1) skips detection when given."""
        return self._analyse(text, DetectedLanguage(language, 1.0) if language else self._detect([text])[0])

    def analyse_many(self, texts: Sequence[str], languages: Sequence[str | None] | None = None) -> list[AnalysedQuery]:
        """Analyse a block of requests; ``languages`` (ISO 639-1 or None, one per text) skip
        detection where given. The others' languages are detected together (one vectorised
        scan of the block, see :func:`matching.analysis.language.detect_languages`)."""
        languages = languages if languages is not None else [None] * len(texts)
        undeclared = [i for i, language in enumerate(languages) if not language]
        detected: dict[int, DetectedLanguage] = {}
        if undeclared:
            detected = dict(zip(undeclared, self._detect([texts[i] for i in undeclared]), strict=True))
        return [
            self._analyse(text, DetectedLanguage(language, 1.0) if language else detected[i])
            for i, (text, language) in enumerate(zip(texts, languages, strict=True))
        ]

    def _analyse(self, text: str, detected: DetectedLanguage) -> AnalysedQuery:
        query = AnalysedQuery(detected)
        code = detected.code
        if code in CROSS_LINGUAL and self.glossary and code in self.glossary:
            tokens = self._add_translated(query, text, self.glossary[code])
        else:
            tokens = get_analyzer("fr").tokens(text)
            self._add_own_french(query, tokens)
        own, query_weights = query.own_counts, query.weights
        if query_weights.keys().isdisjoint(own.keys()):
            # The usual case (no typo landed on a word of the request): at C speed.
            query_weights.update(zip(own.keys(), map(_OWN_WEIGHTS.__getitem__, own.values()), strict=True))
        else:
            for column, count in own.items():
                query_weights[column] = query_weights.get(column, 0.0) + 1.0 + math.log(count)
        terms = list(map(_TERM, tokens))
        if self.acronyms is not None:
            # An acronym no profile writes ("APL") stands for its expansion in full, outside the
            # thesaurus budget; one the profiles write is matched as written, like any word.
            vocabulary = self.index_.vocabulary_
            # Most requests hold no such acronym: the per-word masking below is skipped then.
            if any(t not in vocabulary for t in self.acronyms.trie_.keys() & set(terms)):
                unknown = [t if t.term not in vocabulary else _NOT_AN_ACRONYM for t in tokens]
                weights, origins = self._lexicon_weights(
                    query, unknown, list(map(_TERM, unknown)), self.acronyms, self.acronym_weight, "abbreviation"
                )
                for column, weight in weights.items():
                    query.add(column, weight, origins[column])
        if self.thesaurus is not None:
            # Translated requests are expanded too, on their French rendering.
            weights, origins = self._lexicon_weights(
                query, tokens, terms, self.thesaurus, self.thesaurus_weight, "thesaurus"
            )
            if weights:
                # Counted in idf mass, i.e. in the most each term can add to a score: together,
                # expansions never outweigh a share of the request's own words.
                idf = self.index_.idf_
                budget = self.max_expansion_share * _idf_mass(query_weights, idf)
                scale = min(1.0, budget / _idf_mass(weights, idf))
                query_origins = query.origins
                for column, weight in weights.items():  # query.add, inlined
                    query_weights[column] = query_weights.get(column, 0.0) + weight * scale
                    query_origins.setdefault(column, origins[column])
        return query

    def vectorize(self, queries: list[AnalysedQuery]) -> SparseRows:
        """Query weights as rows of shape (n_queries, n_terms), float32.

        The index's entries already carry idf (BM25 impacts), so request terms are not weighted
        by idf again; rows are not normalised either, since a request's score is a sum of its
        terms' impacts (the shown score is calibrated apart, see :mod:`matching.retrieval.calibration`).
        Plain arrays, not a scipy matrix: on a single request, making the matrix would cost more
        than the products it takes part in (see :class:`matching.index.sparse.SparseRows`).
        """
        return SparseRows.from_rows([q.weights for q in queries], self.index_.n_terms)
