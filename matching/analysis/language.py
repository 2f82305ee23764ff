"""Language detection of request text (py3langid: offline, model shipped in the package)."""

from __future__ import annotations

import multiprocessing as mp
import pickle
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import cache
from importlib.metadata import version
from pathlib import Path

import numpy as np
from py3langid.langid import MODEL_FILE, LanguageIdentifier

__all__ = [
    "DetectedLanguage",
    "detect_language",
    "detect_languages",
    "warm_up",
    "loaded_meanwhile",
    "CROSS_LINGUAL",
    "LANGUAGE_NAMES_FR",
    "language_name_fr",
]

#: Languages whose requests are mapped into French through the glossary.
CROSS_LINGUAL = frozenset({"en", "es", "pt", "ar"})
#: Languages the detector chooses among: those foreign authorities write in, and neighbours
#: that short texts are confused with. Restricting the set makes short texts far more reliable.
CANDIDATES = (
    "fr",
    "en",
    "es",
    "pt",
    "ar",
    "it",
    "de",
    "nl",
    "ro",
    "ca",
    "ru",
    "uk",
    "zh",
    "vi",
    "tr",
    "pl",
    "el",
    "he",
    "fa",
    "hy",
    "ka",
    "ja",
    "ko",
    "th",
    "km",
    "sw",
    "ht",
    "mg",
)
#: Characters read by the detector.
DETECTION_CHARS = 200
#: Below this confidence, the request is treated as French (the programme's default).
MIN_CONFIDENCE = 0.5
LANGUAGE_NAMES_FR = {
    "fr": "français",
    "en": "anglais",
    "es": "espagnol",
    "pt": "portugais",
    "ar": "arabe",
    "it": "italien",
    "de": "allemand",
    "nl": "néerlandais",
    "ro": "roumain",
    "ca": "catalan",
    "ru": "russe",
    "uk": "ukrainien",
    "zh": "chinois",
    "vi": "vietnamien",
    "tr": "turc",
    "pl": "polonais",
    "el": "grec",
    "he": "hébreu",
    "fa": "persan",
    "hy": "arménien",
    "ka": "géorgien",
    "ja": "japonais",
    "ko": "coréen",
    "th": "thaï",
    "km": "khmer",
    "sw": "swahili",
    "ht": "créole haïtien",
    "mg": "malgache",
}


@dataclass(frozen=True, slots=True)
class DetectedLanguage:
    """ISO 639-1 code and the detector's probability for it, in [0, 1]."""

    code: str
    confidence: float

    @property
    def supported(self) -> bool:
        """True when matching is reliable for this language (French or glossary-mapped)."""
        return self.code == "fr" or self.code in CROSS_LINGUAL


_MODEL_KEY = (version("py3langid"), CANDIDATES)


def warm_up(saved: str | Path | None = None) -> None:
    """Load the detector's model now (before forking workers, so they share it), from the copy
    ``saved`` by :func:`save_model` if given (and valid), else as :func:`_identifier` does."""
    global _saved_model
    if saved is not None and not _identifier.cache_info().currsize:
        previous, _saved_model = _saved_model, Path(saved)
        try:
            _identifier()
        finally:
            _saved_model = previous
    _identifier()


@contextmanager
def loaded_meanwhile() -> Iterator[None]:
    """Load the detector's model while the ``with`` block runs, in a forked process (on another
    core), and here from its copy when the block ends.

    Most of a load is decompressing py3langid's model, 0.5 s on one core; its uncompressed copy
    loads in a tenth of that. A batch command builds its index meanwhile (bench/README.md).
    Only for a process running no other thread, since it forks; without ``fork`` or a writable
    temporary folder, or if the child saved nothing, the model is loaded here after the block.
    """
    folder = None
    if not _identifier.cache_info().currsize and "fork" in mp.get_all_start_methods():
        with suppress(OSError):  # no writable temporary folder: the model is loaded after the block
            folder = tempfile.TemporaryDirectory(prefix="expe-match-")
    if folder is None:
        yield
        warm_up()
        return
    with folder:
        copy = Path(folder.name) / "language-model.pickle"
        child = mp.get_context("fork").Process(target=save_model, args=(copy,), daemon=True)
        child.start()
        try:
            yield
        finally:
            child.join()
        warm_up(saved=copy)


#: Where a copy of the restricted model was saved (next to a saved index), if anywhere: loading
#: it skips decompressing py3langid's whole model, most of a one-off ``match``'s start-up.
_saved_model: Path | None = None


