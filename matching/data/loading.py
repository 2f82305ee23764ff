"""Loading and validation of profiles, requests and judgments (JSON Lines, CSV or Excel .xlsx).

Every loader is all-or-nothing: it reads and checks the whole input, then returns it, or
raises :class:`DataError` listing each problem with its file, line and field. Input is
UTF-8 (a BOM is tolerated); a file that is not valid UTF-8 is read as Windows-1252, the
encoding Excel uses for CSV in France; a UTF-16 file with a BOM (Excel's "Unicode text") is
read as UTF-16. CSV files may use ``,`` ``;`` or tab separators. Excel .xlsx workbooks are
read by :mod:`matching.data.excel` (checked for ZIP bombs and XML entities first). Column names may
be French or English, in any case, with or without accents (see :data:`REQUEST_ALIASES`).
Other binary files (images, archives, old .xls workbooks, PDF) are refused with a message
saying what they look like.
"""

from __future__ import annotations

import codecs
import csv
import gettext
import io
import itertools
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
import pycountry

from matching.analysis.text import fold
from matching.data.labels import LABEL_YEARS, label_end_default
from matching.data.taxonomy import HOLDER_TYPES, canonical_region, domain_codes

__all__ = [
    "DataError", "GOOD_GRADE", "Problem", "LABEL_YEARS", "MAX_TEXT_CHARS", "MAX_FILE_TEXT_CHARS",
    "PROFILE_FIELDS", "REQUEST_FIELDS",
    "REQUEST_ALIASES", "PROFILE_ALIASES", "RecordsInfo", "header_key",
    "read_records", "validate_profile", "validate_request", "profiles_frame",
    "load_profiles", "load_requests", "load_qrels", "iter_request_blocks", "label_end_default",
]

PROFILE_FIELDS = ("id", "holder", "holder_type", "region", "title", "description", "domains",
                  "languages", "countries", "label_start", "label_end", "contact")
PROFILE_REQUIRED = ("id", "holder", "holder_type", "region", "title", "description", "domains",
                    "label_start")
REQUEST_FIELDS = ("id", "text", "requester", "country", "language", "received", "group")
REQUEST_REQUIRED = ("id", "text")
MAX_ID_LENGTH = 200
#: Longest request text accepted (the API and the staff page use the same limit).
MAX_TEXT_CHARS = 20_000
#: Longest request text accepted in a file: a backlog must not be refused for one long letter
#: (interactive requests keep :data:`MAX_TEXT_CHARS`).
MAX_FILE_TEXT_CHARS = 100_000
#: Longest profile text fields, as the API accepts them.
PROFILE_TEXT_LIMITS = {"holder": 300, "region": 100, "title": 500, "description": 10_000, "contact": 300}
MAX_PROBLEMS = 50  # enough to fix a file in one go, without flooding a terminal

