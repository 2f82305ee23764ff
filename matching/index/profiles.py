"""The index over labelled profiles: BM25F-style impacts, idf counted once.

Each profile is one document made of weighted fields: the title counts twice, the labels of
its domains, its description and contact once. Weighted term counts saturate and are
normalised by the profile's length as in BM25, then multiplied by BM25's idf, so that each
stored entry is the term's *impact*: a request's score with a profile is the sum of the
impacts of the request's terms (weighted by how the request holds them), with no further
normalisation. On the real collections of ``bench/collections`` the cosine of L2-normalised
TF-IDF rows that this replaces lost to plain BM25 (it rewards short profiles sharing one
word); ``k1`` and ``b`` were chosen over all collections at once (bench/README.md).

**Document expansion.** Given the thesaurus read the other way (technical phrase → everyday
phrases, see :func:`matching.analysis.lexicon.load_thesaurus`), each profile gets one more field: the
everyday phrases of the technical terms it contains, minus common French words ("quelques",
"parents"), which alone say nothing of the phrase. A request that says "tas d'ordures qui
fument" then meets a profile that says "décharge sauvage" word by word, even where no phrase
of the thesaurus matches the request as a whole. The field only adds terms the profile's own
text lacks, is normalised by its own length (a profile rich in technical terms has a long
expansion, each word of which says less) and counts a term at most as often as one mention in
the title: a request's word found literally in a profile's title is never outweighed by the
same word reached only through the thesaurus. Each term a profile holds only through its
expansion remembers the technical phrase it came from, for the explanation.
"""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from matching.analysis.frequency import zipf_frequency
from matching.analysis.lexicon import PhraseLexicon
from matching.analysis.text import get_analyzer, ragged_positions, split_texts
from matching.data.taxonomy import domains
from matching.index.metadata import ProfileMetadata

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ProfileIndex", "DEFAULT_FIELD_WEIGHTS"]

#: Relative weight of each profile field in the term counts.
DEFAULT_FIELD_WEIGHTS: dict[str, float] = {
    "title": 2.0,
    "domains": 1.0,
    "description": 1.0,
    "contact": 1.0,
    "expansion": 1.0,
}


