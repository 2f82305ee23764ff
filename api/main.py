"""The application: ``api.main:app`` (settings from the environment) or :func:`create_app`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from matching import __version__
from matching.data.live import LiveIndex
from matching.data.store import ProfileStore

from .errors import install_error_handlers
from .middleware import BodySizeLimit, SecurityHeaders
from .routers import coverage, domains, experts, health, match, page
from .settings import Settings

__all__ = ["app", "create_app", "open_state"]

log = logging.getLogger("api")

DESCRIPTION = """Ranks labelled French local-authority expertise profiles (EXPE-CT programme) against
foreign cooperation requests. Staff page at [/](/).

* Reads are open, unless the server sets `EXPE_READ_KEY` (then send it in `X-API-Key`).
* Writes (`POST`, `PUT`, `DELETE /experts`) need `X-API-Key` equal to the server's `EXPE_API_KEY`;
  without a configured key, writes are refused (503).
* Request text is limited to 20,000 characters; batch uploads to 10 MB.
"""


def open_state(settings: Settings) -> tuple[ProfileStore, LiveIndex]:
    """Open (and on first start, seed) the store, then build or load the index."""
    store = ProfileStore(settings.db_path)
    if store.is_empty():
        if settings.profiles_path.exists():
            added = store.seed(settings.profiles_path)
            log.info("store %s seeded with %d profiles from %s", settings.db_path, added, settings.profiles_path)
        else:
            log.warning(
                "store %s is empty and %s does not exist: serving no profiles", settings.db_path, settings.profiles_path
            )
    live = LiveIndex(store, settings.index_dir)
    live.start()
    return store, live


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.store, app.state.live = open_state(settings)
        yield

    app = FastAPI(title="EXPE-CT Match", version=__version__, description=DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    install_error_handlers(app)

    @app.exception_handler(page.LoginRequired)
    async def _login(request: Request, exc: Exception) -> RedirectResponse:
        return RedirectResponse("/connexion", status_code=303)

    for module in (health, domains, experts, match, coverage, page):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=Path(__file__).resolve().parent / "static"), name="static")
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["X-API-Key", "Content-Type"],
        )
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_upload_bytes + 1024 * 1024)
    return app


logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
app = create_app()