_LANGUAGES = frozenset(lang.alpha_2 for lang in pycountry.languages if hasattr(lang, "alpha_2"))
# XK (Kosovo) is user-assigned in ISO 3166 but in common use.
_COUNTRIES = frozenset(c.alpha_2 for c in pycountry.countries) | {"XK"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# Signatures of binary formats people rename to .csv, and what to tell them.
_MAGIC = (
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
)
_BINARY_CONTROLS = bytes(c for c in range(32) if c not in b"\t\n\r\x0c")



def header_key(name: str) -> str:
    """A column name reduced for comparison: accents, case, punctuation and spacing ignored
    (``"Date de réception"``, ``"DATE_DE_RECEPTION"`` and ``"date de reception "`` are alike)."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", fold(name)).split())


def _aliases(table: dict[str, tuple[str, ...]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for field_name, names in table.items():
        for name in (field_name, *names):
            key = header_key(name)
            assert out.get(key, field_name) == field_name, f"alias {name!r} given to two fields"
            out[key] = field_name
    return out


#: Column names understood for requests (staff keep their backlogs in French), by field.
REQUEST_ALIASES = _aliases({
    "id": ("identifiant", "référence", "ref", "identifiant de la demande", "référence de la demande", "request id"),
    "text": ("texte", "demande", "texte de la demande", "request", "request text"),
    "requester": ("demandeur", "collectivité demandeuse"),
    "country": ("pays", "pays demandeur"),
    "language": ("langue", "langue de la demande"),
    "received": ("date de réception", "reçu", "reçue le", "reçu le", "réception", "received on", "date received"),
    "group": ("groupe",),
})
#: Column names understood for profiles, by field.
PROFILE_ALIASES = _aliases({
    "id": ("identifiant", "référence", "ref"),
    "holder": ("porteur", "collectivité", "structure"),
    "holder_type": ("type de porteur", "type de collectivité", "type"),
    "region": ("région",),
    "title": ("titre", "intitulé", "titre de l'expertise"),
    "description": ("descriptif",),
    "domains": ("domaines", "codes domaines"),
    "languages": ("langues", "langues de travail"),
    "countries": ("pays", "pays de coopération"),
    "label_start": ("début du label", "date de début", "début", "date de labellisation"),
    "label_end": ("fin du label", "date de fin", "fin", "fin de validité"),
    "contact": ("contact",),
})


@dataclass
class RecordsInfo:
    """Where the records of :func:`read_records` come from, filled in as the header is read:
    errors found later (by the validators) can then name the sheet and the column."""

    source: str = ""
    sheet: str | None = None
    #: field -> the column as the user sees it (``C "pays"`` in a workbook, ``"pays"`` in a CSV)
    columns: dict[str, str] = dataclass_field(default_factory=dict)

    def locate(self, problems: list[Problem]) -> list[Problem]:
        return [replace(p, sheet=self.sheet, column=self.columns.get(p.field or "")) for p in problems]


def map_header(header: list[str], aliases: dict[str, str] | None) -> tuple[list[str], str | None]:
    """The fields of a header row (unknown names kept as read), and what is ambiguous about it."""
    if aliases is None:
        return [h.strip().lower() for h in header], None
    fields = [aliases.get(header_key(h), h.strip().lower()) for h in header]
    seen: dict[str, int] = {}
    for position, name in enumerate(fields):
        if name in aliases.values() and name in seen:
            first = header[seen[name]].strip()
            return fields, (f"columns '{first}' and '{header[position].strip()}' both mean '{name}': "
                            "keep only one of them")
        seen.setdefault(name, position)
    return fields, None


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input: where, which field, and why."""

    source: str
    line: int | None
    field: str | None
    message: str
    #: Worksheet of an Excel workbook (its line numbers are then Excel's row numbers).
    sheet: str | None = None
    #: Column as the user sees it: a letter and the header in a workbook, the header in a CSV.
    column: str | None = None

    @property
    def unit(self) -> str:
        return "row" if self.sheet is not None else "line"

    def __str__(self) -> str:
        where = self.source + (f", sheet '{self.sheet}'" if self.sheet is not None else "")
        where += f", {self.unit} {self.line}" if self.line is not None else ""
        where += f", column {self.column}" if self.column else ""
        return f"{where}, field '{self.field}': {self.message}" if self.field else f"{where}: {self.message}"


class DataError(ValueError):
    """Raised when an input is rejected; ``problems`` lists every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        shown = "\n".join(f"  - {p}" for p in problems[:10])
        more = f"\n  ... and {len(problems) - 10} more" if len(problems) > 10 else ""
        super().__init__(f"{len(problems)} problem(s) in input:\n{shown}{more}")

    def __reduce__(self):
        # Keep the problems when the error crosses a process boundary (batch workers).
        return (type(self), (self.problems,))

    @classmethod
    def single(cls, source: str, line: int | None, field: str | None, message: str) -> DataError:
        return cls([Problem(source, line, field, message)])


# ---------------------------------------------------------------------------- raw reading
def _decode(raw: IO[bytes], source: str) -> IO[str]:
    """Text view of a seekable binary stream: UTF-8 (BOM tolerated), else Windows-1252."""
    head = raw.read(65536)
    raw.seek(0)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return io.TextIOWrapper(raw, encoding="utf-16", newline="")
    for magic, what in _MAGIC:
        if head.startswith(magic):
            raise DataError.single(source, None, None, f"binary file ({what}): expected CSV or JSON Lines text")
    if b"\x00" in head:
        raise DataError.single(source, None, None, "binary file (NUL bytes): expected UTF-8 text, CSV or JSON Lines")
    controls = len(head) - len(head.translate(None, _BINARY_CONTROLS))
    if controls > max(8, len(head) // 100):
        raise DataError.single(source, None, None,
                               f"binary file ({controls} control bytes): expected UTF-8 text, CSV or JSON Lines")
    encoding = "utf-8-sig"
    try:
        # The probe may cut a multi-byte character at its end: decode incrementally.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        encoding = "cp1252"
    return io.TextIOWrapper(raw, encoding=encoding, newline="")


def _lines(text: IO[str], source: str) -> Iterator[str]:
    try:
        yield from text
    except UnicodeError:
        raise DataError.single(source, None, None, "not valid UTF-8 text (nor Windows-1252)") from None


def _shorten(text: str, limit: int = 120) -> str:
    """``text`` cut for an error message (never echo a whole line of a huge or binary file)."""
    text = _SURROGATE.sub("\ufffd", text)
    return text if len(text) <= limit else text[:limit] + "…"


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _guess_format(name: str, first_char: str) -> str:
    # The content decides first: uploads keep the user's file name (shown in errors), which may
    # say .csv for a JSON Lines file; a CSV header never starts with "{" or "[".
    if first_char in "{[":
        return "jsonl"
    return "jsonl" if name.lower().endswith((".jsonl", ".ndjson", ".json")) else "csv"


def read_records(source: str | Path | bytes, name: str | None = None,
                 required: Iterable[str] = (), aliases: dict[str, str] | None = None,
                 info: RecordsInfo | None = None, sheet: str | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, record)`` from a JSON Lines, CSV or .xlsx file (path or bytes).

    ``aliases`` maps column names (see :func:`header_key`) to fields, for CSV and workbooks;
    ``sheet`` names the worksheet of a workbook (default: the first). ``info``, when given, is
    filled with the source, sheet and columns, for errors found later to name them. Raises
    :class:`DataError` at the first unreadable line (bad JSON, missing columns, wrong number
    of values); field-level checks are the validators' job.
    """
    info = info if info is not None else RecordsInfo()
    if isinstance(source, bytes):
        raw: IO[bytes] = io.BytesIO(source)
        source_name = name or "upload"
    else:
        source_name = name or str(source)
        try:
            raw = open(source, "rb")  # noqa: SIM115 - closed with the text wrapper below
        except OSError as exc:
            raise DataError.single(source_name, None, None, f"cannot open: {exc.strerror}") from None
    info.source = source_name
    head = raw.read(8)
    raw.seek(0)
    from matching.data import excel  # imported here: it needs this module's error types

    if excel.is_workbook(head, source_name):
        raw.close()
        yield from excel.read_workbook_records(source, source_name, required, aliases, info, sheet)
        return
    with _decode(raw, source_name) as text:
        lines = _lines(text, source_name)
        skipped = 0
        for line in lines:
            if line.strip():
                break
            skipped += 1
        else:
            raise DataError.single(source_name, None, None, "empty file")
        body = itertools.chain([line], lines)
        if _guess_format(source_name, line.lstrip()[:1]) == "jsonl":
            if line.lstrip().startswith("["):
                raise DataError.single(source_name, skipped + 1, None,
                                       "a JSON array: expected JSON Lines, one JSON object per line without [ ]")
            yield from _read_jsonl(body, skipped, source_name, tuple(required))
        else:
            yield from _read_csv(body, skipped, source_name, tuple(required), aliases, info)


def _read_jsonl(lines: Iterator[str], skipped: int, source: str,
                required: tuple[str, ...]) -> Iterator[tuple[int, dict]]:
    for number, line in enumerate(lines, start=skipped + 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line, parse_constant=_no_constant)
        except json.JSONDecodeError as exc:
            raise DataError.single(source, number, None, f"invalid JSON ({exc.msg})") from None
        except RecursionError:
            raise DataError.single(source, number, None, "invalid JSON (nested too deeply)") from None
        except ValueError as exc:  # NaN/Infinity, or an integer too long to convert
            raise DataError.single(source, number, None, f"invalid JSON ({_shorten(str(exc), 80)})") from None
        if not isinstance(record, dict):
            raise DataError.single(source, number, None, "expected a JSON object per line")
        missing = [f for f in required if f not in record]
        if missing:
            raise DataError.single(source, number, missing[0], "missing field")
        yield number, record


def _read_csv(lines: Iterator[str], skipped: int, source: str, required: tuple[str, ...],
              aliases: dict[str, str] | None = None, info: RecordsInfo | None = None) -> Iterator[tuple[int, dict]]:
    header_line = next(lines)
    # Excel in France writes ';'; choose the separator the header uses most.
    delimiter = max((",", ";", "\t"), key=header_line.count)
    reader = csv.reader(itertools.chain([header_line], lines), delimiter=delimiter)
    try:
        written = next(reader)
    except (StopIteration, csv.Error):
        raise DataError.single(source, 1, None, "unreadable CSV header") from None
    header, ambiguous = map_header(written, aliases)
    if ambiguous:
        raise DataError.single(source, skipped + 1, None, ambiguous)
    if info is not None:
        info.columns = {f: f"'{w.strip()}'" for f, w in zip(header, written, strict=True) if w.strip() != f}
    missing = [f for f in required if f not in header]
    if missing:
        shown = ", ".join(h.strip() for h in written)
        raise DataError.single(source, 1, missing[0], f"missing column(s) {', '.join(missing)}; "
                                                      f"header has {_shorten(shown) or 'nothing'}")
    try:
        for row in reader:
            number = reader.line_num + skipped
            if not row or not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise DataError.single(source, number, None,
                                       f"{len(row)} values for {len(header)} columns (check the separator and quotes)")
            yield number, dict(zip(header, row, strict=True))
    except csv.Error as exc:
        raise DataError.single(source, reader.line_num, None, f"malformed CSV ({exc})") from None


# ---------------------------------------------------------------------------- field checks
def _text(record: dict, field: str, required: bool, problems: list[str]) -> str:
    value = record.get(field)
    if value is None:
        value = ""
    if not isinstance(value, str):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        else:
            problems.append(f"{field}\x1fexpected text, got {type(value).__name__}")
            return ""
    value = _CONTROL.sub(" ", value).strip()
    if _SURROGATE.search(value):  # e.g. "\\ud800" in JSON: not encodable, never storable
        if field == "id":
            problems.append(f"{field}\x1fcontains an unpaired surrogate (invalid Unicode)")
            return ""
        value = _SURROGATE.sub("\ufffd", value)
    if required and not value:
        problems.append(f"{field}\x1fmissing or empty")
    return value


def _check_length(out: dict[str, Any], field: str, limit: int, problems: list[str]) -> None:
    if len(out[field]) > limit:
        problems.append(f"{field}\x1f{len(out[field]):,} characters, longer than the limit of {limit:,}")


def _list(record: dict, field: str, problems: list[str]) -> list[str]:
    value = record.get(field)
    if value is None or value == "":
        return []
    if isinstance(value, str):
        items = re.split(r"[;|,]", value)
    elif isinstance(value, list):
        items = value
    else:
        problems.append(f"{field}\x1fexpected a list or ';'-separated text")
        return []
    out = []
    for item in items:
        if not isinstance(item, str):
            problems.append(f"{field}\x1fexpected text items, got {type(item).__name__}")
            return []
        item = _SURROGATE.sub("\ufffd", item.strip())
        if item and item not in out:
            out.append(item)
    return out


_DAY_FIRST = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")


def _date(record: dict, field: str, required: bool, problems: list[str]) -> date | None:
    """A date written ``YYYY-MM-DD`` (a time after it is ignored), ``DD/MM/YYYY`` as in France,
    or a date cell of a workbook."""
    value = record.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            problems.append(f"{field}\x1fmissing date")
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        problems.append(f"{field}\x1fexpected a date DD/MM/YYYY or YYYY-MM-DD")
        return None
    text = value.strip()
    try:
        if match := _DAY_FIRST.fullmatch(text):
            day, month, year = (int(g) for g in match.groups())
            return date(year, month, day)
        return date.fromisoformat(text[:10])
    except ValueError:
        problems.append(f"{field}\x1f'{text[:40]}' is not a valid date (expected DD/MM/YYYY or YYYY-MM-DD)")
        return None


def _name_key(name: str) -> str:
    return " ".join(re.sub(r"[^0-9a-z]+", " ", fold(name)).split())


def _names_index(pairs: Iterable[tuple[str, str]]) -> dict[str, frozenset[str]]:
    index: dict[str, set[str]] = {}
    for name, code in pairs:
        key = _name_key(name)
        if key:
            index.setdefault(key, set()).add(code)
    return {key: frozenset(codes) for key, codes in index.items()}


@cache
def _country_names() -> dict[str, frozenset[str]]:
    """Country names, French and English (official and common forms), folded -> codes."""
    french = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["fr"], fallback=True)
    pairs = [("Kosovo", "XK")]
    for country in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            name = getattr(country, attr, None)
            if name:
                pairs += [(name, country.alpha_2), (french.gettext(name), country.alpha_2)]
    return _names_index(pairs)