class ProfileIndex:
    """Sparse matrix of BM25 impacts of profiles, with what ranking and explanations need.

    Parameters
    ----------
    field_weights : dict, optional
        Weight of each field among ``title``, ``domains`` (the French labels of the
        profile's domains), ``description``, ``contact`` and ``expansion`` (used only with
        ``expansion``; a field left out is not indexed), each positive. Defaults to
        :data:`DEFAULT_FIELD_WEIGHTS`.
    k1, b : float, default 1.6 and 0.9
        BM25 saturation and length-normalisation parameters.
    expansion : PhraseLexicon, optional
        Technical French phrases to everyday ones (``load_thesaurus(path, reverse=True)``),
        matched in each profile's title and description to fill the ``expansion`` field.
    expansion_max_zipf : float or None, default 4.8
        Words of everyday phrases at least this frequent in French (wordfreq's Zipf scale) are
        left out of the expansion; None keeps them all.

    Attributes
    ----------
    matrix_ : scipy.sparse.csr_matrix of shape (n_profiles, n_terms), float32
        BM25 impacts (idf included).
    idf_ : ndarray of float32, shape (n_terms,)
        BM25 idf, from the profiles holding each term (in their text or their expansion).
    unseen_idf_ : float
        The idf a term absent from every profile would have.
    row_norms_ : ndarray of shape (n_profiles,)
        L2 norms of the rows (for feedback's similarities between profiles).
    max_impact_ : ndarray of float32, shape (n_terms,)
        Each term's highest impact: a request's ceiling score is its weights times these.
    vocabulary_ : dict term -> column
    display_ : list of str, length n_terms
        The most frequent written form of each term in the profiles (what a user reads).
    metadata_ : ProfileMetadata
        The profiles' ids, label dates, domains, languages, countries, holders and regions, in
        row order (what filters and the presentation of matches read).
    expansion_codes_ : ndarray of int32, shape (matrix_.nnz,)
        How the profile holds each of ``matrix_``'s stored entries (aligned with its
        ``indices`` and ``data``): 0 through its own text, else ``±(s + 1)`` for one it holds
        only through its expansion, ``s`` being the position in ``expansion_phrases_`` of the
        technical phrase of the profile it came from; negative when a one-word everyday phrase
        brought it. Aligned with the stored entries so that the re-ranking and the explanation,
        which gather a candidate's entries anyway, read their codes by position instead of
        searching for them.
    expansion_phrases_ : list of str
    """

    def __init__(
        self,
        field_weights: dict[str, float] | None = None,
        k1: float = 1.6,
        b: float = 0.9,
        expansion: PhraseLexicon | None = None,
        expansion_max_zipf: float | None = 4.8,
    ) -> None:
        self.field_weights = field_weights
        self.expansion_max_zipf = expansion_max_zipf
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
        if any(w <= 0 for w in weights.values()):
            raise ValueError("field weights must be positive")
        if len(profiles) == 0:
            raise ValueError("cannot index an empty set of profiles")

        analyzer = get_analyzer("fr")
        label_of = {d.code: d.label for d in domains()}
        field_texts = {
            "title": profiles["title"].tolist(),
            "description": profiles["description"].tolist(),
            "contact": profiles["contact"].fillna("").tolist(),
            "domains": [" ; ".join(label_of[c] for c in codes) for codes in profiles["domains"]],
        }
        # Each field's words at once: its distinct words, then each occurrence's word and row.
        split = {field: split_texts(texts) for field, texts in field_texts.items() if weights.get(field)}
        word_counts: Counter[str] = Counter()
        for counts, _, _ in split.values():
            word_counts.update(counts)
        # Each distinct word is analysed once. Columns are numbered in order of first occurrence
        # (field by field, row by row): the order of the words' first occurrences, then of each
        # word's terms.
        vocabulary: dict[str, int] = {}
        add_term = vocabulary.setdefault
        columns_of = {word: [add_term(t.term, len(vocabulary)) for t in analyzer.word(word)] for word in word_counts}
        # Entries (row, term column, field weight), field by field, row by row, in text order.
        entries: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for field, (counts, word_ids, rows) in split.items():
            columns = [columns_of[word] for word in counts]
            lengths = np.fromiter(map(len, columns), dtype=np.int64, count=len(columns))
            flat = np.fromiter(itertools.chain.from_iterable(columns), dtype=np.int32, count=int(lengths.sum()))
            entries[field] = (np.repeat(rows, lengths[word_ids]), flat[ragged_positions(lengths, word_ids)])
        empty = np.zeros(0, dtype=np.int32)
        own_rows = np.concatenate([empty, *(r for r, _ in entries.values())])
        own_cols = np.concatenate([empty, *(c for _, c in entries.values())])
        field_weights = [np.full(len(r), weights[field], dtype=np.float32) for field, (r, _) in entries.items()]
        own_data = np.concatenate([np.zeros(0, dtype=np.float32), *field_weights])
        if "expansion" in weights:
            # Title and description terms of each row, for the thesaurus (document expansion).
            exp_rows, exp_cols, exp_sources, exp_whole = self._add_expansion(
                analyzer, [entries[f] for f in ("title", "description") if f in entries], vocabulary, word_counts
            )
        else:
            exp_rows = exp_cols = exp_sources = empty
            exp_whole = np.zeros(0, dtype=bool)
        n_terms = len(vocabulary)
        shape = (len(profiles), n_terms)
        own = sp.csr_matrix((own_data, (own_rows, own_cols)), shape=shape, dtype=np.float32)
        own.sum_duplicates()
        expansion_keys, expansion_codes = self._fit_expansion_sources(own, exp_rows, exp_cols, exp_sources, exp_whole)
        # Each everyday phrase counts once per profile and term occurrence; entries the
        # profile's own text also holds are scored from its own text only.
        expanded = sp.csr_matrix((np.ones(len(exp_rows), dtype=np.float32), (exp_rows, exp_cols)), shape=shape)
        expanded.sum_duplicates()
        expanded = expanded - expanded.multiply(own.astype(bool))
        expanded.eliminate_zeros()
        # Length normalisation reads the profile's own text only: expansions are not what
        # its writer wrote, and would make profiles rich in technical terms look long.
        lengths = np.asarray(own.sum(axis=1)).ravel()
        average = lengths.mean() if lengths.mean() > 0 else 1.0
        norm = (self.k1 * (1 - self.b + self.b * lengths / average)).astype(np.float32)
        df = np.bincount(np.concatenate([own.indices, expanded.indices]), minlength=n_terms)
        self.idf_ = bm25_idf(df, len(profiles))
        self.unseen_idf_ = float(bm25_idf(np.zeros(1), len(profiles))[0])
        # A term the profile holds only through its expansion counts as at most as many mentions
        # as one in its title (the title's weight), times the expansion's weight, however many
        # everyday phrases repeat it: a request's word found literally in a profile's title is
        # never outweighed by the same word reached only through the thesaurus.
        np.minimum(expanded.data, weights.get("title", 1.0), out=expanded.data)
        # The expansion is normalised by its own length (as BM25F does per field): a profile rich
        # in technical terms gets a long expansion, each of whose words says less.
        expanded_lengths = np.asarray(expanded.sum(axis=1)).ravel()
        expanded_average = expanded_lengths.mean() if expanded_lengths.mean() > 0 else 1.0
        expanded_norm = (self.k1 * (1 - self.b + self.b * expanded_lengths / expanded_average)).astype(np.float32)
        expansion_impacts = _saturate(expanded, expanded_norm, self.k1, self.idf_) * weights.get("expansion", 0.0)
        self.matrix_ = (_saturate(own, norm, self.k1, self.idf_) + expansion_impacts).tocsr()
        self.matrix_.sort_indices()
        self.expansion_codes_ = _aligned_codes(self.matrix_, expansion_keys, expansion_codes)
        self.row_norms_ = np.sqrt(np.asarray(self.matrix_.multiply(self.matrix_).sum(axis=1)).ravel())
        self.max_impact_ = np.asarray(self.matrix_.max(axis=0).toarray()).ravel().astype(np.float32)
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

        self.metadata_ = ProfileMetadata().fit(profiles)
        self.built_at_ = datetime.now(UTC).isoformat(timespec="seconds")
        return self

    # ------------------------------------------------------------------ expansion
    def _add_expansion(
        self,
        analyzer,
        fields: list[tuple[np.ndarray, np.ndarray]],
        vocabulary: dict[str, int],
        word_counts: Counter[str],
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The ``expansion`` field's entries: ``(rows, columns, sources, whole)`` arrays of the
        same length, ``sources`` being positions in ``expansion_phrases_`` (the technical phrase
        behind each entry). New terms are added to ``vocabulary`` and their words to ``word_counts``.

        ``fields`` holds the ``(rows, columns)`` entries of the profiles' titles and of their
        descriptions, row by row in text order. Each everyday phrase counts once per profile (with
        the first technical phrase that brought it); each is analysed once for the whole index,
        and the rows are assembled with numpy.
        """
        assert self.expansion is not None
        add_term = vocabulary.setdefault
        cutoff = self.expansion_max_zipf

        known: dict[str, bool] = {}  # words recur across everyday phrases: each is looked up once

        def specific(word: str) -> bool:
            # Everyday phrases hold common words ("quelques", "parents", "grande"): alone they
            # say nothing of the technical phrase, and would match any request.
            if cutoff is None:
                return True
            found = known.get(word)
            if found is None:
                found = known[word] = zipf_frequency(word, "fr") < cutoff
            return found

        # The technical phrases found, row by row, title before description, left to right.
        rows = np.concatenate([np.zeros(0, dtype=np.int32), *(r for r, _ in fields)])
        columns = np.concatenate([np.zeros(0, dtype=np.int32), *(c for _, c in fields)])
        field_of = np.repeat(np.arange(len(fields)), [len(r) for r, _ in fields])
        order = np.argsort(rows, kind="stable")
        rows, columns = rows[order], columns[order]
        sequence_of = rows.astype(np.int64) * len(fields) + field_of[order]
        # Each position's sequence ends where the next sequence (row and field) begins.
        sequence_starts = np.flatnonzero(np.diff(sequence_of)) + 1
        sequence_ends = np.append(sequence_starts, len(sequence_of))
        ends = np.repeat(sequence_ends, np.diff(np.concatenate(([0], sequence_ends))))
        starts, keys, found = self.expansion.find_columns(columns, ends, vocabulary)
        hit_rows = rows[starts]

        technical: dict[str, int] = {}
        everyday: dict[str, int] = {}
        phrase_terms: list[list[int]] = []
        phrase_words: list[list[str]] = []  # each everyday phrase's raw words, by id
        one_word: list[bool] = []  # the everyday phrase is one word (before common words are left out)
        # Per technical phrase found, in order of first appearance: its everyday phrases' ids and its own id.
        group_ids: list[list[int]] = [[] for _ in found]
        group_source = np.zeros(len(found), dtype=np.int32)
        _, first_hit = np.unique(keys, return_index=True)
        for key in keys[np.sort(first_hit)].tolist():
            entries = self.expansion.table_[found[key]]
            ids = []
            for entry in entries:
                pid = everyday.setdefault(entry.target, len(everyday))
                if pid == len(phrase_terms):
                    words = analyzer.words(entry.target)
                    phrase_words.append(words)
                    phrase_terms.append(
                        [add_term(t.term, len(vocabulary)) for w in words if specific(w) for t in analyzer.word(w)]
                    )
                    one_word.append(len(words) == 1)
                ids.append(pid)
            group_ids[key] = ids
            group_source[key] = technical.setdefault(entries[0].source, len(technical))
        self.expansion_phrases_ = list(technical)
        if len(starts) == 0:
            empty = np.zeros(0, dtype=np.int32)
            return empty, empty, empty, np.zeros(0, dtype=bool)
        group_lengths = np.fromiter(map(len, group_ids), dtype=np.int64, count=len(group_ids))
        flat_ids = np.fromiter(itertools.chain.from_iterable(group_ids), dtype=np.int64)
        per_hit = group_lengths[keys]
        # One (row, everyday phrase) pair each, the first found; then each phrase becomes its terms.
        row_of_hit = np.repeat(hit_rows, per_hit).astype(np.int64)
        phrase_of_hit = flat_ids[ragged_positions(group_lengths, keys)]
        pair_keys = row_of_hit * len(everyday) + phrase_of_hit
        _, first = np.unique(pair_keys, return_index=True)
        pair_rows, pair_phrases = row_of_hit[first], phrase_of_hit[first]
        pair_sources = np.repeat(group_source[keys], per_hit)[first]
        lengths = np.array([len(t) for t in phrase_terms], dtype=np.int64)
        starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        flat_terms = np.fromiter((i for t in phrase_terms for i in t), dtype=np.int64, count=int(lengths.sum()))
        per_pair = lengths[pair_phrases]
        offsets = np.arange(per_pair.sum()) - np.repeat(np.cumsum(per_pair) - per_pair, per_pair)
        uses = np.bincount(pair_phrases, minlength=len(everyday))
        for words, count in zip(phrase_words, uses.tolist(), strict=True):  # display forms count every occurrence
            for w in words:
                word_counts[w] += count
        return (
            np.repeat(pair_rows, per_pair),
            flat_terms[np.repeat(starts[pair_phrases], per_pair) + offsets],
            np.repeat(pair_sources, per_pair),
            np.repeat(np.array(one_word, dtype=bool)[pair_phrases], per_pair),
        )

    def _fit_expansion_sources(
        self,
        own: sp.csr_matrix,
        exp_rows: np.ndarray,
        exp_cols: np.ndarray,
        sources: np.ndarray,
        whole: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Keep, for each entry a profile holds only through its expansion (in ``exp_*``, not
        in ``own``, the profiles' own term counts with summed duplicates), the first technical
        phrase that brought it, and whether an everyday phrase of one word (after common words
        are left out) brought it (``whole``).

        Returns ``(keys, codes)``: the sorted ``row * n_terms + column`` of those entries and
        their codes (see ``expansion_codes_``)."""
        n_terms = own.shape[1]
        if len(sources) == 0:
            self.expansion_phrases_ = []
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int32)
        expanded_keys, first, inverse = np.unique(
            exp_rows.astype(np.int64) * n_terms + exp_cols, return_index=True, return_inverse=True
        )
        any_whole = np.zeros(len(expanded_keys), dtype=bool)
        np.logical_or.at(any_whole, inverse.ravel(), whole)
        # Membership by binary search in the own keys (np.isin sorts both sets together), sorted
        # as they come: a matrix with summed duplicates has its rows' columns in order.
        own_rows = np.repeat(np.arange(own.shape[0], dtype=np.int64), np.diff(own.indptr))
        own_keys = own_rows * n_terms + own.indices
        found = np.minimum(np.searchsorted(own_keys, expanded_keys), len(own_keys) - 1)
        only_expanded = own_keys[found] != expanded_keys if len(own_keys) else np.ones(len(expanded_keys), bool)
        codes = sources.astype(np.int32)[first][only_expanded] + 1
        return expanded_keys[only_expanded], np.where(any_whole[only_expanded], -codes, codes)

    def expansion_sources_at(self, positions: np.ndarray) -> list[str | None]:
        """The technical phrase through which the profile holds the entry at each of
        ``positions`` (in ``matrix_``'s stored entries), or None where its own text holds it."""
        phrases = self.expansion_phrases_
        codes = self.expansion_codes_.take(positions)
        sources: list[str | None] = [None] * len(codes)
        expanded = codes.nonzero()[0]  # few: most matched terms are the profile's own words
        for i, code in zip(expanded.tolist(), np.abs(codes.take(expanded)).tolist(), strict=True):
            sources[i] = phrases[code - 1]
        return sources

    # ------------------------------------------------------------------ helpers
    @property
    def n_profiles(self) -> int:
        return self.matrix_.shape[0]

    @property
    def n_terms(self) -> int:
        return len(self.idf_)  # matrix_.shape[1], without scipy's property (a few calls per request)


