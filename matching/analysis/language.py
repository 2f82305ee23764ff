"""Language detection of request text (py3langid: offline, model shipped in the package)."""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from functools import cache
from importlib.metadata import version
from pathlib import Path

from py3langid.langid import MODEL_FILE, LanguageIdentifier

__all__ = ["DetectedLanguage", "detect_language", "warm_up", "CROSS_LINGUAL", "LANGUAGE_NAMES_FR", "language_name_fr"]

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


def warm_up() -> None:
    """Load the detector's model now (before forking workers, so they share it)."""
    _identifier()


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


@cache
def _identifier() -> LanguageIdentifier:
    saved = _load_saved_model()
    if saved is not None:
        nb_ptc, nb_pc, classes, nextmove, output, row = saved
        return LanguageIdentifier(nb_ptc, nb_pc, classes, nextmove, output, norm_probs=True, tk_row=row)
    full = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    # The model restricted to the candidate languages, as ``set_languages`` would restrict it,
    # but without keeping the whole model alongside (memory saved: bench/README.md).
    keep = [i for i, code in enumerate(full.nb_classes) if code in CANDIDATES]
    return LanguageIdentifier(
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
    if not text or not any(ch.isalpha() for ch in text):
        return DetectedLanguage("fr", 0.0)
    # The opening of a request says its language; scanning all of it only costs time.
    code, probability = _identifier().classify(text[:DETECTION_CHARS])
    if probability < MIN_CONFIDENCE:
        return DetectedLanguage("fr", round(float(1 - probability), 3))
    return DetectedLanguage(str(code), round(float(probability), 3))


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
