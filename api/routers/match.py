"""POST /match (one request) and POST /match/batch (a file of requests)."""

from __future__ import annotations

import io
from datetime import date
from typing import Annotated

from fastapi import APIRouter, File, HTTPException, Query, Request, UploadFile, status
from fastapi.responses import Response

from matching.batch import BATCH_COLUMNS, batch_rows, run_batch
from matching.data.excel import XLSX_MEDIA_TYPE
from matching.data.labels import resolve_as_of
from matching.data.loading import DataError
from matching.retrieval.filters import MatchFilters
from matching.retrieval.presentation import language_name_fr, language_notice
from matching.retrieval.search import SearchQuery, run_search

from ..deps import ReadAccess, SettingsDep, SnapshotDep
from ..errors import data_error_detail
from ..schemas import BatchResponse, BatchRow, ErrorOut, MatchedTermOut, MatchRequest, MatchResponse, MatchResultOut

router = APIRouter(prefix="/match", tags=["match"], dependencies=[ReadAccess])

Codes = Annotated[list[str], Query(max_length=50)]
BATCH_DOC = (
    """Upload a CSV, JSON Lines or Excel .xlsx file of requests (field `file`, **at most 10 MB**), with
columns `id` and `text` (optional: `requester`, `country`, `language`, `received`, `group`), named in English or
French (`identifiant`/`référence`, `texte`/`demande`, `demandeur`, `pays`, `langue`, `date de réception`),
in any case, with or without accents. CSV may use `,` `;` or tab separators; UTF-8 (BOM tolerated) or
Windows-1252. A workbook is read from its first sheet (or `sheet`); the header row may sit below a title.
Countries and languages may be codes or names ("Sénégal", "espagnol"); dates `DD/MM/YYYY`, ISO or Excel dates.
The whole file is checked first: a bad line gives 422 naming its line (and sheet and column) and field, and no
result; ZIP bombs, XML entities, old .xls and password-protected workbooks are refused with 422. The answer has
the CLI's `batch` columns (`"""
    + "`, `".join(BATCH_COLUMNS)
    + """`): CSV by default or with
`Accept: text/csv`, JSON with `Accept: application/json`, JSON Lines with `Accept: application/x-ndjson`,
an Excel workbook (ranked experts, requests without a good expert, summary; French headers) with
`Accept: """
    + XLSX_MEDIA_TYPE
    + """`."""
)


@router.post(
    "",
    response_model=MatchResponse,
    summary="Rank expert profiles for one request",
    description="The `X-Index-Revision` response header gives the store revision the ranking used.",
)
async def match(body: MatchRequest, snapshot: SnapshotDep, response: Response) -> MatchResponse:
    # A coroutine on purpose: a match is a few ms of CPU with no I/O, and in FastAPI's thread pool
    # the thread hops and GIL hand-offs cost more than the match (bench/README.md, measured with
    # bench/http_load.py). Batches, which take long, stay in the pool.
    response.headers["X-Index-Revision"] = str(snapshot.revision)
    query = SearchQuery(
        text=body.text,
        top_k=body.top_k,
        as_of=body.as_of,
        domains=body.domains,
        languages=body.languages,
        countries=body.countries,
        regions=body.regions,
        holder_types=body.holder_types,
        include_expired=body.include_expired,
        language=body.language,
        max_per_holder=body.max_per_holder,
    )
    outcome = run_search(snapshot.matcher, query)
    results = [
        MatchResultOut(
            rank=r.rank,
            expert_id=r.expert_id,
            score=r.score,
            holder=r.holder,
            title=r.title,
            domains=list(r.domains),
            label_end=r.label_end,
            label_status=r.label_status,
            matched_terms=[
                MatchedTermOut(
                    term=t.term,
                    via=t.via,
                    source=t.source,
                    words=t.words,
                    target=t.target,
                    contribution=t.contribution,
                    label=t.label,
                )
                for t in r.matched_terms
            ],
        )
        for r in outcome.results
    ]
    lang = outcome.language
    return MatchResponse(
        results=results,
        count=len(results),
        as_of=outcome.as_of,
        language=lang.code,
        language_name=language_name_fr(lang.code),
        language_confidence=lang.confidence,
        language_supported=lang.supported,
        notice=language_notice(lang),
    )


def _read_upload(upload: UploadFile, limit: int) -> bytes:
    data = upload.file.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"File too large (limit {limit // (1024 * 1024)} MB).")
    return data


@router.post(
    "/batch",
    summary="Rank profiles for a file of requests (CSV, JSON Lines or .xlsx, 10 MB max)",
    description=BATCH_DOC,
    response_model=BatchResponse,
    responses={
        200: {
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/x-ndjson": {"schema": {"type": "string"}},
                XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
            }
        },
        413: {"model": ErrorOut, "description": "File over the size limit"},
    },
)
def match_batch(
    request: Request,
    settings: SettingsDep,
    snapshot: SnapshotDep,
    file: Annotated[UploadFile, File(description="CSV, JSON Lines or .xlsx file of requests")],
    sheet: Annotated[
        str | None, Query(max_length=100, description="Worksheet of an .xlsx file (default: the first)")
    ] = None,
    top_k: Annotated[int, Query(ge=1, le=50)] = 10,
    as_of: Annotated[date | None, Query(description="Date labels must be valid on (default: today)")] = None,
    include_expired: bool = False,
    domain: Codes = [],  # noqa: B006 - FastAPI copies query defaults
    language: Codes = [],  # noqa: B006
    country: Codes = [],  # noqa: B006
) -> Response | BatchResponse:
    data = _read_upload(file, settings.max_upload_bytes)
    accept = request.headers.get("accept", "")
    fmt = (
        "xlsx"
        if XLSX_MEDIA_TYPE in accept
        else "jsonl"
        if ("application/json" in accept or "ndjson" in accept)
        else "csv"
    )
    filters = MatchFilters(
        domains=tuple(domain),
        languages=tuple(language),
        countries=tuple(country),
        as_of=resolve_as_of(as_of),
        include_expired=include_expired,
    )
    if snapshot.matcher is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "No active expert profile to match against.")
    # The upload's own name is shown in errors and the summary, never opened (see test_security).
    name = (file.filename or "upload").replace("\\", "/").rsplit("/", 1)[-1][:200] or "upload"
    as_json = fmt == "jsonl" and not ("ndjson" in accept and "application/json" not in accept)
    out: io.StringIO | io.BytesIO = io.BytesIO() if fmt == "xlsx" else io.StringIO()
    try:
        if as_json:
            n_requests, rows = batch_rows(snapshot.matcher, data, filters, top_k=top_k, name=name, sheet=sheet)
            return BatchResponse(
                requests=n_requests,
                rows=len(rows),
                results=[BatchRow(**dict(zip(BATCH_COLUMNS, row, strict=True))) for row in rows],
            )
        run_batch(
            snapshot.matcher,
            data,
            out,
            filters,
            top_k=top_k,
            workers=1,
            progress=False,
            fmt=fmt,
            name=name,
            sheet=sheet,
        )
    except DataError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, data_error_detail(exc, "file")) from None
    if fmt == "xlsx":
        return Response(
            out.getvalue(),
            media_type=XLSX_MEDIA_TYPE,
            headers={"Content-Disposition": 'attachment; filename="matches.xlsx"'},
        )
    assert isinstance(out, io.StringIO)
    if fmt == "csv":
        return Response(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="matches.csv"'},
        )
    return Response(out.getvalue(), media_type="application/x-ndjson")
