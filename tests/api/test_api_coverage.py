"""GET /coverage on the engine fixture profiles (10 profiles, T-DECH-OLD expired on AS_OF)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from engine_support import AS_OF, FIXTURES
from fastapi.testclient import TestClient

from api.main import create_app
from api.routers.coverage import get_demand
from api.settings import Settings
from matching.data.loading import load_requests
from matching.data.resources import data_path
from matching.data.taxonomy import REGIONS

DEMAND = pd.DataFrame(
    {"id": ["R1", "R2", "R3", "R4", "R5"], "text": ["x"] * 5, "country": ["SN", "SN", "ML", "ZA", ""]}
)


def make_client(tmp_path: Path, profiles: Path, demand: pd.DataFrame | None = DEMAND, **settings) -> TestClient:
    app = create_app(Settings(db_path=tmp_path / "expe.db", profiles_path=profiles, index_dir=None, **settings))
    if demand is not None:
        app.dependency_overrides[get_demand] = lambda: (demand, "test")
    return TestClient(app)


@pytest.fixture
def client(tmp_path):
    with make_client(tmp_path, FIXTURES / "engine_profiles.jsonl") as c:
        yield c


def test_coverage_figures(client):
    response = client.get("/coverage", params={"as_of": AS_OF.isoformat()})
    assert response.status_code == 200
    body = response.json()
    assert body["as_of"] == "2026-11-26" and body["profiles"] == 10 and body["demand_source"] == "test"
    assert body["regions"] == list(REGIONS)
    rows = {d["code"]: d for d in body["domains"]}
    assert rows["EAU"]["total"] == 2 and rows["EAU"]["label"] == "Eau potable et assainissement"
    eau = dict(zip(body["regions"], rows["EAU"]["counts"], strict=True))
    assert eau["Occitanie"] == 1 and eau["Bretagne"] == 1 and sum(eau.values()) == 2
    assert rows["DECH"]["total"] == 2  # the expired T-DECH-OLD is not counted
    labels = body["labels"]
    assert (labels["valid"], labels["expiring"], labels["expired"], labels["not_started"]) == (8, 1, 1, 0)
    calendar = {m["month"]: m for m in labels["calendar"]}
    assert len(calendar) == 12
    assert {m for m, v in calendar.items() if v["expiring"]} == {"2027-01", "2027-06", "2027-09"}
    assert calendar["2027-10"]["still_valid"] == 6
    countries = {c["code"]: c for c in body["countries"]}
    assert [c["code"] for c in body["countries"]][:3] == ["SN", "ZA", "ML"]
    assert countries["SN"] == {
        "code": "SN",
        "name": "Sénégal",
        "requests": 2,
        "profiles": 1,
        "profiles_any": 1,
        "little_experience": True,
    }
    assert countries["ZA"]["profiles"] == 0 and countries["ZA"]["little_experience"]
    assert countries["MA"]["requests"] == 0 and not countries["MA"]["little_experience"]


def test_coverage_parameters(client):
    body = client.get("/coverage", params={"as_of": AS_OF.isoformat(), "months": 3, "max_profiles": 0}).json()
    assert [m["month"] for m in body["labels"]["calendar"]] == ["2026-11", "2026-12", "2027-01"]
    assert [c["code"] for c in body["countries"] if c["little_experience"]] == ["ZA"]
    assert client.get("/coverage", params={"months": 0}).status_code == 422


def test_coverage_of_an_empty_store(tmp_path):
    with make_client(tmp_path, tmp_path / "missing.jsonl") as c:
        body = c.get("/coverage").json()
    assert body["profiles"] == 0
    assert all(d["total"] == 0 for d in body["domains"])
    assert all(m["expiring"] == 0 for m in body["labels"]["calendar"])
    assert {c["code"]: c["requests"] for c in body["countries"]} == {"SN": 2, "ML": 1, "ZA": 1}


def test_coverage_counts_the_bundled_backlog_as_demand(tmp_path):
    path = data_path("requests.jsonl")
    if not path.exists():
        pytest.skip("no bundled requests.jsonl")
    with make_client(tmp_path, FIXTURES / "engine_profiles.jsonl", demand=None) as c:
        body = c.get("/coverage").json()
    requests = load_requests(path)
    assert body["demand_source"] == "requests.jsonl"
    assert sum(c["requests"] for c in body["countries"]) == int((requests["country"] != "").sum())


def test_coverage_needs_the_read_key_when_set(tmp_path):
    with make_client(tmp_path, FIXTURES / "engine_profiles.jsonl", read_key="lecture") as c:
        assert c.get("/coverage").status_code == 401
        assert c.get("/coverage", headers={"X-API-Key": "lecture"}).status_code == 200
