"""schemathesis over the whole OpenAPI schema, writes included (with the key, on a temporary store).

Every generated request must get a non-5xx answer that conforms to the documented schema.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import pytest
import schemathesis
from conftest import WRITE_KEY
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from api.main import create_app
from api.settings import Settings

pytestmark = pytest.mark.slow  # thousands of generated calls

_TMP = Path(tempfile.mkdtemp(prefix="expe-schema-"))
atexit.register(shutil.rmtree, _TMP, ignore_errors=True)
shutil.copy(Path(__file__).resolve().parents[1] / "fixtures" / "profiles.jsonl", _TMP / "profiles.jsonl")
app = create_app(
    Settings(
        db_path=_TMP / "expe.db",
        profiles_path=_TMP / "profiles.jsonl",
        index_dir=None,
        api_key=WRITE_KEY,
        max_upload_bytes=256 * 1024,
    )
)

schema = schemathesis.openapi.from_asgi("/openapi.json", app)
CALLS: list[tuple[str, str, int]] = []


@schema.parametrize()
@settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_error(case):
    response = case.call_and_validate(
        headers={"X-API-Key": WRITE_KEY}, checks=[not_a_server_error, response_schema_conformance]
    )
    CALLS.append((case.method, case.path, response.status_code))


def test_writes_were_exercised():
    """The run above did write (creates, updates, withdrawals), through the key."""
    if not CALLS:  # run on its own (-k): nothing to check
        return
    statuses = {(method, path): set() for method, path, _ in CALLS}
    for method, path, code in CALLS:
        statuses[(method, path)].add(code)
    assert 201 in statuses[("POST", "/experts")]
    assert statuses[("PUT", "/experts/{expert_id}")] & {200, 404}
    assert statuses[("DELETE", "/experts/{expert_id}")] & {200, 404, 409}
    writes = {("POST", "/experts"), ("PUT", "/experts/{expert_id}"), ("DELETE", "/experts/{expert_id}")}
    assert {(method, path) for method, path, code in CALLS if code == 401} <= writes  # negative auth cases only
    print(
        f"\nschemathesis: {len(CALLS)} calls over {len(statuses)} operations, status codes "
        f"{sorted({code for _, _, code in CALLS})}"
    )
