"""Typo correction: a misspelt request word mapped onto the closest word written in the profiles."""

from __future__ import annotations

import math

from rapidfuzz import fuzz, process

from matching.analysis.frequency import french_frequencies, french_frequencies_loaded
from matching.index.profiles import ProfileIndex

__all__ = ["TypoCorrector"]


#: wordfreq's French frequency table (see :func:`matching.analysis.frequency.french_frequencies`).
_french_frequencies = french_frequencies
_french_frequencies_loaded = french_frequencies_loaded


class TypoCorrector:
    """Maps an unknown word onto the closest indexed word (rapidfuzz ratio), scikit-learn style.

    Parameters
    ----------
    cutoff : float, default 84
        Least similarity (0-100) of a correction.
    min_length : int, default 5
        Shorter words are never corrected.
    known_word_zipf : float, default 1.8
        A real French word at least this frequent (wordfreq's Zipf scale) is never "corrected"
        into a look-alike ("argent" is not a typo for "agents").
    loosest_cutoff : float, optional
        The lowest cutoff any caller will ask :meth:`closest_column` for (cognates of Spanish
        and Portuguese words); the cache keeps the best candidate at that cutoff, with its score.

    Attributes (after :meth:`fit`): ``index_``, ``windows_`` (candidates by first letter and
    length), ``known_word_frequency_`` and ``cache_`` (look-ups by word as written).
    """

    #: Look-ups cached before the cache is emptied (when not given to :meth:`closest_column`).
    max_cache = 20_000

    def __init__(
        self,
        cutoff: float = 84.0,
        min_length: int = 5,
        known_word_zipf: float = 1.8,
        loosest_cutoff: float | None = None,
    ) -> None:
        self.cutoff = cutoff
        self.min_length = min_length
        self.known_word_zipf = known_word_zipf
        self.loosest_cutoff = loosest_cutoff

    def fit(self, index: ProfileIndex) -> TypoCorrector:
        """Bind to the words written in ``index``'s profiles."""
        self.index_ = index
        # Candidates for typo mapping, by first letter and length: misspellings seldom touch the
        # first letter, and comparing with a twentieth of the vocabulary keeps lookups fast.
        buckets: dict[tuple[str, int], list[str]] = {}
        for surface in index.surface_terms_:
            if len(surface) >= self.min_length - 1 and surface.isalpha():
                buckets.setdefault((surface[0], len(surface)), []).append(surface)
        # The candidates of a word of length n are those of lengths n - 2 to n + 2: gathered once
        # per (first letter, n) here, not at every look-up.
        longest = max((length for _, length in buckets), default=0)
        windows = {
            (first, n): [s for length in range(n - 2, n + 3) for s in buckets.get((first, length), ())]
            for first in {first for first, _ in buckets}
            for n in range(self.min_length, longest + 3)
        }
        self.windows_ = {key: window for key, window in windows.items() if window}
        from wordfreq import cB_to_freq  # here: see matching.analysis.frequency

        # wordfreq stores frequencies in centibels: the threshold on that grid, so that comparing
        # a stored frequency with it decides as ``zipf_frequency(word) < known_word_zipf`` would.
        self.known_word_frequency_ = cB_to_freq(math.ceil(round((self.known_word_zipf - 9) * 100, 6)))
        self.cache_: dict[str, tuple[int | None, float] | None] = {}
        self.loosest_cutoff_ = self.cutoff if self.loosest_cutoff is None else min(self.cutoff, self.loosest_cutoff)
        return self

    def is_known_word(self, word: str) -> bool:
        """True when the lower-case alphabetic ``word`` is a real French word (at least
        ``known_word_zipf``), as ``zipf_frequency(word, "fr") >= known_word_zipf`` says.

        The frequency table is read directly: ``zipf_frequency`` would tokenise the word again,
        and its handling of digits does not concern alphabetic words.
        """
        return _french_frequencies().get(word, 0.0) >= self.known_word_frequency_

    def _look_alike(self, surface: str, display: str) -> tuple[str, float, int] | None:
        """rapidfuzz's closest candidate to ``surface`` at the loosest cutoff, None when there
        is none or ``display`` is a real French word. Both must hold, in either order: the
        cheaper first. Once the frequency table is read, the known-word test (a dictionary
        look-up) spares the fuzzy search; until then, the search goes first, and the table (0.3 s
        to import wordfreq and read it) is read only for a word with a look-alike, which most
        unknown words of a one-off search lack."""
        known_first = _french_frequencies_loaded()
        if known_first and self.is_known_word(display):
            return None
        choices = self.windows_.get((surface[0], len(surface)), ())
        hit = process.extractOne(surface, choices, scorer=fuzz.ratio, score_cutoff=self.loosest_cutoff_)
        if hit is None or (not known_first and self.is_known_word(display)):
            return None
        return hit

    def closest_column(
        self, surface: str, display: str, max_cache: int | None = None, cutoff: float | None = None
    ) -> int | None:
        """Vocabulary column of the indexed word closest to ``surface`` with a similarity of at
        least ``cutoff`` (default :attr:`cutoff`), or None.

        Cached by ``display``, not ``surface``: whether the word is a real French word depends
        on its accents ("seria" is, "sería" is not), and both fold to the same surface. The
        cache keeps the best candidate at the loosest cutoff with its score, so typos and
        cognates share it; it is emptied past ``max_cache`` entries (default :attr:`max_cache`).
        """
        cutoff = self.cutoff if cutoff is None else cutoff
        bound = self.max_cache if max_cache is None else max_cache
        if len(self.cache_) > bound:  # bounded: requests bring endless new words
            self.cache_.clear()
        if display in self.cache_:
            cached = self.cache_[display]
        else:
            cached = None
            if len(surface) >= self.min_length and surface.isalpha():
                hit = self._look_alike(surface, display)
                if hit is not None:
                    cached = (self.index_.vocabulary_.get(self.index_.surface_terms_[hit[0]]), hit[1])
            self.cache_[display] = cached
        if cached is None or cached[1] < cutoff:
            return None
        return cached[0]
