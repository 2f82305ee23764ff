"""Reading records from JSON Lines, CSV or Excel .xlsx input (encodings, separators, headers),
and the error types every loader raises.

Constants shared by reading and validation (field names, limits) live here too."""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import IO, Any

import pycountry

from matching.analysis.text import fold

PROFILE_FIELDS = (
    "id",
    "holder",
    "holder_type",
    "region",
    "title",
    "description",
    "domains",
    "languages",
    "countries",
    "label_start",
    "label_end",
    "contact",
)
PROFILE_REQUIRED = ("id", "holder", "holder_type", "region", "title", "description", "domains", "label_start")
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


def _iso_codes(standard: str) -> frozenset[str]:
    """The alpha-2 codes of pycountry's ISO ``standard`` ("639-3", "3166-1"), read from its
    JSON file: ``pycountry.languages`` builds an object and indexes for each of its 7,900
    languages (0.1 s at every start: bench/README.md); they are built only when names are looked up."""
    with open(Path(pycountry.DATABASE_DIR) / f"iso{standard}.json", encoding="utf-8") as fh:
        return frozenset(entry["alpha_2"] for entry in json.load(fh)[standard] if "alpha_2" in entry)


_LANGUAGES = _iso_codes("639-3")
# XK (Kosovo) is user-assigned in ISO 3166 but in common use.
_COUNTRIES = _iso_codes("3166-1") | {"XK"}
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
REQUEST_ALIASES = _aliases(
    {
        "id": ("identifiant", "référence", "ref", "identifiant de la demande", "référence de la demande", "request id"),
        "text": ("texte", "demande", "texte de la demande", "request", "request text"),
        "requester": ("demandeur", "collectivité demandeuse"),
        "country": ("pays", "pays demandeur"),
        "language": ("langue", "langue de la demande"),
        "received": ("date de réception", "reçu", "reçue le", "reçu le", "réception", "received on", "date received"),
        "group": ("groupe",),
    }
)
#: Column names understood for profiles, by field.
PROFILE_ALIASES = _aliases(
    {
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
    }
)


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
            return fields, (
                f"columns '{first}' and '{header[position].strip()}' both mean '{name}': keep only one of them"
            )
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
        raise DataError.single(
            source, None, None, f"binary file ({controls} control bytes): expected UTF-8 text, CSV or JSON Lines"
        )
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


def read_records(
    source: str | Path | bytes,
    name: str | None = None,
    required: Iterable[str] = (),
    aliases: dict[str, str] | None = None,
    info: RecordsInfo | None = None,
    sheet: str | None = None,
) -> Iterator[tuple[int, dict[str, Any]]]:
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
                raise DataError.single(
                    source_name,
                    skipped + 1,
                    None,
                    "a JSON array: expected JSON Lines, one JSON object per line without [ ]",
                )
            yield from _read_jsonl(body, skipped, source_name, tuple(required))
        else:
            yield from _read_csv(body, skipped, source_name, tuple(required), aliases, info)


def _read_jsonl(
    lines: Iterator[str], skipped: int, source: str, required: tuple[str, ...]
) -> Iterator[tuple[int, dict]]:
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


def _read_csv(
    lines: Iterator[str],
    skipped: int,
    source: str,
    required: tuple[str, ...],
    aliases: dict[str, str] | None = None,
    info: RecordsInfo | None = None,
) -> Iterator[tuple[int, dict]]:
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
        raise DataError.single(
            source, 1, missing[0], f"missing column(s) {', '.join(missing)}; header has {_shorten(shown) or 'nothing'}"
        )
    try:
        for row in reader:
            number = reader.line_num + skipped
            if not row or not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise DataError.single(
                    source,
                    number,
                    None,
                    f"{len(row)} values for {len(header)} columns (check the separator and quotes)",
                )
            yield number, dict(zip(header, row, strict=True))
    except csv.Error as exc:
        raise DataError.single(source, reader.line_num, None, f"malformed CSV ({exc})") from None
