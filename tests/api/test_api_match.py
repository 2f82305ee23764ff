"""POST /match and POST /match/batch, errors included."""

from __future__ import annotations

import csv
import io
import json

import pytest

from matching.batch import BATCH_COLUMNS

pytestmark = pytest.mark.reads_only  # every `client` test here only reads

DUMP = "Notre commune a un tas d'ordures à ciel ouvert près du marché, il faut le fermer."


def test_match_ranks_with_explanations(client):
    response = client.post("/match", json={"text": DUMP, "top_k": 3})
    assert response.status_code == 200
    body = response.json()
    assert body["language"] == "fr" and body["language_supported"] and body["notice"] is None
    assert body["language_name"] == "français"
    results = body["results"]
    assert [r["rank"] for r in results] == [1, 2, 3] == list(range(1, body["count"] + 1))
    assert results[0]["score"] >= results[1]["score"] >= results[2]["score"] > 0
    assert {r["expert_id"] for r in results[:2]} == {"T-DECH-01", "T-DECH-02"}
    first = results[0]
    assert set(first) >= {"rank", "expert_id", "score", "holder", "title", "domains", "label_end", "matched_terms"}
    terms = [t for r in results for t in r["matched_terms"]]
    assert all({"term", "via", "source", "contribution", "label"} <= set(t) for t in terms)
    expansions = [t for t in terms if t["via"] == "thesaurus"]
    assert expansions and all(" ← " in t["label"] for t in expansions)


def test_match_filters(client):
    base = {"text": "eau potable et assainissement", "top_k": 10}
    everything = {r["expert_id"] for r in client.post("/match", json=base).json()["results"]}
    assert {"T-EAU-01", "T-EAU-02"} <= everything
    only = client.post("/match", json={**base, "languages": ["ar"]}).json()["results"]
    assert only[0]["expert_id"] == "T-EAU-02"
    assert {r["expert_id"] for r in only} <= {"T-EAU-02", "T-CULT-01"}  # the two Arabic-speaking profiles
    assert client.post("/match", json={**base, "countries": ["BF"]}).json()["results"][0]["expert_id"] == "T-EAU-01"
    assert (
        client.post(
            "/match", json={**base, "regions": ["occitanie"], "holder_types": ["commune"], "domains": ["EAU"]}
        ).json()["results"][0]["expert_id"]
        == "T-EAU-02"
    )
    assert client.post("/match", json={**base, "domains": ["CULT"]}).json()["results"] == []


def test_expired_labels_only_on_request(client):
    text = {"text": "stratégie de tourisme durable et promotion du territoire"}
    assert "T-TOUR-01" not in [r["expert_id"] for r in client.post("/match", json=text).json()["results"]]
    body = client.post("/match", json={**text, "include_expired": True}).json()
    assert body["results"][0]["expert_id"] == "T-TOUR-01"
    assert body["results"][0]["label_status"] == "expired"
    back_then = client.post("/match", json={**text, "as_of": "2022-06-01"}).json()
    assert back_then["as_of"] == "2022-06-01"
    assert back_then["results"][0]["expert_id"] == "T-TOUR-01"


def test_english_request_is_translated(client):
    body = client.post("/match", json={"text": "We need support for drinking water supply in rural villages"}).json()
    assert body["language"] == "en" and body["language_supported"]
    assert body["results"][0]["expert_id"] == "T-EAU-01"
    assert any(t["via"] == "glossary" for t in body["results"][0]["matched_terms"])


def test_arabic_request_is_translated(client):
    response = client.post("/match", json={"text": "نحتاج إلى مساعدة في جمع النفايات المنزلية في بلديتنا"})
    assert response.status_code == 200
    body = response.json()
    assert body["language"] == "ar" and body["language_supported"] and body["notice"] is None
    top = body["results"][0]
    assert top["expert_id"] == "T-DECH-02"
    # the explanation carries the Arabic words and their French rendering
    assert any(t["via"] == "glossary" and "جمع النفايات" in t["source"] for t in top["matched_terms"])


