"""Arabic word analysis: orthographic normalisation, clitic stripping, light stemming.

Arabic requests reach French profiles through the glossary (``lang=ar`` rows of
``data/glossary.csv``), matched on analysed terms: the same chain must turn a glossary entry
and the words of a letter into the same terms, however each was spelt.

- **normalisation**: diacritics (harakat, shadda, sukun, dagger alef) and tatweel removed;
  alef forms (أ إ آ ٱ) read as ا; hamza carriers (ؤ ئ) as و ي; taa marbuta as ه; alef
  maqsura as ي; Arabic-Indic and Persian digits as ASCII digits. Writers and keyboards
  differ on exactly these letters (Maghreb and Levant usage, hurried e-mails), never in meaning.
- **clitics**: the article and the particles glued to it (ال وال بال فال كال لل ولل), and
  a conjunction و or ف before a long enough word, are stripped. Lone ب ل ك are left: too many
  words start with them (بلدية, لجنة, كهرباء) for a prefix test to be safe.
- **stemming**: Snowball's Arabic stemmer (PyStemmer) on the remainder, for plural and
  feminine endings and possessive suffixes. It was kept over clitic stripping alone, which
  leaves each broken-down ending as a distinct term (see README, *Quality*).
"""

from __future__ import annotations

import re

__all__ = ["normalize_arabic", "strip_clitics", "is_arabic_word", "ARABIC_STOP_WORDS"]

# Harakat (U+064B-U+0652), superscript (dagger) alef, Quranic annotation marks.
_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")
_TATWEEL = "\u0640"
_LETTERS = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",  # alef with hamza above/below, madda, wasla
        "ؤ": "و",
        "ئ": "ي",  # hamza on waw and yaa carriers
        "ة": "ه",  # taa marbuta, often written as haa
        "ى": "ي",  # alef maqsura, often written as (or for) yaa
        "ی": "ي",
        "ک": "ك",  # Persian yeh and keheh, from Persian keyboards
        **{chr(0x0660 + d): str(d) for d in range(10)},  # Arabic-Indic digits
        **{chr(0x06F0 + d): str(d) for d in range(10)},  # Extended (Persian) digits
    }
)
_ARABIC_LETTER = re.compile("[\u0621-\u064a\u0671-\u06d3]")

# Article and particles before it, longest first: "وبالمدينة" loses "وبال", not "و".
_ARTICLES = ("وبال", "وكال", "فبال", "وال", "بال", "فال", "كال", "ولل", "فلل", "لل", "ال")
# A conjunction is stripped only from words that stay at least this long: "وزير" keeps its
# first letter only by luck otherwise, but "ورد" and "فرق" are words of their own.
_MIN_AFTER_CONJUNCTION = 4
_MIN_AFTER_ARTICLE = 2


def is_arabic_word(word: str) -> bool:
    """True when ``word`` holds at least one Arabic letter."""
    return _ARABIC_LETTER.search(word) is not None


def normalize_arabic(text: str) -> str:
    """Orthographic normalisation of Arabic text (Latin text passes through unchanged)."""
    return _DIACRITICS.sub("", text).replace(_TATWEEL, "").translate(_LETTERS)


def strip_clitics(word: str) -> str:
    """Strip the article and glued particles from a normalised word: ``والمياه`` -> ``مياه``."""
    for article in _ARTICLES:
        if word.startswith(article) and len(word) - len(article) >= _MIN_AFTER_ARTICLE:
            return word[len(article) :]
    if word[:1] in ("و", "ف") and len(word) - 1 >= _MIN_AFTER_CONJUNCTION:
        return word[1:]
    return word


# Function words (normalised as above); the stop-words package's Arabic list misses the
# vocabulary of official letters, which says nothing about what is asked.
ARABIC_STOP_WORDS = frozenset(
    normalize_arabic(w)
    for w in (
        "في",
        "من",
        "الى",
        "إلى",
        "على",
        "عن",
        "مع",
        "عند",
        "لدى",
        "حول",
        "حتى",
        "منذ",
        "بين",
        "خلال",
        "ضمن",
        "عبر",
        "نحو",
        "دون",
        "غير",
        "سوى",
        "بعد",
        "قبل",
        "أمام",
        "تحت",
        "فوق",
        "و",
        "ف",
        "ثم",
        "أو",
        "أم",
        "بل",
        "لكن",
        "لكنّ",
        "لا",
        "لم",
        "لن",
        "ما",
        "ليس",
        "ليست",
        "قد",
        "لقد",
        "سوف",
        "إن",
        "أن",
        "إنّ",
        "أنّ",
        "كان",
        "كانت",
        "يكون",
        "تكون",
        "كانوا",
        "هذا",
        "هذه",
        "ذلك",
        "تلك",
        "هؤلاء",
        "هذان",
        "هاتان",
        "هنا",
        "هناك",
        "الذي",
        "التي",
        "الذين",
        "اللذان",
        "اللتان",
        "اللواتي",
        "اللاتي",
        "ما",
        "ماذا",
        "من",
        "هو",
        "هي",
        "هم",
        "هن",
        "هما",
        "أنا",
        "نحن",
        "أنت",
        "أنتم",
        "أنتن",
        "إياه",
        "إياها",
        "له",
        "لها",
        "لهم",
        "لنا",
        "لكم",
        "به",
        "بها",
        "بهم",
        "فيه",
        "فيها",
        "فيهم",
        "منه",
        "منها",
        "منهم",
        "عليه",
        "عليها",
        "عليهم",
        "إليه",
        "إليها",
        "إليهم",
        "عنه",
        "عنها",
        "كل",
        "بعض",
        "أي",
        "أيّ",
        "كما",
        "كيف",
        "متى",
        "أين",
        "لماذا",
        "هل",
        "إذا",
        "إذ",
        "لأن",
        "لكي",
        "كي",
        "حيث",
        "أيضا",
        "فقط",
        "جدا",
        "إلخ",
        "الخ",
        "أكثر",
        "أقل",
        "كذلك",
        "وكذلك",
        "بينما",
        "عدة",
        "جميع",
        "كافة",
        "نفس",
        "ذات",
        "السيد",
        "السيدة",
        "السادة",
        "السيدات",
        "المحترم",
        "المحترمة",
        "المحترمون",
        "المحترمين",
        "تحية",
        "طيبة",
        "وبعد",
        "تفضلوا",
        "تفضل",
        "بقبول",
        "فائق",
        "عبارات",
        "عبارة",
        "التقدير",
        "الاحترام",
        "والاحترام",
        "التحية",
        "السلام",
        "عليكم",
        "ورحمة",
        "الله",
        "وبركاته",
        "شكرا",
        "الشكر",
        "مع",
        "خالص",
        "تحياتي",
        "تحياتنا",
    )
)
# The same words with a particle glued on ("والاحترام", "وبعد") lose it before the test.
ARABIC_STOP_WORDS |= frozenset(strip_clitics(w) for w in ARABIC_STOP_WORDS)
