"""Text analysis: the one chain that turns French (or foreign) text into index terms.

Steps, in order: Unicode NFKC normalisation, removal of French elisions (``l'``, ``d'``,
``qu'``... with a straight or typographic apostrophe), word tokenisation, case and accent
folding (unidecode), stop-word removal, Snowball stemming (PyStemmer). Acronyms and numbers
are kept: short tokens and tokens holding digits are not stemmed, and an all-capitals token
(``PLU``, ``ONG``) is never taken for a stop word.

Each distinct raw word is analysed once and cached, which is what makes analysis of large
corpora fast: text is mostly made of words already seen. The cache is bounded (a service
fed arbitrary text must not grow without limit): past :attr:`Analyzer.max_cache_words`
words it is emptied and refills as words come back.
"""

from __future__ import annotations

import gzip
import itertools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain

import msgpack
import numpy as np
import Stemmer
from stop_words import get_stop_words
from unidecode import unidecode

from matching.analysis.arabic import ARABIC_STOP_WORDS, is_arabic_word, normalize_arabic, strip_clitics

__all__ = ["Analyzer", "Token", "WORD", "fold", "get_analyzer", "ragged_positions", "split_texts", "SUPPORTED_STEMMERS"]

#: Snowball stemmers by ISO 639-1 code, for the languages the product handles.
SUPPORTED_STEMMERS = {"fr": "french", "en": "english", "es": "spanish", "pt": "portuguese", "ar": "arabic"}

_APOSTROPHES = "'’ʼ‘`´"
_ELISION = re.compile(
    r"\b(?:jusqu|lorsqu|puisqu|quoiqu|qu|[cdjlmnst])[" + _APOSTROPHES + r"](?=\w)",
    re.IGNORECASE,
)
# Letters and digits; the underscore and punctuation separate words. Arabic vowel marks are
# combining characters, not letters: without them here, "مُدَرَّب" would split into four words.
WORD = re.compile(r"(?:[^\W_]|[\u0610-\u061a\u064b-\u065f\u0670])+")
_WORD = WORD
_ASCII_WORD = re.compile(r"[a-z0-9]+")
# Between texts split at once (see :func:`split_texts`): a piece with no word in it.
_TEXT_BREAK = "\x00"
# General-purpose stop lists also hold content words that matter in local governance
# ("état civil", "voie", "point d'eau", "personnes âgées"); those stay searchable.
_KEEP_WORDS = {
    "fr": {
        "etat",
        "voie",
        "personne",
        "personnes",
        "nouveau",
        "nouveaux",
        "point",
        "force",
        "haut",
        "nom",
        "parole",
        "piece",
        "valeur",
        "mot",
        "droite",
        "grande",
        "sujet",
        "essai",
        "debut",
        "chose",
        "choses",
        "plein",
        "devoir",
        "bon",
        "juste",
        "dos",
        "passe",
        "mine",
        "nomme",
    },
}
# Letter-writing boilerplate adds nothing to a match in any of the handled languages.
_EXTRA_STOP_WORDS = {
    "fr": {
        "madame",
        "monsieur",
        "mme",
        "cordialement",
        "salutations",
        "bonjour",
        "merci",
        "veuillez",
        "agreer",
        "svp",
        "objet",
        "etc",
        "cf",
    },
    "en": {"dear", "regards", "sincerely", "thank", "thanks", "please", "hello"},
    "es": {"estimado", "estimados", "saludos", "atentamente", "gracias", "cordialmente"},
    "pt": {"prezado", "prezados", "atenciosamente", "obrigado", "obrigada", "cumprimentos"},
}


class _Transliteration(dict[int, str]):
    """unidecode's ASCII rendering of each character, by code point, filled as characters come.

    unidecode renders a text character by character, in a Python loop; ``str.translate`` with
    this table does the same at C speed (see :func:`transliterate`)."""

    def __missing__(self, codepoint: int) -> str:
        self[codepoint] = ascii_form = unidecode(chr(codepoint))
        return ascii_form


_TRANSLITERATION = _Transliteration()


def transliterate(text: str) -> str:
    """``unidecode(text)``: each character rendered in ASCII (accents stripped, other scripts
    transliterated, characters without a rendering dropped)."""
    return text if text.isascii() else text.translate(_TRANSLITERATION)


def fold(text: str) -> str:
    """Normalise, lower-case and strip accents: ``"Régie d'Eau"`` -> ``"regie d'eau"``."""
    return transliterate(unicodedata.normalize("NFKC", text)).lower()