@cache
def _language_names() -> dict[str, frozenset[str]]:
    """Language names, French and English, folded -> ISO 639-1 codes."""
    from matching.analysis.language import LANGUAGE_NAMES_FR

    french = gettext.translation("iso639-3", pycountry.LOCALES_DIR, languages=["fr"], fallback=True)
    pairs = [(name, code) for code, name in LANGUAGE_NAMES_FR.items()]
    for language in pycountry.languages:
        code = getattr(language, "alpha_2", None)
        if code:
            # ISO 639 names list variants: "Spanish; Castilian", "espagnol; castillan".
            for name in (language.name, french.gettext(language.name)):
                pairs += [(part, code) for part in re.split(r"[;,]", name)]
    return _names_index(pairs)


def _by_name(value: str, names: dict[str, frozenset[str]], what: str, problems: list[str],
             field: str) -> str | None:
    codes = names.get(_name_key(value))
    if not codes:
        return None
    if len(codes) > 1:
        problems.append(f"{field}\x1f'{value}' is ambiguous: it may be the {what} {' or '.join(sorted(codes))}; "
                        "write the code instead")
        return ""
    return next(iter(codes))


def _language_code(code: str, problems: list[str] | None = None, field: str = "language") -> str:
    """ISO 639-1 code, lower-case; an ISO 639-2/3 code ("fra") or a French or English name
    ("espagnol", "Spanish") is understood too."""
    value = code.strip()
    code = value.lower()
    if code in _LANGUAGES:
        return code
    if len(code) == 3 and (found := pycountry.languages.get(alpha_3=code)) is not None:
        return getattr(found, "alpha_2", code)
    named = _by_name(value, _language_names(), "language", problems if problems is not None else [], field)
    return named if named is not None else code


