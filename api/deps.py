"""Shared state and access checks, as FastAPI dependencies (use the ``Annotated`` aliases)."""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Annotated, NoReturn

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.security import APIKeyHeader

from matching.data.live import IndexSnapshot, LiveIndex
from matching.data.store import ProfileStore

from .settings import Settings

__all__ = [
    "SettingsDep",
    "StoreDep",
    "LiveDep",
    "SnapshotDep",
    "WriteAccess",
    "ReadAccess",
    "READ_COOKIE",
    "key_matches",
    "read_allowed",
    "page_token",
]

log = logging.getLogger("api.access")

READ_COOKIE = "expe_cle"
api_key_header = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    scheme_name="APIKey",
    description="EXPE_API_KEY for writes; EXPE_READ_KEY (or the write key) for reads when a read key is set.",
)


# Dependencies that only read state are coroutines: FastAPI runs plain functions in its
# thread pool, one hop per dependency, which cost more than the match itself under load.
async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_store(request: Request) -> ProfileStore:
    return request.app.state.store


async def get_live(request: Request) -> LiveIndex:
    return request.app.state.live


async def get_snapshot(live: Annotated[LiveIndex, Depends(get_live)]) -> IndexSnapshot:
    """The index serving now, taken once so a request uses one consistent index throughout."""
    return live.current


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[ProfileStore, Depends(get_store)]
LiveDep = Annotated[LiveIndex, Depends(get_live)]
SnapshotDep = Annotated[IndexSnapshot, Depends(get_snapshot)]
ApiKeyDep = Annotated[str | None, Security(api_key_header)]


def key_matches(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison; False when either side is missing."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))


def _secret(value) -> str | None:
    return value.get_secret_value() if value is not None else None


def _refuse(request: Request, key: str | None, action: str, key_name: str, message: str) -> NoReturn:
    """401, logged with the caller and the route but never the key itself."""
    client = request.client.host if request.client else "?"
    log.warning(
        "%s refused (%s %s) from %s: %s %s",
        action,
        "missing" if not key else "wrong",
        key_name,
        client,
        request.method,
        request.url.path,
    )
    raise HTTPException(status.HTTP_401_UNAUTHORIZED, message, headers={"WWW-Authenticate": "APIKey"})


async def require_write_key(request: Request, settings: SettingsDep, key: ApiKeyDep) -> None:
    """Writes need ``X-API-Key`` equal to EXPE_API_KEY; without a configured key they are refused."""
    expected = _secret(settings.api_key)
    if not expected:
        log.warning("write refused (no EXPE_API_KEY configured): %s %s", request.method, request.url.path)
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "Writes are disabled: the server has no EXPE_API_KEY configured."
        )
    if not key_matches(key, expected):
        _refuse(request, key, "write", "API key", "Missing or wrong API key (X-API-Key header).")


def read_allowed(settings: Settings, key: str | None) -> bool:
    """True when reads are open, or ``key`` is the read key or the write key."""
    read_key = _secret(settings.read_key)
    if not read_key:
        return True
    return key_matches(key, read_key) or key_matches(key, _secret(settings.api_key))


def page_token(settings: Settings) -> str | None:
    """The staff page's session cookie value: derived from the read key, never the key itself."""
    read_key = _secret(settings.read_key)
    if not read_key:
        return None
    return hmac.new(read_key.encode("utf-8"), b"expe-ct-page-session", hashlib.sha256).hexdigest()


async def require_read_key(request: Request, settings: SettingsDep, key: ApiKeyDep) -> None:
    """When EXPE_READ_KEY is set, reads need it (or the write key) in ``X-API-Key``."""
    if not read_allowed(settings, key):
        _refuse(request, key, "read", "key", "Missing or wrong read key (X-API-Key header).")


WriteAccess = Depends(require_write_key)
ReadAccess = Depends(require_read_key)
