"""Exception handlers: clear JSON errors, field-named validation errors, never a stack trace."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from matching.data.loading import DataError
from matching.data.store import AlreadyWithdrawn, DuplicateProfile, ProfileNotFound

__all__ = ["install_error_handlers", "data_error_detail"]

log = logging.getLogger("api.errors")


def _safe(value: object) -> str | int:
    if isinstance(value, int):
        return value
    return str(value).encode("utf-8", "replace").decode("utf-8")[:200]


def data_error_detail(exc: DataError, where: str = "body") -> list[dict]:
    """FastAPI-style validation items (``loc`` names the field) for a :class:`DataError`."""
    out = []
    for p in exc.problems:
        loc: list[str | int] = [where]
        if p.sheet is not None:
            loc.append(p.sheet)
        if p.line is not None:
            loc.append(p.line)
        if p.column:
            loc.append(p.column)
        if p.field:
            loc.append(p.field)
        out.append({"loc": [_safe(part) for part in loc], "msg": _safe(p.message), "type": "value_error"})
    return out


async def _data_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DataError)
    code = status.HTTP_409_CONFLICT if isinstance(exc, DuplicateProfile) else status.HTTP_422_UNPROCESSABLE_CONTENT
    return JSONResponse({"detail": data_error_detail(exc)}, status_code=code)


async def _not_found(request: Request, exc: Exception) -> JSONResponse:
    code = status.HTTP_409_CONFLICT if isinstance(exc, AlreadyWithdrawn) else status.HTTP_404_NOT_FOUND
    message = str(exc)
    if isinstance(exc, AlreadyWithdrawn):
        message = f"expert profile '{exc.profile_id}' was already withdrawn on {(exc.withdrawn_at or '')[:10]}"
    return JSONResponse({"detail": message[:1].upper() + message[1:] + "."}, status_code=code)


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    """422 naming each field, without echoing the (possibly huge or unencodable) input."""
    assert isinstance(exc, RequestValidationError)
    detail = [
        {
            "loc": [_safe(part) for part in error.get("loc", ())],
            "msg": _safe(error.get("msg", "")),
            "type": _safe(error.get("type", "value_error")),
        }
        for error in exc.errors()
    ]
    return JSONResponse({"detail": detail}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    # Rendered outside the middleware stack, hence the header set here.
    return JSONResponse(
        {"detail": "Internal error; it has been logged."},
        status_code=500,
        headers={"X-Content-Type-Options": "nosniff"},
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(ProfileNotFound, _not_found)
    app.add_exception_handler(Exception, _unexpected)