def _country_code(code: str, problems: list[str] | None = None, field: str = "country") -> str:
    """ISO 3166-1 alpha-2 code, upper-case; an alpha-3 code ("SEN") or a French or English name
    ("Sénégal", "Senegal") is understood too."""
    value = code.strip()
    code = value.upper()
    if code in _COUNTRIES:
        return code
    if len(code) == 3 and (found := pycountry.countries.get(alpha_3=code)) is not None:
        return found.alpha_2
    named = _by_name(value, _country_names(), "country", problems if problems is not None else [], field)
    return named if named is not None else value


def _raise_if(problems: list[str], source: str, line: int | None) -> None:
    if problems:
        raise DataError([Problem(source, line, *_SURROGATE.sub("\ufffd", p).split("\x1f", 1)) for p in problems])


def validate_profile(record: dict[str, Any], source: str = "profile", line: int | None = None) -> dict[str, Any]:
    """Check and normalise one profile record; raise :class:`DataError` naming each bad field."""
    p: list[str] = []
    out: dict[str, Any] = {"id": _text(record, "id", True, p)}
    if len(out["id"]) > MAX_ID_LENGTH:
        p.append(f"id\x1flonger than {MAX_ID_LENGTH} characters")
    for field in ("holder", "title", "description"):
        out[field] = _text(record, field, True, p)
    holder_type = fold(_text(record, "holder_type", True, p)).strip()  # "Département" is "departement"
    if holder_type and holder_type not in HOLDER_TYPES:
        p.append(f"holder_type\x1f'{holder_type}' is not one of {', '.join(HOLDER_TYPES)}")
    out["holder_type"] = holder_type
    out["region"] = canonical_region(_text(record, "region", True, p))
    codes = [c.upper() for c in _list(record, "domains", p)]
    unknown = [c for c in codes if c not in domain_codes()]
    if unknown:
        p.append(f"domains\x1funknown domain code(s) {', '.join(unknown)}")
    elif not 1 <= len(codes) <= 3:
        p.append(f"domains\x1fexpected 1 to 3 domain codes, got {len(codes)}")
    out["domains"] = codes
    languages = [_language_code(c, p, "languages") for c in _list(record, "languages", p)]
    bad = [c for c in languages if c and c not in _LANGUAGES]
    if bad:
        p.append(f"languages\x1f{', '.join(bad)} not ISO 639-1 language code(s) nor language name(s)")
    out["languages"] = [c for c in languages if c] or ["fr"]
    countries = [_country_code(c, p, "countries") for c in _list(record, "countries", p)]
    bad = [c for c in countries if c and c not in _COUNTRIES]
    if bad:
        p.append(f"countries\x1f{', '.join(bad)} not ISO 3166-1 alpha-2 country code(s) nor country name(s)")
    out["countries"] = countries
    start = _date(record, "label_start", True, p)
    end = _date(record, "label_end", False, p)
    if start and end and end < start:
        p.append(f"label_end\x1f{end} is before label_start {start}")
    out["label_start"] = start
    out["label_end"] = end if end else (label_end_default(start) if start else None)
    out["contact"] = _text(record, "contact", False, p)
    for field, limit in PROFILE_TEXT_LIMITS.items():
        _check_length(out, field, limit, p)
    _raise_if(p, source, line)
    return out


