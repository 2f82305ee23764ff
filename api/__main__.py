"""``python -m api``: serve the app with uvicorn on HOST (127.0.0.1) and PORT (8000)."""

from __future__ import annotations

import uvicorn

from .settings import Settings


def main() -> None:
    settings = Settings.from_env()
    uvicorn.run(
        "api.main:app",
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        proxy_headers=False,
        server_header=False,
    )


if __name__ == "__main__":
    main()