def test_unsupported_language_gets_a_notice(client):
    response = client.post("/match", json={"text": "Нам нужна помощь в сборе бытовых отходов в нашем муниципалитете"})
    assert response.status_code == 200
    body = response.json()
    assert body["language"] == "ru" and not body["language_supported"]
    assert body["notice"] and "'ru'" in body["notice"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": ""}, "text"),
        ({"text": "   \n\t "}, "text"),
        ({"text": "x" * 20_001}, "text"),
        ({}, "text"),
        ({"text": "eau", "top_k": 0}, "top_k"),
        ({"text": "eau", "top_k": 101}, "top_k"),
        ({"text": "eau", "as_of": "2026-13-01"}, "as_of"),
        ({"text": "eau", "language": "xx"}, "language"),
        ({"text": 42}, "text"),
    ],
)
def test_match_validation_errors_name_the_field(client, body, field):
    response = client.post("/match", json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == field


def test_match_odd_text_never_fails(client):
    for text in ("\x00\x01 eau \x7f", "😀" * 100, "12345", "x" * 20_000, "-", "Водоснабжение села"):
        response = client.post("/match", json={"text": text})
        assert response.status_code == 200, text[:20]
    lone_surrogate = b'{"text": "\\ud800 assainissement"}'
    response = client.post("/match", content=lone_surrogate, headers={"Content-Type": "application/json"})
    assert response.status_code in (200, 422)


def test_match_invalid_json_is_422(client):
    response = client.post("/match", content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 422


def test_body_size_limit(make_client):
    client = make_client(max_upload_bytes=1000)
    response = client.post("/match", content=b"x" * (1024 * 1024 + 2000), headers={"Content-Type": "application/json"})
    assert response.status_code == 413


# ---------------------------------------------------------------------------- batch
REQUESTS_CSV = (
    "id;text;language\n"
    'R1;"Fermer la décharge à ciel ouvert de la commune";fr\n'
    "R2;We need drinking water in rural villages;en\n"
).encode()
REQUESTS_JSONL = "\n".join(
    json.dumps(r, ensure_ascii=False)
    for r in [
        {"id": "R1", "text": "Fermer la décharge à ciel ouvert de la commune"},
        {"id": "R2", "text": "Numérisation des registres d'état civil"},
    ]
).encode()


def _upload(client, data: bytes, name: str = "requests.csv", accept: str | None = None, **params):
    headers = {"Accept": accept} if accept else {}
    return client.post(
        "/match/batch", files={"file": (name, data, "application/octet-stream")}, headers=headers, params=params
    )


def test_batch_csv_in_csv_out(client):
    response = _upload(client, REQUESTS_CSV, accept="text/csv", top_k=2)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert tuple(rows[0]) == BATCH_COLUMNS
    assert [(r["request_id"], r["rank"]) for r in rows] == [("R1", "1"), ("R1", "2"), ("R2", "1"), ("R2", "2")]
    assert rows[0]["expert_id"] == "T-DECH-01"
    assert rows[2]["expert_id"] == "T-EAU-01" and rows[2]["language"] == "en"


def test_batch_jsonl_in_json_out(client):
    response = _upload(client, REQUESTS_JSONL, name="requests.jsonl", accept="application/json", top_k=1)
    assert response.status_code == 200
    body = response.json()
    assert body["requests"] == 2 and body["rows"] == 2
    assert [r["expert_id"] for r in body["results"]] == ["T-DECH-01", "T-GOUV-01"]
    assert isinstance(body["results"][0]["matched_terms"], list)


def test_batch_ndjson_and_default_csv(client):
    ndjson = _upload(client, REQUESTS_JSONL, accept="application/x-ndjson", top_k=1)
    assert ndjson.headers["content-type"].startswith("application/x-ndjson")
    assert [json.loads(line)["request_id"] for line in ndjson.text.splitlines()] == ["R1", "R2"]
    default = _upload(client, REQUESTS_JSONL)
    assert default.text.startswith(",".join(BATCH_COLUMNS))


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"", "empty file"),
        (b"id;objet\nR1;eau\n", "text"),
        (b"\x00\x01\x02binary\x00", "binary"),
        (b'{"id": "R1", "text": "eau"}\n{"id": "R1", "text": "eau"}\n', "duplicate"),
        (b'{"id": "R1", "text": ""}\n', "text"),
        (b'{"id": "R1", "text": "eau"}\n{broken\n', "invalid JSON"),
    ],
)
def test_batch_bad_files_are_422(client, data, needle):
    response = _upload(client, data)
    assert response.status_code == 422
    assert needle in json.dumps(response.json()["detail"], ensure_ascii=False)


def test_batch_too_large_is_413(make_client):
    client = make_client(max_upload_bytes=100)
    response = _upload(client, REQUESTS_JSONL)
    assert response.status_code == 413
    assert "limit" in response.json()["detail"]


def test_batch_needs_a_file(client):
    response = client.post("/match/batch")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "file"


def test_batch_windows_1252_csv(client):
    data = "id;text\nR1;Réhabilitation de la décharge à ciel ouvert\n".encode("cp1252")
    response = _upload(client, data, accept="application/json", top_k=1)
    assert response.status_code == 200
    assert response.json()["results"][0]["expert_id"] == "T-DECH-01"