def validate_request(record: dict[str, Any], source: str = "request", line: int | None = None) -> dict[str, Any]:
    """Check and normalise one request record; raise :class:`DataError` naming each bad field."""
    p: list[str] = []
    out: dict[str, Any] = {"id": _text(record, "id", True, p), "text": _text(record, "text", True, p)}
    if len(out["id"]) > MAX_ID_LENGTH:
        p.append(f"id\x1flonger than {MAX_ID_LENGTH} characters")
    _check_length(out, "text", MAX_FILE_TEXT_CHARS, p)
    out["requester"] = _text(record, "requester", False, p)
    country = _country_code(_text(record, "country", False, p), p)
    if country and country not in _COUNTRIES:
        p.append(f"country\x1f'{country}' is not an ISO 3166-1 alpha-2 country code nor a country name")
    out["country"] = country if country in _COUNTRIES else ""
    language = _language_code(_text(record, "language", False, p), p)
    if language and language not in _LANGUAGES:
        p.append(f"language\x1f'{language}' is not an ISO 639-1 language code nor a language name")
    out["language"] = language
    received = _date(record, "received", False, p)
    out["received"] = received.isoformat() if received else ""
    out["group"] = _text(record, "group", False, p)
    _raise_if(p, source, line)
    return out


# ---------------------------------------------------------------------------- whole files
def _collect(records: Iterator[tuple[int, dict]], validate, info: RecordsInfo) -> list[dict]:
    rows: list[dict] = []
    problems: list[Problem] = []
    first_line: dict[str, int] = {}
    for line, record in records:
        try:
            row = validate(record, info.source, line)
        except DataError as exc:
            problems.extend(info.locate(exc.problems))
        else:
            if row["id"] in first_line:
                seen_on = first_line[row["id"]]
                unit = "row" if info.sheet is not None else "line"
                problems.extend(info.locate([Problem(info.source, line, "id",
                                                     f"duplicate id '{row['id']}' (first on {unit} {seen_on})")]))
            else:
                first_line[row["id"]] = line
                rows.append(row)
        if len(problems) >= MAX_PROBLEMS:
            break
    if problems:
        raise DataError(problems)
    if not rows:
        raise DataError([Problem(info.source, None, None, "no records", sheet=info.sheet)])
    return rows


