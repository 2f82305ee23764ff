"""The bundled dev set's batch output is byte-identical to the golden files made before the restructuring.

The golden files were written by ``python -m matching batch --requests data/requests.jsonl
--out tests/fixtures/dev_batch_golden.csv --as-of 2026-11-26 --workers 1`` (and ``.jsonl``).
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest

from matching import MatchFilters, build_matcher_from_file
from matching.batch import run_batch

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture(scope="module")
def dev_matcher():
    return build_matcher_from_file(ROOT / "data" / "profiles.jsonl")


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_dev_batch_output_matches_golden(dev_matcher, fmt: str) -> None:
    out = io.StringIO()
    run_batch(
        dev_matcher,
        ROOT / "data" / "requests.jsonl",
        out,
        MatchFilters(as_of=date(2026, 11, 26)),
        workers=1,
        progress=False,
        fmt=fmt,
    )
    golden = (FIXTURES / f"dev_batch_golden.{fmt}").read_bytes()
    assert out.getvalue().encode("utf-8") == golden
