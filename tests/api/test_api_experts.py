"""GET/POST/PUT/DELETE /experts: listing, filters, pagination, errors, API key, history, live index."""

from __future__ import annotations

import logging
from datetime import date, timedelta

import pytest
from conftest import READ_KEY, WRITE_KEY, wait_index

NEW = {
    "id": "T-NEW-01",
    "holder": "Ville de Castelnau-les-Ormes",
    "holder_type": "commune",
    "region": "bretagne",
    "title": "Gestion des eaux pluviales urbaines et noues d'infiltration",
    "description": "Conception de noues d'infiltration, bassins de rétention et toitures végétalisées pour "
    "gérer les eaux pluviales à la parcelle ; règlement de zonage pluvial.",
    "domains": ["EAU", "URB"],
    "languages": ["fr", "es"],
    "countries": ["PE"],
    "label_start": "2025-06-01",
}


@pytest.mark.reads_only
def test_list_is_paginated_and_ordered(client):
    first = client.get("/experts", params={"limit": 5}).json()
    assert first["total"] == 12 and first["offset"] == 0 and len(first["items"]) == 5
    second = client.get("/experts", params={"limit": 5, "offset": 5}).json()
    ids = [e["id"] for e in first["items"] + second["items"]]
    assert ids == sorted(ids) and len(set(ids)) == 10
    last = client.get("/experts", params={"limit": 5, "offset": 10}).json()
    assert len(last["items"]) == 2


@pytest.mark.reads_only
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"domain": "DECH"}, {"T-DECH-01", "T-DECH-02", "T-DECH-03"}),
        ({"domain": ["CULT", "TOUR"]}, {"T-CULT-01", "T-TOUR-01"}),
        ({"language": "ar"}, {"T-EAU-02", "T-CULT-01"}),
        ({"country": "sn", "domain": "GOUV"}, {"T-GOUV-01"}),
        ({"region": "Pays de la Loire"}, {"T-RISQ-01"}),
        ({"holder_type": "association"}, {"T-DECH-03"}),
        ({"valid_on": "2023-01-01"}, {"T-TOUR-01"}),
    ],
)
def test_list_filters(client, params, expected):
    body = client.get("/experts", params=params).json()
    assert {e["id"] for e in body["items"]} == expected
    assert body["total"] == len(expected)


@pytest.mark.reads_only
def test_list_rejects_bad_parameters_naming_them(client):
    cases = (({"limit": 0}, "limit"), ({"offset": -1}, "offset"), ({"valid_on": "2024-02-30"}, "valid_on"))
    for params, field in cases:
        response = client.get("/experts", params=params)
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"][-1] == field


@pytest.mark.reads_only
def test_get_one_and_404(client):
    body = client.get("/experts/T-EAU-01").json()
    assert body["holder"] == "Syndicat des eaux du Val de Sorne"
    assert body["label_end"] == "2035-02-01" and body["label_status"] == "valid"
    assert client.get("/experts/T-TOUR-01").json()["label_status"] == "expired"
    response = client.get("/experts/NOPE-1")
    assert response.status_code == 404
    assert response.json()["detail"] == "Expert profile 'NOPE-1' does not exist."


def test_create_requires_key(client, make_client, caplog):
    with caplog.at_level(logging.WARNING, logger="api.access"):
        assert client.post("/experts", json=NEW).status_code == 401
        wrong = client.post("/experts", json=NEW, headers={"X-API-Key": "guess-" + WRITE_KEY})
    assert wrong.status_code == 401
    assert "Missing or wrong API key" in wrong.json()["detail"]
    assert "write refused (wrong API key)" in caplog.text
    assert WRITE_KEY not in caplog.text  # the key is never logged
    no_key_server = make_client(api_key=None)
    refused = no_key_server.post("/experts", json=NEW, headers={"X-API-Key": "anything"})
    assert refused.status_code == 503
    assert "EXPE_API_KEY" in refused.json()["detail"]
    assert no_key_server.delete("/experts/T-EAU-01").status_code == 503
    assert client.get("/experts/T-NEW-01").status_code == 404


def test_create_then_match_finds_it(client, auth):
    response = client.post("/experts", json=NEW, headers=auth)
    assert response.status_code == 201
    body = response.json()
    assert body["region"] == "Bretagne"  # canonical spelling
    assert body["label_end"] == "2028-06-01"  # start + 3 years
    wait_index(client)
    assert client.get("/health").json()["profiles"] == 13
    found = client.post("/match", json={"text": "gestion des eaux pluviales en ville, noues"}).json()
    assert found["results"][0]["expert_id"] == "T-NEW-01"


