"""Loading profiles, requests and judgments, whole files at a time (JSON Lines, CSV or Excel .xlsx).

Every loader is all-or-nothing: it reads and checks the whole input, then returns it, or
raises :class:`DataError` listing each problem with its file, line and field. The work is
split in three: reading records (:mod:`matching.data.records`: encodings, CSV separators,
French or English headers, Excel through :mod:`matching.data.excel`, binary files refused),
validating each record (:mod:`matching.data.validation`) and checking ids
(:mod:`matching.data.ids`, and within a file here). This module chains them and keeps the
names the rest of the code imports.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from matching.data.ids import SeenIds
from matching.data.labels import LABEL_YEARS, label_end_default
from matching.data.records import (
    MAX_FILE_TEXT_CHARS,
    MAX_PROBLEMS,
    MAX_TEXT_CHARS,
    PROFILE_ALIASES,
    PROFILE_FIELDS,
    PROFILE_REQUIRED,
    REQUEST_ALIASES,
    REQUEST_FIELDS,
    REQUEST_REQUIRED,
    DataError,
    Problem,
    RecordsInfo,
    header_key,
    map_header,
    read_records,
)
from matching.data.validation import validate_profile, validate_request

__all__ = [
    "DataError",
    "GOOD_GRADE",
    "Problem",
    "LABEL_YEARS",
    "MAX_TEXT_CHARS",
    "MAX_FILE_TEXT_CHARS",
    "PROFILE_FIELDS",
    "REQUEST_FIELDS",
    "REQUEST_ALIASES",
    "PROFILE_ALIASES",
    "RecordsInfo",
    "header_key",
    "read_records",
    "validate_profile",
    "validate_request",
    "profiles_frame",
    "load_profiles",
    "load_requests",
    "load_qrels",
    "iter_request_blocks",
    "label_end_default",
    "load_profile_rows",
    "map_header",
    "SeenIds",
]


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
                problems.extend(
                    info.locate(
                        [Problem(info.source, line, "id", f"duplicate id '{row['id']}' (first on {unit} {seen_on})")]
                    )
                )
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


def load_profile_rows(
    source: str | Path | bytes, name: str | None = None, sheet: str | None = None
) -> list[dict[str, Any]]:
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


def iter_request_blocks(
    source: str | Path | bytes, block_size: int = 2048, name: str | None = None, sheet: str | None = None
) -> Generator[list[dict[str, Any]], None, None]:
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
            raise DataError(
                info.locate(
                    [
                        Problem(
                            info.source,
                            lines[position],
                            "id",
                            f"duplicate id '{block[position]['id']}' (first on {unit} {first_line})",
                        )
                    ]
                )
            )
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