def profiles_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Validated profile rows as a DataFrame, one row per profile, list fields as tuples."""
    frame = pd.DataFrame(rows, columns=list(PROFILE_FIELDS))
    for field in ("domains", "languages", "countries"):
        frame[field] = [tuple(v) for v in frame[field]]
    for field in ("label_start", "label_end"):
        frame[field] = pd.to_datetime(frame[field])
    return frame


def load_profile_rows(source: str | Path | bytes, name: str | None = None,
                      sheet: str | None = None) -> list[dict[str, Any]]:
    """Load and validate profiles as plain rows, all-or-nothing: one dict per profile with the
    keys of :data:`PROFILE_FIELDS` in order, list fields as lists, dates as :class:`datetime.date`."""
    info = RecordsInfo()
    records = read_records(source, name, PROFILE_REQUIRED, PROFILE_ALIASES, info, sheet)
    return [{f: row.get(f) for f in PROFILE_FIELDS} for row in _collect(records, validate_profile, info)]


def load_profiles(source: str | Path | bytes, name: str | None = None, sheet: str | None = None) -> pd.DataFrame:
    """Load and validate profiles (JSON Lines, CSV or .xlsx; ``sheet`` of a workbook); all-or-nothing.

    Returns
    -------
    DataFrame of shape (n_profiles, 12) with the columns of :data:`PROFILE_FIELDS`;
    ``label_start``/``label_end`` are datetimes (``label_end`` defaults to start + 3 years).
    """
    return profiles_frame(load_profile_rows(source, name, sheet))


def load_requests(source: str | Path | bytes, name: str | None = None, sheet: str | None = None) -> pd.DataFrame:
    """Load and validate requests (JSON Lines, CSV or .xlsx); all-or-nothing. Columns: :data:`REQUEST_FIELDS`."""
    info = RecordsInfo()
    records = read_records(source, name, REQUEST_REQUIRED, REQUEST_ALIASES, info, sheet)
    return pd.DataFrame(_collect(records, validate_request, info), columns=list(REQUEST_FIELDS))


def iter_request_blocks(source: str | Path | bytes, block_size: int = 2048,
                        name: str | None = None, sheet: str | None = None) -> Iterator[list[dict[str, Any]]]:
    """Stream validated requests in blocks of ``block_size``, in bounded memory.

    Ids are checked for duplicates as they stream, block by block (see :class:`SeenIds`: 12
    bytes per id is the only state kept). Call it twice, once to validate and once to
    process, when nothing may be half-done.
    """
    info = RecordsInfo()
    seen = SeenIds()
    block: list[dict[str, Any]] = []
    lines: list[int] = []
    any_record = False

    def checked(block: list[dict[str, Any]], lines: list[int]) -> list[dict[str, Any]]:
        repeat = seen.add([row["id"] for row in block], lines)
        if repeat is not None:
            position, first_line = repeat
            unit = "row" if info.sheet is not None else "line"
            raise DataError(info.locate([Problem(info.source, lines[position], "id",
                                                 f"duplicate id '{block[position]['id']}' "
                                                 f"(first on {unit} {first_line})")]))
        return block

    for line, record in read_records(source, name, REQUEST_REQUIRED, REQUEST_ALIASES, info, sheet):
        try:
            block.append(validate_request(record, info.source, line))
        except DataError as exc:
            raise DataError(info.locate(exc.problems)) from None
        lines.append(line)
        any_record = True
        if len(block) >= block_size:
            yield checked(block, lines)
            block, lines = [], []
    if block:
        yield checked(block, lines)
    if not any_record:
        raise DataError([Problem(info.source, None, None, "no records", sheet=info.sheet)])


class SeenIds:
    """The ids of a stream, kept compact for duplicate checks: a 64-bit hash and a line number
    per id (12 bytes, where a set of a million short strings takes 93 MiB), in sorted runs
    merged as they pile up, so that checking a block costs a binary search per run.

    Two different ids with the same 64-bit hash would be reported as a duplicate: for a
    million ids the odds are about 1 in 37 million.
    """

    #: Ids per sorted run at most (768 KiB of hashes and lines).
    MAX_RUN = 1 << 16

    def __init__(self) -> None:
        self._runs: list[tuple[np.ndarray, np.ndarray]] = []  # (sorted hashes, their lines)

    def add(self, ids: list[str], lines: list[int]) -> tuple[int, int] | None:
        """Add a block of ``ids`` read on ``lines``; if one was seen before (earlier in the
        block or in an earlier block), add nothing and return ``(position in the block of the
        first such id, line of its first occurrence)``."""
        hashes = np.fromiter(map(hash, ids), dtype=np.int64, count=len(ids))
        line_numbers = np.asarray(lines, dtype=np.int32)
        first_line = np.zeros(len(ids), dtype=np.int64)  # 0: not seen before
        _, first, inverse = np.unique(hashes, return_index=True, return_inverse=True)
        first_of = first[inverse.ravel()]  # position in the block of each id's first occurrence
        repeated = first_of != np.arange(len(ids))
        first_line[repeated] = line_numbers[first_of[repeated]]
        for run_hashes, run_lines in self._runs:
            found = np.minimum(np.searchsorted(run_hashes, hashes), len(run_hashes) - 1)
            hit = (run_hashes[found] == hashes) & (first_line == 0)
            first_line[hit] = run_lines[found[hit]]
        if first_line.any():
            position = int(np.flatnonzero(first_line)[0])
            return position, int(first_line[position])
        order = np.argsort(hashes)
        self._runs.append((hashes[order], line_numbers[order]))
        # Merge the newest runs while the older one is no bigger, up to runs of MAX_RUN ids:
        # few runs to search, and a merge never needs much more memory than the runs it merges.
        while (len(self._runs) > 1 and len(self._runs[-2][0]) <= len(self._runs[-1][0])
               and len(self._runs[-2][0]) + len(self._runs[-1][0]) <= self.MAX_RUN):
            (h2, l2), (h1, l1) = self._runs.pop(), self._runs.pop()
            merged_hashes = np.concatenate([h1, h2])
            order = np.argsort(merged_hashes, kind="stable")
            self._runs.append((merged_hashes[order], np.concatenate([l1, l2])[order]))
        return None


#: The lowest grade of a good match (judgments: 3 ideal, 2 good, 1 partial).
GOOD_GRADE = 2


def load_qrels(source: str | Path) -> pd.DataFrame:
    """Load judgments: TSV ``request_id<TAB>profile_id<TAB>grade`` (3 ideal, 2 good, 1 partial).

    Returns a DataFrame with columns ``request_id``, ``profile_id``, ``grade`` (int).
    """
    path = str(source)
    rows = []
    try:
        fh = open(source, encoding="utf-8-sig")  # noqa: SIM115
    except OSError as exc:
        raise DataError.single(path, None, None, f"cannot open: {exc.strerror}") from None
    with fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.rstrip("\r\n").split("\t")
            if len(parts) != 3:
                raise DataError.single(path, number, None, "expected request_id<TAB>profile_id<TAB>grade")
            try:
                grade = int(parts[2])
            except ValueError:
                raise DataError.single(path, number, "grade", f"'{parts[2]}' is not an integer") from None
            if not 0 <= grade <= 3:
                raise DataError.single(path, number, "grade", "grade must be 0 to 3")
            rows.append((parts[0].strip(), parts[1].strip(), grade))
    return pd.DataFrame(rows, columns=["request_id", "profile_id", "grade"])
