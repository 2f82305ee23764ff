"""Fixtures for the engine tests: a small illustrative profile file written for them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
#: The date the fixtures' validity is computed against (T-DECH-OLD is expired by then).
AS_OF = date(2026, 11, 26)


@pytest.fixture(scope="session")
def engine_profiles_path() -> Path:
    return FIXTURES / "engine_profiles.jsonl"


@pytest.fixture(scope="session")
def engine_matcher(engine_profiles_path):
    from matching import build_matcher, load_profiles

    return build_matcher(load_profiles(engine_profiles_path))