def save_model(path: str | Path) -> None:
    """Save the restricted model (uncompressed pickle) to ``path``, for :func:`use_saved_model`."""
    model = _identifier()
    parts = (model.nb_ptc, model.nb_pc, model.nb_classes, model.tk_nextmove, model.tk_output, model.tk_row)
    with open(path, "wb") as fh:
        pickle.dump((_MODEL_KEY, parts), fh, protocol=5)


def use_saved_model(path: str | Path) -> None:
    """Load the detector's model from ``path`` when it is first needed (if it is still valid)."""
    global _saved_model
    _saved_model = Path(path)


#: Longest byte string a state of py3langid's scanner stands for (its features are byte
#: n-grams): the scanner's state after a byte depends on the last this many bytes only, which
#: is what lets :class:`_BlockIdentifier` find every position's state at once. A test checks it
#: against the model (a breadth-first walk of the automaton).
SCANNER_DEPTH = 6


class _BlockIdentifier(LanguageIdentifier):
    """py3langid's identifier, scanning many texts at once.

    py3langid counts a text's features by walking its scanner (a finite automaton over bytes)
    one byte at a time in Python: most of a detection's time. The scanner's state after a byte
    is that of the last :data:`SCANNER_DEPTH` bytes read from the start state, so the states of
    every position of a block of texts are found in that many vectorised steps. The counts are
    the same, in the same order, so the scores are py3langid's own, bit for bit (tested); the
    scoring and the decision are py3langid's code.
    """

    __slots__ = ("_counted", "_next_state", "_row_start", "_state_feature")

    def __init__(self, nb_ptc: np.ndarray, *args: object, **kwargs: object) -> None:
        # In float32 and row order: a text's rows are then gathered from contiguous memory and
        # its product computed without casting them (py3langid's float16 rows are cast to
        # float32 for the product anyway: the same scores, bit for bit; tested).
        super().__init__(np.ascontiguousarray(nb_ptc, dtype=np.float32), *args, **kwargs)
        # Views of py3langid's arrays, not copies (its transition table is 9.8M entries).
        self._next_state = np.asarray(memoryview(self.tk_nextmove))
        self._row_start = np.asarray(self._rowbase, dtype=np.intp)
        self._state_feature = np.asarray(self.tk_output, dtype=np.intp)
        self._counted: dict[bytes, Counter[int] | None] = {}

    def classify_many(self, texts: Sequence[str]) -> list[tuple[str, float]]:
        """``(language, probability)`` of each text, as :meth:`classify` gives it."""
        # One text too: its scan's look-ups in the 20 MB transition table are independent,
        # where py3langid's walk waits for each before the next; on a request seen for the first
        # time, the table out of cache, the scan is the faster (bench/README.md).
        encoded = [self._encode(text) for text in texts]
        # Read back by _raw_score, which py3langid's classify calls. The identifier is shared by
        # threads: whichever call's counts are here, a text found in them has its own counts
        # (they depend on its bytes alone), and a text not found is walked by py3langid.
        self._counted = dict(zip(encoded, self._count_features(encoded), strict=True))
        try:
            return [self.classify(text) for text in encoded]
        finally:
            self._counted = {}

    def _count_features(self, encoded: list[bytes]) -> list[Counter[int] | None]:
        """Each text's feature counts (py3langid's ``visit_counts``), for all texts at once."""
        # The texts one after the other, each after SCANNER_DEPTH - 1 bytes 0xFF, which never
        # occur in UTF-8 and lead from the start state to itself: every position's last
        # SCANNER_DEPTH bytes, read from the start state, then give its state without reading
        # across texts, in one vectorised step per byte of the window.
        gap = SCANNER_DEPTH - 1
        data = np.frombuffer(b"\xff" * gap + (b"\xff" * gap).join(encoded), dtype=np.uint8)
        states = np.zeros(len(data) - gap, dtype=np.intp)  # of the positions from ``gap`` on
        for back in range(gap, -1, -1):  # the byte ``back`` places before, oldest first
            states = self._next_state[self._row_start[states] + data[gap - back : len(data) - back]]
        features = self._state_feature[states]
        found = features >= 0
        kept = features[found].tolist()
        lengths = np.fromiter(map(len, encoded), dtype=np.intp, count=len(encoded))
        starts = np.zeros(len(encoded), dtype=np.intp)  # each text's first position in ``states``
        (lengths[:-1] + gap).cumsum(out=starts[1:])
        counted = np.concatenate(([0], found.cumsum()))
        ends = counted[starts + lengths].tolist()
        return [
            Counter(kept[lo:hi]) if hi > lo else None for lo, hi in zip(counted[starts].tolist(), ends, strict=True)
        ]

    def _raw_score(self, text: bytes) -> np.ndarray:
        visits = self._counted.get(text)  # one read: another thread may replace the dict
        if visits:
            return self._sparse_score(visits, self.nb_ptc)
        return super()._raw_score(text)