#: Foreign stop lists keep only words among this many most frequent words of the language.
_FUNCTION_WORD_RANK = 250


def _stop_words(language: str) -> frozenset[str]:
    try:
        words = get_stop_words(language)
    except Exception:  # stop-words raises its own error type for unknown languages
        words = []
    if language != "fr":
        # Some stop lists (English: 1,300 words) hold content words such as "fire", "home",
        # "open" or "water"; function words are all among a language's most frequent words.
        frequent = set(_top_words(language, _FUNCTION_WORD_RANK))
        words = [w for w in words if w in frequent]
    if language == "ar":
        # Arabic words keep their script (see :mod:`matching.analysis.arabic`): unidecode would turn
        # them into ASCII skeletons that collide with Latin words ("fy", "mn", "la").
        return frozenset(normalize_arabic(w) for w in words) | ARABIC_STOP_WORDS
    folded = {fold(w).strip(_APOSTROPHES + ".") for w in words}
    folded |= _EXTRA_STOP_WORDS.get(language, set())
    folded -= _KEEP_WORDS.get(language, set())
    return frozenset(w for w in folded if w)


def _top_words(language: str, n: int) -> list[str]:
    """``wordfreq.top_n_list(language, n)``, read from the head of the word list only.

    top_n_list reads and keeps the whole list (~20 MB per language; 5 to 20 times slower:
    bench/README.md) for its first words: here the list is unpacked bucket by bucket (most
    frequent first, as wordfreq stores it) until ``n`` words without a digit sequence are found,
    as top_n_list counts them. A language without a list of its own (wordfreq would pick the
    closest one) goes to top_n_list.
    """
    from wordfreq import available_languages, top_n_list  # here: see matching.analysis.frequency
    from wordfreq.numbers import has_digit_sequence

    path = available_languages("best").get(language)
    if path is None:
        return top_n_list(language, n)
    words: list[str] = []
    with gzip.open(path, "rb") as packed:
        unpacker = msgpack.Unpacker(packed, raw=False)
        n_buckets = unpacker.read_array_header() - 1
        header = unpacker.unpack()
        if not isinstance(header, dict) or header.get("format") != "cB" or header.get("version") != 1:
            return top_n_list(language, n)
        for _ in range(n_buckets):
            for word in unpacker.unpack():
                if not has_digit_sequence(word):
                    words.append(word)
                    if len(words) >= n:
                        return words
    return words


@dataclass(frozen=True, slots=True)
class Token:
    """One analysed word: as written (lower-cased, for display), folded, and its index term."""

    display: str
    surface: str
    term: str


