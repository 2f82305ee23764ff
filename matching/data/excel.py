"""Reading Excel .xlsx workbooks of requests or profiles, safely.

A workbook is a ZIP archive of XML parts, which makes two cheap attacks possible: a ZIP bomb
(a few kilobytes that inflate to gigabytes) and XML entity expansion ("billion laughs"). Both
are refused *before* any part is parsed: the ZIP directory's declared sizes, ratios and entry
count are checked first (Python's ``zipfile`` never inflates an entry past its declared size,
so the declared sizes bound the memory), then the prolog of every XML part is checked for a
DOCTYPE, which no genuine workbook has. openpyxl also parses through defusedxml when it is
installed (it is a dependency), as a second line of defence.

Rows are streamed with openpyxl's read-only mode (pandas' ``read_excel`` would hold the whole
sheet in memory and hide the row numbers errors must name). The header row may sit below a
title row; empty rows are skipped; formulas and Excel error cells are refused, naming the
sheet, row and column.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, cast

from matching.data.records import DataError, Problem, RecordsInfo, header_key, map_header

__all__ = [
    "XLSX_MEDIA_TYPE",
    "MAX_ENTRIES",
    "MAX_UNCOMPRESSED_BYTES",
    "MAX_RATIO",
    "HEADER_SEARCH_ROWS",
    "is_workbook",
    "check_workbook",
    "read_workbook_records",
]

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: A workbook holds a few dozen parts; thousands of entries are an attack or not a workbook.
MAX_ENTRIES = 2_000
#: Total declared uncompressed size. A 10 MB upload of real text inflates 5 to 20 times.
MAX_UNCOMPRESSED_BYTES = 512 * 1024 * 1024
#: Largest compression ratio accepted for a part over 1 MiB: sheets of real text compress
#: 5 to 30 times; a bomb compresses thousands of times.
MAX_RATIO = 200
_RATIO_FLOOR = 1024 * 1024
#: Rows searched for the header (a title and notes may come above it).
HEADER_SEARCH_ROWS = 30
#: Bytes of each XML part searched for a DOCTYPE: it can only come before the root element.
_PROLOG_BYTES = 4096

_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")


def is_workbook(head: bytes, name: str) -> bool:
    """True when a file should be read as a workbook: a ZIP or an OLE2 (old .xls, encrypted
    workbook) signature, or an Excel file name. An .xlsx renamed .csv is still read as one."""
    return head.startswith(_ZIP_MAGICS + (_CFB_MAGIC,)) or name.lower().endswith((".xlsx", ".xlsm", ".xls"))


def _ole_kind(data: bytes) -> str:
    # An encrypted .xlsx is an OLE2 container holding "EncryptionInfo" and "EncryptedPackage"
    # streams; the directory names are UTF-16, usually near the start of a small file.
    if "EncryptedPackage".encode("utf-16-le") in data or "EncryptionInfo".encode("utf-16-le") in data:
        return (
            "a password-protected (encrypted) Excel workbook: open it in Excel, remove the password "
            "(File > Info > Protect Workbook) and save it again as .xlsx"
        )
    return (
        "an old Excel .xls (97-2003) workbook or another Office document: open it in Excel and save it "
        "as .xlsx (Excel Workbook) or as CSV"
    )


def check_workbook(archive: zipfile.ZipFile, source: str) -> None:
    """Refuse what is not a plain workbook, reading only the ZIP directory and the XML prologs."""
    entries = archive.infolist()
    if len(entries) > MAX_ENTRIES:
        raise DataError.single(
            source,
            None,
            None,
            f"refused: the archive has {len(entries):,} entries (a workbook has a few dozen; limit {MAX_ENTRIES:,})",
        )
    total = 0
    for entry in entries:
        total += entry.file_size
        if entry.file_size > _RATIO_FLOOR and entry.file_size > MAX_RATIO * max(entry.compress_size, 1):
            raise DataError.single(
                source,
                None,
                None,
                f"refused: part '{entry.filename[:80]}' would inflate {entry.compress_size:,} "
                f"bytes to {entry.file_size:,} (ratio over {MAX_RATIO}): a ZIP bomb?",
            )
        if entry.flag_bits & 0x1:
            raise DataError.single(source, None, None, "refused: the archive is encrypted (password-protected)")
    if total > MAX_UNCOMPRESSED_BYTES:
        raise DataError.single(
            source,
            None,
            None,
            f"refused: the workbook would inflate to {total / 2**20:,.0f} MiB "
            f"(limit {MAX_UNCOMPRESSED_BYTES // 2**20} MiB): a ZIP bomb?",
        )
    names = {entry.filename for entry in entries}
    if "xl/workbook.bin" in names:
        raise DataError.single(source, None, None, "a binary .xlsb Excel workbook: save it as .xlsx or CSV")
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise DataError.single(
            source,
            None,
            None,
            "a ZIP archive that is not an Excel .xlsx workbook (no xl/workbook.xml): expected .xlsx, CSV or JSON Lines",
        )
    for entry in entries:
        if entry.filename.endswith((".xml", ".rels", ".vml")):
            with archive.open(entry) as part:
                prolog = part.read(_PROLOG_BYTES)
            for encoding in ("ascii", "utf-16-le", "utf-16-be"):
                if "<!DOCTYPE".encode(encoding) in prolog or "<!ENTITY".encode(encoding) in prolog:
                    raise DataError.single(
                        source,
                        None,
                        None,
                        f"refused: part '{entry.filename[:80]}' declares a DOCTYPE or XML "
                        "entities, which no Excel workbook does",
                    )


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def _value(cell: Any) -> tuple[Any, str | None]:
    """A cell's value as the validators expect it (text, or a date for date cells), or why not."""
    value = cell.value
    kind = getattr(cell, "data_type", None)
    if kind == "f":
        # Cached results of formulas may be stale or absent (files written by other tools).
        return None, f"the cell holds a formula ({str(value)[:60]}): paste the values only (Paste Special > Values)"
    if kind == "e":
        return None, f"the cell shows an Excel error ({value})"
    return _plain(value), None


