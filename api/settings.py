"""Service settings, read once from the environment (pydantic-settings)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import AliasChoices, Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = ["Settings"]

_ROOT = Path(__file__).resolve().parent.parent
_DEFAULT_DB = _ROOT / "var" / "expe.db"


def _env(field: str, variable: str) -> Any:
    """Set by keyword (``field``, as tests and ``create_app`` do) or by its environment variable."""
    return AliasChoices(field, variable)


class Settings(BaseSettings):
    """Everything configurable, with the environment variable that sets it.

    A variable set to an empty string counts as unset, except ``EXPE_INDEX_DIR=""``, which
    means "do not save the index". Unless given, the saved index lives next to the database.
    """

    model_config = SettingsConfigDict(populate_by_name=True, extra="ignore", case_sensitive=True)

    db_path: Path = Field(
        _DEFAULT_DB, validation_alias=_env("db_path", "EXPE_DB"), description="EXPE_DB: SQLite database of profiles"
    )
    profiles_path: Path = Field(
        _ROOT / "data" / "profiles.jsonl",
        validation_alias=_env("profiles_path", "EXPE_PROFILES"),
        description="EXPE_PROFILES: profiles that seed an empty database",
    )
    index_dir: Path | None = Field(
        None,
        validation_alias=_env("index_dir", "EXPE_INDEX_DIR"),
        description="EXPE_INDEX_DIR: saved index ('' disables; default beside EXPE_DB)",
    )
    api_key: SecretStr | None = Field(
        None,
        validation_alias=_env("api_key", "EXPE_API_KEY"),
        description="EXPE_API_KEY: key required for writes (none: writes refused)",
    )
    read_key: SecretStr | None = Field(
        None,
        validation_alias=_env("read_key", "EXPE_READ_KEY"),
        description="EXPE_READ_KEY: key required for reads when set",
    )
    host: str = Field("127.0.0.1", validation_alias=_env("host", "HOST"), description="HOST")
    port: int = Field(8000, validation_alias=_env("port", "PORT"), description="PORT")
    cors_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        (),
        validation_alias=_env("cors_origins", "EXPE_CORS_ORIGINS"),
        description="EXPE_CORS_ORIGINS: comma-separated allowed origins",
    )
    max_upload_bytes: int = Field(
        10 * 1024 * 1024,
        validation_alias=_env("max_upload_bytes", "EXPE_MAX_UPLOAD_BYTES"),
        description="EXPE_MAX_UPLOAD_BYTES: batch upload size limit",
    )
    max_text_chars: int = Field(20_000, description="Longest request text accepted")
    log_level: str = Field("info", validation_alias=_env("log_level", "EXPE_LOG_LEVEL"), description="EXPE_LOG_LEVEL")

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any, info: ValidationInfo) -> Any:
        """An empty (or blank) variable counts as unset; for the index directory, it disables saving."""
        if isinstance(value, str) and not value.strip():
            if info.field_name == "index_dir":
                return _DISABLED
            field = cls.model_fields[info.field_name or ""]
            return field.get_default(call_default_factory=True)
        return value.strip() if info.field_name in ("api_key", "read_key") and isinstance(value, str) else value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(o.strip() for o in value.split(",") if o.strip())
        return value

    @model_validator(mode="after")
    def _index_beside_database(self) -> Settings:
        if self.index_dir == _DISABLED:
            self.index_dir = None
        elif "index_dir" not in self.model_fields_set:
            # Keep the saved index next to its database (the default database keeps var/index).
            db = self.db_path
            self.index_dir = _ROOT / "var" / "index" if db == _DEFAULT_DB else db.with_name(db.stem + "-index")
        return self

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Settings from the process environment; the variables of ``env``, when given, take precedence."""
        return cls() if env is None else cls.model_validate(env)


#: Marks EXPE_INDEX_DIR="" between the field validator and the model validator.
_DISABLED = Path("\x00disabled")
