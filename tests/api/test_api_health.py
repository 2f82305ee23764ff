"""GET /health and GET /domains."""

from __future__ import annotations

import pytest

from matching.data.taxonomy import domain_codes


@pytest.mark.reads_only
def test_health_reports_counts_and_build_time(client):
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["profiles"] == 12
    assert body["valid_labels"] == 11  # one fixture label (tourism, 2021) has expired
    assert body["withdrawn"] == 0
    assert body["index_built_at"]
    assert body["index_revision"] == body["store_revision"] == 1
    assert body["last_rebuild_error"] is None


@pytest.mark.reads_only
def test_domains_lists_the_taxonomy(client):
    response = client.get("/domains")
    assert response.status_code == 200
    codes = [d["code"] for d in response.json()]
    assert codes == list(domain_codes())
    assert all(d["label"] and d["description"] for d in response.json())


@pytest.mark.reads_only
def test_security_headers_and_no_cors_by_default(client):
    response = client.get("/health", headers={"Origin": "https://evil.example"})
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "access-control-allow-origin" not in response.headers


def test_cors_only_when_configured(make_client):
    client = make_client(cors_origins=("https://staff.example",))
    response = client.get("/health", headers={"Origin": "https://staff.example"})
    assert response.headers["access-control-allow-origin"] == "https://staff.example"


@pytest.mark.reads_only
def test_unknown_route_is_404_json(client):
    response = client.get("/nope")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


@pytest.mark.saves_index
def test_restart_loads_the_saved_index(make_client, caplog):
    first = make_client()
    built_at = first.get("/health").json()["index_built_at"]
    first.__exit__(None, None, None)
    with caplog.at_level("INFO", logger="matching.data.live"):
        second = make_client()
    assert "index loaded from" in caplog.text
    assert second.get("/health").json()["index_built_at"] == built_at


@pytest.mark.saves_index
def test_corrupt_saved_index_is_rebuilt_with_a_log_line(make_client, make_settings, caplog):
    make_client()
    index_file = make_settings().index_dir / "index.pickle"
    index_file.write_bytes(b"not a pickle")
    with caplog.at_level("WARNING", logger="matching.data.live"):
        client = make_client()
    assert "rebuilding index" in caplog.text and "corrupt" in caplog.text
    assert client.get("/health").json()["profiles"] == 12
