"""Phrase lexicons that rewrite request words into the profiles' vocabulary.

Two lexicons use the same machinery:

- the **glossary** (``data/glossary.csv``: ``lang,term,french``) maps English, Spanish and
  Portuguese terms, multi-word ones included, to French;
- the **thesaurus** (``data/thesaurus.csv``: ``domain,technical,everyday``) maps everyday
  French expressions ("tas d'ordures brûlés") to the technical terms of labelling dossiers
  ("décharge sauvage").

Entries are matched on analysed terms (folded, stop words removed, stemmed), so inflection,
accents and little words do not get in the way; the longest entry wins at each position.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import compress
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from matching.analysis.frequency import zipf_frequency
from matching.analysis.text import get_analyzer

__all__ = ["Entry", "LexiconHit", "PhraseLexicon", "load_acronyms", "load_glossary", "load_thesaurus"]


@dataclass(frozen=True, slots=True)
class Entry:
    """One lexicon entry: the phrase ``source`` stands for ``target``, analysed as ``target_terms``."""

    source: str
    target: str
    target_terms: tuple[str, ...]


class LexiconHit(NamedTuple):
    """Terms ``start:end`` of a request, ``terms``, match the entries ``entries`` (one per sense
    or target).

    A named tuple, built with ``tuple.__new__`` several times per request: a quarter of a frozen
    dataclass's cost (bench/README.md)."""

    start: int
    end: int
    entries: tuple[Entry, ...]
    terms: tuple[str, ...]


_new_hit = tuple.__new__


class PhraseLexicon:
    """Longest-match phrase lookup over analysed term sequences.

    Parameters
    ----------
    entries : iterable of (source phrase, target phrase)
        Phrases are plain text; sources are analysed in ``source_language``, targets in French.
    source_language : str
        ISO 639-1 code of the source phrases.
    max_terms : int, default 6
        Entries longer than this (in analysed terms) are ignored.
    max_single_word_zipf : float, optional
        One-word entries whose word is at least this frequent in the source language
        (wordfreq's Zipf scale) are ignored: a word as common as "écoles" says little about
        the sub-topic of a request. None keeps them all.
    """

    def __init__(
        self,
        entries: Iterable[tuple[str, str]],
        source_language: str,
        max_terms: int = 6,
        max_single_word_zipf: float | None = None,
    ) -> None:
        self.source_language = source_language
        self.max_terms = max_terms
        self.max_single_word_zipf = max_single_word_zipf
        self._entries = list(entries)
        self.fit()

    def fit(self) -> PhraseLexicon:
        source = get_analyzer(self.source_language)
        french = get_analyzer("fr")
        # Entries pair every phrase of a set with every other: each distinct phrase is analysed
        # (and its frequency looked up) once, not once per pair, and all at once.
        source_phrases = list(dict.fromkeys(src for src, _ in self._entries))
        target_phrases = list(dict.fromkeys(dst for _, dst in self._entries))
        source_terms, source_words = source.terms_of_texts(source_phrases)
        sources = {
            phrase: self._source_key(phrase, terms, n_words)
            for phrase, terms, n_words in zip(source_phrases, source_terms, source_words, strict=True)
        }
        targets = {
            phrase: tuple(dict.fromkeys(terms))
            for phrase, terms in zip(target_phrases, french.terms_of_texts(target_phrases)[0], strict=True)
        }
        table: dict[tuple[str, ...], list[Entry]] = {}
        for src, dst in self._entries:
            key = sources[src]
            target_terms = targets[dst]
            if key is None or not target_terms:
                continue
            table.setdefault(key, []).append(Entry(src, dst, target_terms))
        self.table_ = {key: tuple(entries) for key, entries in table.items()}
        # The keys as a trie for find: nested dictionaries from term to node, a key's entries
        # under None in the node its last term leads to (terms are strings).
        trie: dict[str | None, Any] = {}
        for key, entries in self.table_.items():
            node = trie
            for term in key:
                node = node.setdefault(term, {})
            node[None] = entries
        self.trie_ = trie
        return self

    def __len__(self) -> int:
        return len(self.table_)

    def _source_key(self, phrase: str, key: tuple[str, ...], n_words: int) -> tuple[str, ...] | None:
        """The analysed terms ``key`` that ``phrase`` (of ``n_words`` raw words) is looked up
        by, or None when it is left out."""
        if not key or len(key) > self.max_terms:
            return None
        # A phrase made mostly of little words ("qui doit faire quoi", "savoir-faire")
        # loses its meaning once they are removed: its one remaining word would fire everywhere.
        if 2 * len(key) < n_words or (len(key) == 1 and n_words > 1):
            return None
        if (
            len(key) == 1
            and self.max_single_word_zipf is not None
            and zipf_frequency(phrase, self.source_language) >= self.max_single_word_zipf
        ):
            return None
        return key

    def find(self, terms: Sequence[str]) -> list[LexiconHit]:
        """All non-overlapping longest matches in a sequence of analysed terms, left to right."""
        hits: list[LexiconHit] = []
        # Each term's node if it starts a key, found at C speed. About half a request's terms
        # start some key and few go on to one: from each, the trie is walked as far as the terms
        # follow a key, the longest key passed is the match. Trying each key length in turn,
        # as a tuple looked up in table_, took about twice as long (bench/README.md).
        starts: list[Any] = list(map(self.trie_.get, terms))
        n, free = len(terms), 0
        for i in compress(range(n), starts):
            if i < free:
                continue
            node, j = starts[i], i + 1
            end, entries = 0, None
            while True:
                found = node.get(None)
                if found is not None:
                    end, entries = j, found
                if j == n or (node := node.get(terms[j])) is None:
                    break
                j += 1
            if entries is not None:
                hits.append(_new_hit(LexiconHit, (i, end, entries, tuple(terms[i:end]))))
                free = end
        return hits

    def find_columns(
        self, columns: np.ndarray, ends: np.ndarray, vocabulary: dict[str, int]
    ) -> tuple[np.ndarray, np.ndarray, list[tuple[str, ...]]]:
        """:meth:`find` over many term sequences at once, their terms given as columns of
        ``vocabulary`` (which holds them all): ``columns`` is the sequences one after the other,
        and ``ends[i]`` the end of the sequence holding position ``i``.

        Returns the hits' start positions and their keys as positions in a list of keys of
        ``table_`` (int64 arrays, hits in order: sequence by sequence, left to right), and that
        list. A corpus is matched level by level with numpy (a key of ``n`` terms is an ``n``-th
        level node of a trie over columns), instead of a dictionary look-up per term.
        """
        n_columns = len(vocabulary)
        found: list[tuple[str, ...]] = []
        nodes: dict[tuple[int, int], int] = {}  # (parent node or -1, column) -> node
        key_nodes: dict[int, int] = {}  # node -> position in found
        for key in self.table_:
            key_columns = [vocabulary.get(term, -1) for term in key]
            if -1 in key_columns:  # a term no sequence holds: the key cannot match
                continue
            node = -1
            for column in key_columns:
                node = nodes.setdefault((node, column), len(nodes))
            key_nodes[node] = len(found)
            found.append(key)
        key_of_node = np.full(len(nodes), -1, dtype=np.int64)
        key_of_node[list(key_nodes)] = list(key_nodes.values())
        first = np.full(n_columns, -1, dtype=np.int64)
        # Below the first level: (parent node * n_columns + column) codes, sorted, and their nodes.
        codes = np.array([parent * n_columns + column for parent, column in nodes], dtype=np.int64)
        children = np.fromiter(nodes.values(), dtype=np.int64, count=len(nodes))
        is_first = np.array([parent < 0 for parent, _ in nodes], dtype=bool)
        first[codes[is_first] + n_columns] = children[is_first]
        codes, children = codes[~is_first], children[~is_first]
        by_code = np.argsort(codes)
        codes, children = codes[by_code], children[by_code]

        # Per position, the longest key starting there (its length and position in found).
        longest = np.zeros(len(columns), dtype=np.int64)
        longest_key = np.full(len(columns), -1, dtype=np.int64)
        node = first[columns]
        at = np.flatnonzero(node >= 0)
        node = node[at]
        length = 1
        while len(at):
            key = key_of_node[node]
            complete = key >= 0
            longest[at[complete]] = length
            longest_key[at[complete]] = key[complete]
            within = at + length < ends[at]
            at, node = at[within], node[within]
            if len(codes) == 0 or len(at) == 0:
                break
            step = node * n_columns + columns[at + length]
            slot = np.minimum(np.searchsorted(codes, step), len(codes) - 1)
            matched = codes[slot] == step
            at, node = at[matched], children[slot[matched]]
            length += 1
        # Left to right, a match starts after the previous one ends (matches never cross the end
        # of a sequence, so one pass serves all sequences).
        chosen: list[int] = []
        free = 0
        candidates = np.flatnonzero(longest)
        for start, span in zip(candidates.tolist(), longest[candidates].tolist(), strict=True):
            if start >= free:
                chosen.append(start)
                free = start + span
        starts = np.array(chosen, dtype=np.int64)
        return starts, longest_key[starts], found