def _plain(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, datetime):  # a date cell (Excel stores dates as day numbers)
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # an id typed as a number: 12, not 12.0
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, time):
        return value.isoformat()
    return str(value)


def read_workbook_records(
    source: str | Path | bytes,
    name: str,
    required: Iterable[str],
    aliases: dict[str, str] | None,
    info: RecordsInfo,
    sheet: str | None = None,
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(row_number, record)`` from one worksheet (default: the first); see the module doc."""
    required = tuple(required)
    data = source if isinstance(source, bytes) else None
    if data is None:
        try:
            with open(source, "rb") as fh:
                head = fh.read(8)
        except OSError as exc:
            raise DataError.single(name, None, None, f"cannot open: {exc.strerror}") from None
    else:
        head = data[:8]
    if head.startswith(_CFB_MAGIC):
        if data is None:
            # The directory of a small OLE2 file is near its start; 4 MiB is plenty to find it.
            with open(source, "rb") as fh:
                data = fh.read(4 * 1024 * 1024)
        raise DataError.single(name, None, None, _ole_kind(data))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data) if data is not None else cast("str | Path", source))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise DataError.single(
            name,
            None,
            None,
            "a damaged ZIP archive or Excel .xlsx workbook that cannot be "
            "read: open it in Excel and save it again as .xlsx",
        ) from None
    with archive:
        check_workbook(archive, name)
    yield from _read_sheet(io.BytesIO(data) if data is not None else source, name, required, aliases, info, sheet)


def _read_sheet(
    opened: Any,
    name: str,
    required: tuple[str, ...],
    aliases: dict[str, str] | None,
    info: RecordsInfo,
    sheet: str | None,
) -> Iterator[tuple[int, dict[str, Any]]]:
    import openpyxl
    from defusedxml import DefusedXmlException

    try:
        workbook = openpyxl.load_workbook(opened, read_only=True, data_only=False)
    except DataError:
        raise
    except DefusedXmlException:
        raise DataError.single(name, None, None, "refused: the workbook declares XML entities") from None
    except Exception as exc:  # openpyxl raises many types (KeyError, ValueError...) on damaged files
        raise DataError.single(
            name,
            None,
            None,
            f"unreadable Excel workbook ({type(exc).__name__}): open it in Excel and save it again as .xlsx",
        ) from None
    try:
        worksheet = _pick_sheet(workbook, name, sheet)
        info.sheet = worksheet.title
        # Never trust the declared dimension: a forged "A1:XFD1048576" would pad every row.
        worksheet.reset_dimensions()
        yield from _records(worksheet, name, required, aliases, info)
    except (DataError, GeneratorExit):
        raise
    except DefusedXmlException:
        raise DataError.single(name, None, None, "refused: the workbook declares XML entities") from None
    except Exception as exc:
        raise DataError.single(
            name,
            None,
            None,
            f"unreadable Excel worksheet ({type(exc).__name__}): open it in Excel and save it again as .xlsx",
        ) from None
    finally:
        workbook.close()


def _pick_sheet(workbook: Any, name: str, sheet: str | None) -> Any:
    sheets = workbook.worksheets
    if not sheets:
        raise DataError.single(name, None, None, "the workbook has no worksheet")
    if not sheet or not sheet.strip():
        return sheets[0]
    for candidates in (
        [s for s in sheets if s.title == sheet],
        [s for s in sheets if header_key(s.title) == header_key(sheet)],
    ):
        if len(candidates) == 1:
            return candidates[0]
    titles = ", ".join(f"'{s.title}'" for s in sheets)
    raise DataError.single(name, None, None, f"no sheet named '{sheet[:80]}'; the workbook has {titles}")


def _records(
    worksheet: Any, name: str, required: tuple[str, ...], aliases: dict[str, str] | None, info: RecordsInfo
) -> Iterator[tuple[int, dict[str, Any]]]:
    sheet = worksheet.title
    rows = worksheet.iter_rows()
    fields: list[str] | None = None
    best: tuple[int, int, list[str]] | None = None  # (known fields, row, texts) of the likeliest header
    searched = 0
    any_row = False
    # Rows come in order, missing ones as empty tuples: counting them gives Excel's row numbers.
    for row, cells in enumerate(rows, start=1):
        if not any(c.value is not None and str(c.value).strip() for c in cells):
            continue
        any_row = True
        if fields is None:
            searched += 1
            texts = [str(c.value).strip() if c.value is not None else "" for c in cells]
            mapped, ambiguous = map_header(texts, aliases)
            known = [f for f in mapped if aliases is None or f in aliases.values()]
            if all(f in mapped for f in required):
                if ambiguous:
                    raise DataError([Problem(name, row, None, ambiguous, sheet=sheet)])
                fields = mapped
                info.columns = {f: f"{_column_letter(i)} '{texts[i]}'" for i, f in enumerate(mapped) if texts[i]}
                continue
            if best is None or len(set(known)) > best[0]:
                best = (len(set(known)), row, texts)
            if searched >= HEADER_SEARCH_ROWS:
                break
            continue
        record: dict[str, Any] = {}
        problems: list[Problem] = []
        for index, cell in enumerate(cells[: len(fields)]):
            field = fields[index]
            value, error = _value(cell)
            if error:
                column = info.columns.get(field) or _column_letter(index)
                problems.append(Problem(name, row, field, error, sheet=sheet, column=column))
            elif value is not None and not (isinstance(value, str) and not value.strip()):
                record[field] = value
        if problems:
            raise DataError(problems)
        yield row, record
    if not any_row:
        raise DataError([Problem(name, None, None, "the sheet is empty", sheet=sheet)])
    if fields is None:
        assert best is not None
        missing = [f for f in required if f not in map_header(best[2], aliases)[0]]
        shown = ", ".join(t for t in best[2] if t)[:120]
        raise DataError(
            [
                Problem(
                    name,
                    best[1],
                    missing[0] if missing else None,
                    f"missing column(s) {', '.join(missing)}: no header row with them in the first "
                    f"{HEADER_SEARCH_ROWS} rows; the likeliest header (row {best[1]}) has {shown}",
                    sheet=sheet,
                )
            ]
        )