@cache
def _identifier() -> _BlockIdentifier:
    saved = _load_saved_model()
    if saved is not None:
        nb_ptc, nb_pc, classes, nextmove, output, row = saved
        return _BlockIdentifier(nb_ptc, nb_pc, classes, nextmove, output, norm_probs=True, tk_row=row)
    full = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    # The model restricted to the candidate languages, as ``set_languages`` would restrict it,
    # but without keeping the whole model alongside (memory saved: bench/README.md).
    keep = [i for i, code in enumerate(full.nb_classes) if code in CANDIDATES]
    return _BlockIdentifier(
        full.nb_ptc[:, keep],
        full.nb_pc[keep],
        [full.nb_classes[i] for i in keep],
        full.tk_nextmove,
        full.tk_output,
        norm_probs=True,
        tk_row=full.tk_row,
    )


def _load_saved_model() -> tuple | None:
    """The saved restricted model, or None when there is none or it was made for another
    py3langid or another candidate list (then the package's own model is used)."""
    if _saved_model is None or not _saved_model.exists():
        return None
    try:
        with open(_saved_model, "rb") as fh:
            key, parts = pickle.load(fh)
    except Exception:  # an unreadable copy is ignored: the package's model is always there
        return None
    return parts if key == _MODEL_KEY else None


def detect_language(text: str) -> DetectedLanguage:
    """Detect the language of ``text``; uncertain or empty text counts as French."""
    return detect_languages([text])[0]


def detect_languages(texts: Sequence[str]) -> list[DetectedLanguage]:
    """The language of each text (see :func:`detect_language`), the texts scanned together."""
    out: list[DetectedLanguage | None] = [None] * len(texts)
    # The opening of a request says its language; scanning all of it only costs time.
    openings = {i: text[:DETECTION_CHARS] for i, text in enumerate(texts) if any(ch.isalpha() for ch in text)}
    classified = _identifier().classify_many(list(openings.values())) if openings else []
    for i, (code, probability) in zip(openings, classified, strict=True):
        if probability < MIN_CONFIDENCE:
            out[i] = DetectedLanguage("fr", round(float(1 - probability), 3))
        else:
            out[i] = DetectedLanguage(str(code), round(float(probability), 3))
    return [detected if detected is not None else DetectedLanguage("fr", 0.0) for detected in out]


# Detected languages beyond LANGUAGE_NAMES_FR; others are named by pycountry's French ISO 639 names.
_MORE_NAMES_FR = {
    "br": "breton",
    "oc": "occitan",
    "eu": "basque",
    "co": "corse",
    "wo": "wolof",
    "bm": "bambara",
    "ff": "peul",
    "ln": "lingala",
    "ha": "haoussa",
    "yo": "yoruba",
    "hi": "hindi",
    "bn": "bengali",
    "id": "indonésien",
    "my": "birman",
    "qu": "quechua",
    "gn": "guarani",
    "sq": "albanais",
    "sr": "serbe",
    "hr": "croate",
    "bg": "bulgare",
    "hu": "hongrois",
    "cs": "tchèque",
    "sv": "suédois",
    "da": "danois",
    "fi": "finnois",
    "no": "norvégien",
    "et": "estonien",
    "lv": "letton",
    "lt": "lituanien",
    "ku": "kurde",
    "am": "amharique",
    "so": "somali",
    "rw": "kinyarwanda",
}


@cache
def language_name_fr(code: str) -> str:
    """French name of an ISO 639-1 language code, lower case as on the staff page (the code if unknown).

    The one source of French language names: the page, the API, the workbooks and coverage use it."""
    key = code.lower()
    name = LANGUAGE_NAMES_FR.get(key) or _MORE_NAMES_FR.get(key)
    if name:
        return name
    import gettext

    import pycountry

    language = pycountry.languages.get(alpha_2=key)
    if language is None:
        return code
    french = gettext.translation("iso639-3", pycountry.LOCALES_DIR, languages=["fr"], fallback=True)
    return french.gettext(language.name).lower()