def _read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def load_glossary(path: Path) -> dict[str, PhraseLexicon]:
    """Bilingual glossary by source language: ``{"en": PhraseLexicon, ...}``."""
    by_language: dict[str, list[tuple[str, str]]] = {}
    for row in _read_csv(path):
        lang, term, french = (row.get(k, "").strip() for k in ("lang", "term", "french"))
        if lang and term and french:
            by_language.setdefault(lang.lower(), []).append((term, french))
    return {lang: PhraseLexicon(entries, lang) for lang, entries in by_language.items()}


def load_acronyms(path: Path) -> PhraseLexicon:
    """French acronyms (``data/acronyms.csv``: ``acronym,expansion``): "APL" stands for "aide
    personnalisée au logement". An ambiguous acronym's senses share its weight."""
    entries: list[tuple[str, str]] = []
    for row in _read_csv(path):
        acronym, expansion = row.get("acronym", "").strip(), row.get("expansion", "").strip()
        if acronym and expansion:
            entries.append((acronym, expansion))
    return PhraseLexicon(entries, "fr")


def load_thesaurus(path: Path, max_single_word_zipf: float | None = 4.5, reverse: bool = False) -> PhraseLexicon:
    """French thesaurus: each everyday phrase points to its set's technical terms, or with
    ``reverse``, each technical term to its set's everyday phrases (for document expansion)."""
    entries: list[tuple[str, str]] = []
    for row in _read_csv(path):
        technical = [t.strip() for t in row.get("technical", "").split("|") if t.strip()]
        everyday = [t.strip() for t in row.get("everyday", "").split("|") if t.strip()]
        for phrase in everyday:
            for term in technical:
                entries.append((term, phrase) if reverse else (phrase, term))
    return PhraseLexicon(entries, "fr", max_single_word_zipf=max_single_word_zipf)
