"""Where the product's bundled resources live (taxonomy, lexicons, sample data)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["data_dir", "data_path"]


def data_dir() -> Path:
    """The data folder: ``EXPE_DATA_DIR`` if set, else the repository's ``data/``."""
    configured = os.environ.get("EXPE_DATA_DIR")
    return Path(configured) if configured else Path(__file__).resolve().parents[2] / "data"


def data_path(name: str) -> Path:
    """Path of one bundled resource file."""
    return data_dir() / name
