"""Service settings, read once from the environment."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, SecretStr

__all__ = ["Settings"]

_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseModel):
    """Everything configurable, with the environment variable that sets it."""

    db_path: Path = Field(_ROOT / "var" / "expe.db", description="EXPE_DB: SQLite database of profiles")
    profiles_path: Path = Field(
        _ROOT / "data" / "profiles.jsonl", description="EXPE_PROFILES: profiles that seed an empty database"
    )
    index_dir: Path | None = Field(
        _ROOT / "var" / "index", description="EXPE_INDEX_DIR: saved index ('' disables; default beside EXPE_DB)"
    )
    api_key: SecretStr | None = Field(None, description="EXPE_API_KEY: key required for writes (none: writes refused)")
    read_key: SecretStr | None = Field(None, description="EXPE_READ_KEY: key required for reads when set")
    host: str = Field("127.0.0.1", description="HOST")
    port: int = Field(8000, description="PORT")
    cors_origins: tuple[str, ...] = Field((), description="EXPE_CORS_ORIGINS: comma-separated allowed origins")
    max_upload_bytes: int = Field(10 * 1024 * 1024, description="EXPE_MAX_UPLOAD_BYTES: batch upload size limit")
    max_text_chars: int = Field(20_000, description="Longest request text accepted")
    log_level: str = Field("info", description="EXPE_LOG_LEVEL")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        values: dict[str, Any] = {}
        simple = {
            "EXPE_DB": "db_path",
            "EXPE_PROFILES": "profiles_path",
            "HOST": "host",
            "PORT": "port",
            "EXPE_MAX_UPLOAD_BYTES": "max_upload_bytes",
            "EXPE_LOG_LEVEL": "log_level",
        }
        for var, field in simple.items():
            if env.get(var):
                values[field] = env[var]
        if "EXPE_INDEX_DIR" in env:
            values["index_dir"] = env["EXPE_INDEX_DIR"] or None
        elif env.get("EXPE_DB"):  # keep the saved index next to its database
            db = Path(env["EXPE_DB"])
            values["index_dir"] = db.with_name(db.stem + "-index")
        for var, field in (("EXPE_API_KEY", "api_key"), ("EXPE_READ_KEY", "read_key")):
            if env.get(var, "").strip():
                values[field] = env[var].strip()
        if env.get("EXPE_CORS_ORIGINS"):
            values["cors_origins"] = tuple(o.strip() for o in env["EXPE_CORS_ORIGINS"].split(",") if o.strip())
        return cls(**values)