def bm25_idf(df: np.ndarray, n_documents: int) -> np.ndarray:
    """BM25's inverse document frequency, ``log(1 + (N - df + 0.5) / (df + 0.5))``, as Lucene
    computes it: always positive, near 0 for a term in every document. Shape of ``df``, float32."""
    df = np.asarray(df, dtype=np.float64)
    return np.log1p((n_documents - df + 0.5) / (df + 0.5)).astype(np.float32)


def _saturate(counts: sp.csr_matrix, norm: np.ndarray, k1: float, idf: np.ndarray) -> sp.csr_matrix:
    """BM25 impacts of weighted term counts: ``idf * tf * (k1 + 1) / (tf + norm[row])``."""
    out = counts.tocsr(copy=True)
    row_of = np.repeat(np.arange(out.shape[0]), np.diff(out.indptr))
    out.data = (idf[out.indices] * out.data * (k1 + 1) / (out.data + norm[row_of])).astype(np.float32)
    return out


def _aligned_codes(matrix: sp.csr_matrix, keys: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``codes`` (of the sorted ``row * n_terms + column`` ``keys``) laid along ``matrix``'s
    stored entries (sorted indices), 0 for the entries not in ``keys``. A key without a stored
    entry (a zero impact) has nothing to code."""
    aligned = np.zeros(matrix.nnz, dtype=np.int32)
    if len(keys) == 0:
        return aligned
    rows = np.repeat(np.arange(matrix.shape[0], dtype=np.int64), np.diff(matrix.indptr))
    stored = rows * matrix.shape[1] + matrix.indices
    found = np.minimum(np.searchsorted(stored, keys), len(stored) - 1)
    present = stored[found] == keys
    aligned[found[present]] = codes[present]
    return aligned