def test_create_duplicate_is_409_naming_id(client, auth):
    response = client.post("/experts", json={**NEW, "id": "T-EAU-01"}, headers=auth)
    assert response.status_code == 409
    assert response.json()["detail"][0]["loc"][-1] == "id"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"domains": ["XYZ"]}, "domains"),
        ({"domains": []}, "domains"),
        ({"holder_type": "ministere"}, "holder_type"),
        ({"languages": ["zz"]}, "languages"),
        ({"countries": ["QQ"]}, "countries"),
        ({"label_start": "2025-02-30"}, "label_start"),
        ({"label_end": "2020-01-01"}, "label_end"),
        ({"title": ""}, "title"),
        ({"description": "   "}, "description"),
    ],
)
def test_create_validation_errors_name_the_field(client, auth, change, field):
    response = client.post("/experts", json={**NEW, **change}, headers=auth)
    assert response.status_code == 422
    assert field in [item["loc"][-1] for item in response.json()["detail"]]
    assert client.get("/experts/T-NEW-01").status_code == 404


def test_missing_field_is_422(client, auth):
    body = {k: v for k, v in NEW.items() if k != "holder"}
    response = client.post("/experts", json=body, headers=auth)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "holder"]


def test_update_replaces_content(client, auth):
    body = {k: v for k, v in NEW.items() if k != "id"}
    response = client.put("/experts/T-EAU-02", json=body, headers=auth)
    assert response.status_code == 200
    assert response.json()["id"] == "T-EAU-02" and response.json()["title"] == NEW["title"]
    assert client.get("/experts/T-EAU-02").json()["title"] == NEW["title"]
    assert client.put("/experts/NOPE", json=body, headers=auth).status_code == 404
    assert client.put("/experts/T-EAU-02", json=body).status_code == 401
    bad = client.put("/experts/T-EAU-02", json={**body, "domains": ["NOPE"]}, headers=auth)
    assert bad.status_code == 422


def test_withdraw_keeps_history_and_leaves_matching(client, auth):
    query = {"text": "réhabilitation de la décharge à ciel ouvert"}
    assert client.post("/match", json=query).json()["results"][0]["expert_id"] == "T-DECH-01"
    response = client.delete("/experts/T-DECH-01", params={"reason": "fin de l'engagement"}, headers=auth)
    assert response.status_code == 200
    assert response.json()["withdrawn_at"]
    wait_index(client)
    gone = client.get("/experts/T-DECH-01")
    assert gone.status_code == 404 and "withdrawn" in gone.json()["detail"]
    assert "T-DECH-01" not in [r["expert_id"] for r in client.post("/match", json=query).json()["results"]]
    history = client.get("/experts/T-DECH-01/history").json()
    assert [h["action"] for h in history] == ["seed", "withdraw"]
    assert history[-1]["note"] == "fin de l'engagement"
    assert client.get("/health").json()["withdrawn"] == 1
    again = client.delete("/experts/T-DECH-01", headers=auth)
    assert again.status_code == 409
    assert client.delete("/experts/NOPE", headers=auth).status_code == 404
    assert client.post("/experts", json={**NEW, "id": "T-DECH-01"}, headers=auth).status_code == 409


@pytest.mark.reads_only
def test_history_404(client):
    assert client.get("/experts/NOPE/history").status_code == 404


def test_expiring_label_is_flagged(client, auth):
    soon = (date.today() + timedelta(days=60)).isoformat()
    body = {**NEW, "label_start": "2024-01-01", "label_end": soon}
    assert client.post("/experts", json=body, headers=auth).json()["label_status"] == "expiring"


def test_read_key_protects_reads_when_set(make_client):
    client = make_client(read_key=READ_KEY)
    assert client.get("/experts").status_code == 401
    assert client.get("/experts", headers={"X-API-Key": "wrong"}).status_code == 401
    assert client.get("/experts", headers={"X-API-Key": READ_KEY}).status_code == 200
    assert client.get("/experts", headers={"X-API-Key": WRITE_KEY}).status_code == 200
    assert client.post("/match", json={"text": "eau potable"}).status_code == 401
    assert client.get("/domains").status_code == 401
    assert client.get("/health").status_code == 200  # monitoring stays open
    assert client.post("/experts", json=NEW, headers={"X-API-Key": READ_KEY}).status_code == 401
