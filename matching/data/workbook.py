"""Batch results as an Excel workbook for staff: French headers, frozen header row, filters on.

Three sheets: the ranked experts of every request; the requests without a good expert (best
score under :data:`matching.analytics.coverage.STRONG_SCORE`, or no match at all); a summary of the run.
The workbook is written in openpyxl's write-only mode, row by row into temporary files, so a
backlog of a million requests does not have to fit in memory.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from matching.analytics.coverage import STRONG_SCORE
from matching.retrieval.ranking import Matcher

__all__ = [
    "RESULT_SHEET",
    "WEAK_SHEET",
    "SUMMARY_SHEET",
    "RESULT_HEADERS",
    "WEAK_HEADERS",
    "ResultWorkbook",
    "request_brief",
]

RESULT_SHEET = "Experts classés"
WEAK_SHEET = "Sans bonne expertise"
SUMMARY_SHEET = "Résumé"
#: (header, width in characters) of each sheet's columns.
RESULT_HEADERS = (
    ("Identifiant de la demande", 22),
    ("Rang", 7),
    ("Score", 9),
    ("Identifiant de l'expertise", 22),
    ("Porteur", 34),
    ("Titre de l'expertise", 60),
    ("Domaines", 18),
    ("Fin du label", 13),
    ("Termes correspondants", 60),
)
WEAK_HEADERS = (
    ("Identifiant de la demande", 22),
    ("Pays", 8),
    ("Langue", 8),
    ("Demandeur", 28),
    ("Meilleur score", 14),
    ("Meilleure expertise", 22),
    ("Titre de la meilleure expertise", 50),
    ("Début de la demande", 80),
)
EXCERPT_CHARS = 300
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="1F4E79")


def request_brief(request: dict[str, Any]) -> tuple[str, str, str, str, str]:
    """What the "without a good expert" sheet shows of a request (small, sent back by workers)."""
    text = " ".join(request["text"].split())
    return (
        request["id"],
        request.get("country", ""),
        request.get("language", ""),
        request.get("requester", ""),
        text[:EXCERPT_CHARS] + ("…" if len(text) > EXCERPT_CHARS else ""),
    )


def _text_cell(sheet: Any, value: str) -> Any:
    # A value starting with "=" would otherwise be written as a formula (a request id or a text
    # from an uploaded file must never run in the staff's Excel).
    cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub(" ", value))
    cell.data_type = "s"
    return cell


@dataclass
class _Counts:
    requests: int = 0
    rows: int = 0
    strong: int = 0
    weak_rows: int = 0
    options: dict[str, str] = field(default_factory=dict)


class ResultWorkbook:
    """Write batch results block by block, then :meth:`close` with the summary."""

    def __init__(self, matcher: Matcher, threshold: float = STRONG_SCORE) -> None:
        self.threshold = threshold
        self.counts = _Counts()
        profiles = matcher.index.metadata_.profiles_
        # expert id -> (domains, label end), for the columns the batch rows do not carry.
        self._extra = {
            str(pid): (", ".join(domains), end.date() if hasattr(end, "date") else end)
            for pid, domains, end in zip(profiles["id"], profiles["domains"], profiles["label_end"], strict=True)
        }
        self.book = Workbook(write_only=True)
        self.results = self._sheet(RESULT_SHEET, RESULT_HEADERS)
        self.weak = self._sheet(WEAK_SHEET, WEAK_HEADERS)
        self.summary = self.book.create_sheet(SUMMARY_SHEET)
        self.summary.column_dimensions["A"].width = 52
        self.summary.column_dimensions["B"].width = 40

    def _sheet(self, title: str, headers: tuple[tuple[str, int], ...]) -> Any:
        sheet = self.book.create_sheet(title)
        for index, (_, width) in enumerate(headers, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.freeze_panes = "A2"
        cells = []
        for name, _ in headers:
            cell = WriteOnlyCell(sheet, value=name)
            cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
            cell.alignment = Alignment(vertical="center")
            cells.append(cell)
        sheet.append(cells)
        return sheet

    def add(self, rows: list[tuple], briefs: list[tuple[str, str, str, str, str]]) -> None:
        """One block: its result rows (see :data:`matching.batch.BATCH_COLUMNS`) and its requests."""
        best: dict[str, tuple] = {}
        sheet = self.results
        for request_id, rank, expert_id, score, holder, title, _language, terms in rows:
            domains, label_end = self._extra.get(expert_id, ("", None))
            score_cell = WriteOnlyCell(sheet, value=score)
            score_cell.number_format = "0.000"
            end_cell = WriteOnlyCell(sheet, value=label_end)
            end_cell.number_format = "DD/MM/YYYY"
            sheet.append(
                [
                    _text_cell(sheet, request_id),
                    rank,
                    score_cell,
                    _text_cell(sheet, expert_id),
                    _text_cell(sheet, holder),
                    _text_cell(sheet, title),
                    domains,
                    end_cell,
                    _text_cell(sheet, " ; ".join(terms)),
                ]
            )
            if rank == 1:
                best[request_id] = (score, expert_id, title)
        self.counts.rows += len(rows)
        self.counts.requests += len(briefs)
        for request_id, country, language, requester, excerpt in briefs:
            score, expert_id, title = best.get(request_id, (None, "", ""))
            if score is not None and score >= self.threshold:
                self.counts.strong += 1
                continue
            score_cell = WriteOnlyCell(self.weak, value=score)
            score_cell.number_format = "0.000"
            self.weak.append(
                [
                    _text_cell(self.weak, request_id),
                    country,
                    language,
                    _text_cell(self.weak, requester),
                    score_cell,
                    _text_cell(self.weak, expert_id),
                    _text_cell(self.weak, title),
                    _text_cell(self.weak, excerpt),
                ]
            )
            self.counts.weak_rows += 1

    def discard(self) -> None:
        """Drop a workbook that will not be saved (the input was refused half-way): write-only
        sheets stream into temporary files, which openpyxl would otherwise remove only at exit."""
        for sheet in self.book.worksheets:
            with contextlib.suppress(Exception):
                sheet.close()
            writer = getattr(sheet, "_writer", None)
            if writer is not None:
                with contextlib.suppress(OSError, ValueError, TypeError):
                    writer.cleanup()

    def close(
        self, out: str | Path | IO[bytes], source: str, seconds: float, top_k: int, options: dict[str, str]
    ) -> None:
        """Write the summary sheet, set the filters' ranges and save to ``out`` (path or binary file)."""
        c = self.counts
        self.results.auto_filter.ref = f"A1:{get_column_letter(len(RESULT_HEADERS))}{c.rows + 1}"
        self.weak.auto_filter.ref = f"A1:{get_column_letter(len(WEAK_HEADERS))}{c.weak_rows + 1}"
        share = c.strong / c.requests if c.requests else 0.0
        lines: list[tuple[str, Any]] = [
            ("Fichier de demandes", source),
            ("Traité le", datetime.now().replace(microsecond=0)),
            ("Demandes traitées", c.requests),
            ("Lignes de résultats (experts classés)", c.rows),
            (f"Demandes avec une bonne expertise (meilleur score ≥ {self.threshold:.2f})".replace(".", ","), c.strong),
            ("Demandes sans bonne expertise", c.requests - c.strong),
            ("Part des demandes avec une bonne expertise", share),
            ("Seuil de score d'une bonne expertise", self.threshold),
            ("Experts par demande au plus", top_k),
            *options.items(),
            ("Durée du traitement (secondes)", round(seconds, 1)),
        ]
        bold = Font(bold=True)
        for label, value in lines:
            key = WriteOnlyCell(self.summary, value=label)
            key.font = bold
            cell = _text_cell(self.summary, value) if isinstance(value, str) else WriteOnlyCell(self.summary, value)
            if isinstance(value, datetime):
                cell.number_format = "DD/MM/YYYY HH:MM"
            elif isinstance(value, date):
                cell.number_format = "DD/MM/YYYY"
            elif label.startswith("Part"):
                cell.number_format = "0.0 %"
            self.summary.append([key, cell])
        self.book.save(out)
