"""schemathesis over the app's OpenAPI schema: no 5xx on any generated input, conforming responses.

Covers the read endpoints, POST /match and POST /match/batch (writes are issue 6's job, with a key).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from api.main import create_app
from api.settings import Settings

_TMP = Path(tempfile.mkdtemp(prefix="expe-schema-"))
atexit.register(shutil.rmtree, _TMP, ignore_errors=True)
shutil.copy(Path(__file__).resolve().parent / "fixtures" / "profiles.jsonl", _TMP / "profiles.jsonl")
app = create_app(Settings(db_path=_TMP / "expe.db", profiles_path=_TMP / "profiles.jsonl", index_dir=_TMP / "index",
                          api_key="schema-test-key", max_upload_bytes=256 * 1024))

schema = schemathesis.openapi.from_asgi("/openapi.json", app).exclude(method=["PUT", "DELETE"]).exclude(
    path="/experts", method="POST")


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_error(case):
    case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])