class Analyzer:
    """Cached text analysis for one language.

    Parameters
    ----------
    language : str, default "fr"
        ISO 639-1 code; selects the Snowball stemmer and the stop list. Languages without a
        stemmer are folded and tokenised only.
    min_stem_length : int, default 4
        Words shorter than this are kept as they are (acronyms, short technical words).
    """

    #: Distinct words cached before the cache is emptied. A batch process holds one, so the
    #: bound is what keeps a long backlog's memory flat; French requests reuse far fewer
    #: distinct words (memory by bound: bench/README.md).
    max_cache_words = 20_000

    def __init__(self, language: str = "fr", min_stem_length: int = 4) -> None:
        self.language = language
        self.min_stem_length = min_stem_length
        algorithm = SUPPORTED_STEMMERS.get(language)
        self._stemmer = Stemmer.Stemmer(algorithm) if algorithm else None
        self._stop = _stop_words(language)
        self._cache: dict[str, tuple[Token, ...]] = {}
        # Whitespace-separated pieces of normalised text and their tokens (see :meth:`tokens`),
        # bounded as the word cache.
        self._pieces: dict[str, tuple[Token, ...]] = {}

    # ------------------------------------------------------------------ words
    def _analyse_word(self, word: str) -> tuple[Token, ...]:
        if self.language == "ar" and is_arabic_word(word):
            return self._analyse_arabic_word(word)
        is_acronym = len(word) >= 2 and word.isupper()
        folded = transliterate(word).lower()
        out = []
        parts = _ASCII_WORD.findall(folded)
        # unidecode can split one word (e.g. CJK, ligatures), hence the inner loop.
        for part in parts:
            has_digit = not part.isalpha()
            if not has_digit and len(part) < 2:
                continue
            if part in self._stop and not is_acronym:
                continue
            # Latin words in an Arabic request are read later as French (cognates), unstemmed here.
            if has_digit or len(part) < self.min_stem_length or self._stemmer is None or self.language == "ar":
                term = part
            else:
                term = self._stemmer.stemWord(part)
            out.append(Token(word.lower() if len(parts) == 1 else part, part, term))
        return tuple(out)

    def _analyse_arabic_word(self, word: str) -> tuple[Token, ...]:
        """Normalise, strip clitics, drop function words, stem (see :mod:`matching.analysis.arabic`)."""
        surface = normalize_arabic(word)
        if surface in self._stop:
            return ()
        bare = strip_clitics(surface)
        if len(bare) < 2 or bare in self._stop:
            return ()
        if self._stemmer is None or len(bare) < self.min_stem_length or not bare.isalpha():
            return (Token(word, surface, bare),)
        # Snowball's own normalisation is a no-op after ours; its prefix rules may strip a
        # letter more, the same way for glossary entries and requests.
        return (Token(word, surface, self._stemmer.stemWord(bare) or bare),)

    def _remember(self, word: str) -> tuple[Token, ...]:
        """Analyse a word not in the cache and cache it; the cache is emptied when full,
        since requests bring an endless supply of new words (names, typos)."""
        if len(self._cache) >= self.max_cache_words:
            self._cache.clear()
        hit = self._cache[word] = self._analyse_word(word)
        return hit

    def word(self, word: str) -> tuple[Token, ...]:
        """Analyse one raw word (cached)."""
        hit = self._cache.get(word)
        return hit if hit is not None else self._remember(word)

    # ------------------------------------------------------------------ text
    @staticmethod
    def words(text: str) -> list[str]:
        """Split raw text into raw words, after NFKC normalisation and elision removal."""
        text = unicodedata.normalize("NFKC", text)
        return _WORD.findall(_ELISION.sub(" ", text))

    def _remember_piece(self, piece: str) -> tuple[Token, ...]:
        """Analyse a whitespace-separated piece of normalised text not in the piece cache (its
        words, elisions removed, through the word cache) and cache it; emptied when full."""
        if len(self._pieces) >= self.max_cache_words:
            self._pieces.clear()
        hit = self._pieces[piece] = tuple(chain.from_iterable(map(self.word, _WORD.findall(_ELISION.sub(" ", piece)))))
        return hit

    def tokens(self, text: str) -> list[Token]:
        """Analyse ``text`` into tokens, keeping their order (the tokens of :meth:`words`)."""
        # Neither elisions nor words span white space (see :func:`split_texts`), so the text's
        # tokens are those of its whitespace-separated pieces, in order. Each distinct piece
        # ("l'eau,") is cached with its tokens: a warm text is split and looked up at C speed,
        # without the two regular expressions. NFKC leaves ASCII text as it is.
        pieces = (text if text.isascii() else unicodedata.normalize("NFKC", text)).split()
        cache = self._pieces
        try:
            analysed = list(map(cache.__getitem__, pieces))
        except KeyError:
            # get, not `in` then [...]: another thread may empty the cache in between.
            analysed = [hit if (hit := cache.get(p)) is not None else self._remember_piece(p) for p in pieces]
        return list(chain.from_iterable(analysed))

    def terms_of_texts(self, texts: Sequence[str]) -> tuple[list[tuple[str, ...]], list[int]]:
        """Each text's index terms (what :meth:`__call__` returns) and its number of raw words
        (what :meth:`words` returns), for many texts at once (see :func:`split_texts`)."""
        words, word_ids, text_of = split_texts(texts)
        terms = [tuple(token.term for token in self.word(word)) for word in words]
        n_words = np.bincount(text_of, minlength=len(texts)).tolist()
        ids = word_ids.tolist()
        out = []
        start = 0
        for count in n_words:
            out.append(tuple(itertools.chain.from_iterable(map(terms.__getitem__, ids[start : start + count]))))
            start += count
        return out, n_words

    def __call__(self, text: str) -> list[str]:
        """Analyse ``text`` into index terms (stems), in order."""
        return [t.term for t in self.tokens(text)]

    def __getstate__(self) -> dict:
        # The stemmer is a C object; it is rebuilt on load. The cache is kept: it is warm.
        state = self.__dict__.copy()
        state["_stemmer"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        state.setdefault("_pieces", {})  # pickled before the piece cache existed
        self.__dict__.update(state)
        algorithm = SUPPORTED_STEMMERS.get(self.language)
        self._stemmer = Stemmer.Stemmer(algorithm) if algorithm else None


class _Positions(dict[str, int]):
    """Each key's position in order of first look-up: ``positions[key]`` adds an unseen key."""

    def __missing__(self, key: str) -> int:
        self[key] = position = len(self)
        return position


def split_texts(texts: Sequence[str]) -> tuple[dict[str, int], np.ndarray, np.ndarray]:
    """Split many texts into raw words at once, as :meth:`Analyzer.words` splits each.

    Returns the distinct words with their number of occurrences, in order of first occurrence
    (a dict), then for each occurrence, in order, the position of its word in that dict and the
    position of its text (two int32 arrays).

    Neither elisions nor words span white space, so a text's words are those of its
    whitespace-separated pieces, in order; a corpus holds far fewer distinct pieces than pieces,
    and each distinct piece goes through the regular expressions once (three times faster than
    :meth:`Analyzer.words` on each profile description: bench/README.md).
    """
    # A distinct piece gets the next position when first met, in one pass over all pieces, a
    # chunk of texts at a time: the pieces of 10,000 descriptions as one list of strings held
    # 60 MiB at once, the peak of a batch process's memory (bench/README.md).
    piece_position = _Positions()
    ids_and_texts = [
        _piece_ids(texts[lo : lo + _SPLIT_CHUNK], lo, piece_position) for lo in range(0, len(texts), _SPLIT_CHUNK)
    ]
    piece_ids = np.concatenate([np.zeros(0, dtype=np.int32), *(ids for ids, _ in ids_and_texts)])
    text_of_piece = np.concatenate([np.zeros(0, dtype=np.int32), *(of for _, of in ids_and_texts)])
    # Each distinct piece's words, as positions among the distinct words (first seen, first placed).
    word_position = _Positions()
    piece_words = [
        list(map(word_position.__getitem__, _WORD.findall(_ELISION.sub(" ", piece)))) for piece in piece_position
    ]
    words_per_piece = np.fromiter(map(len, piece_words), dtype=np.int32, count=len(piece_words))
    flat_words = np.fromiter(itertools.chain.from_iterable(piece_words), dtype=np.int32)
    per_occurrence = words_per_piece[piece_ids]
    word_ids = flat_words[ragged_positions(words_per_piece, piece_ids)]
    text_of = np.repeat(text_of_piece, per_occurrence)
    counts = np.bincount(word_ids, minlength=len(word_position)).tolist()
    return dict(zip(word_position, counts, strict=True)), word_ids, text_of


def _piece_ids(texts: Sequence[str], first: int, piece_position: _Positions) -> tuple[np.ndarray, np.ndarray]:
    """For each whitespace-separated piece of ``texts`` (NFKC-normalised), in order, its
    position in ``piece_position`` and the position of its text (``first`` for the first)."""
    normalized = [unicodedata.normalize("NFKC", text) for text in texts]
    joined = f" {_TEXT_BREAK} ".join(normalized)
    if joined.count(_TEXT_BREAK) == len(texts) - 1:
        # No text holds the break character: one list of all pieces, breaks between texts
        # (a piece without words), in place of a list per text for the garbage collector to track.
        flat = joined.split()
        piece_ids = np.fromiter(map(piece_position.__getitem__, flat), dtype=np.int32, count=len(flat))
        text_of_piece = np.cumsum(piece_ids == piece_position.get(_TEXT_BREAK, -1), dtype=np.int32)
        return piece_ids, text_of_piece + np.int32(first)
    pieces = [text.split() for text in normalized]
    pieces_per_text = np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces))
    piece_ids = np.fromiter(
        map(piece_position.__getitem__, itertools.chain.from_iterable(pieces)),
        dtype=np.int32,
        count=int(pieces_per_text.sum()),
    )
    return piece_ids, np.repeat(np.arange(first, first + len(texts), dtype=np.int32), pieces_per_text)


#: Texts split together by :func:`split_texts` (its memory grows with the chunk, not the corpus).
_SPLIT_CHUNK = 1000


def ragged_positions(lengths: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Positions, in the concatenation of ragged rows of ``lengths``, of all items of the rows
    ``rows`` in turn: ``concatenate([arange(start[r], start[r] + lengths[r]) for r in rows])``."""
    lengths = np.asarray(lengths, dtype=np.int64)
    starts = np.cumsum(lengths) - lengths
    per_row = lengths[rows]
    ends = np.cumsum(per_row)
    return np.repeat(starts[rows] - (ends - per_row), per_row) + np.arange(ends[-1] if len(ends) else 0)


_SHARED: dict[str, Analyzer] = {}


def get_analyzer(language: str = "fr") -> Analyzer:
    """Return the process-wide analyser for ``language`` (its cache is shared)."""
    analyzer = _SHARED.get(language)
    if analyzer is None:
        analyzer = _SHARED[language] = Analyzer(language)
    return analyzer
