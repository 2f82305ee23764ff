"""The malformed-input corpus (tests/malformed/): every file gets a clear refusal, nothing is stored.

Each refused request file goes through the loader (by path and as bytes) and POST /match/batch;
each refused profile file through the loader, the store's seeding and, record by record,
POST /experts. Files Excel writes in France (Latin-1, Windows-1252, BOM and ``;``, UTF-16
"Unicode text") must be decoded correctly instead.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import wait_index

from matching.data.loading import DataError, iter_request_blocks, load_profiles, load_requests
from matching.data.store import ProfileStore

CORPUS = Path(__file__).resolve().parents[1] / "malformed"

# file -> (field the error names, or None for a file-level problem; fragment of the message)
BAD_REQUESTS: dict[str, tuple[str | None, str]] = {
    "requests-missing-text-column.csv": ("text", "missing column(s) text"),
    "requests-wrong-columns.csv": ("id", "missing column(s) id, text"),
    "requests-header-only.csv": (None, "no records"),
    "requests-wrong-value-count.csv": (None, "3 values for 2 columns"),
    "requests-empty.csv": (None, "empty file"),
    "requests-whitespace-only.csv": (None, "empty file"),
    "requests-png-renamed.csv": (None, "PNG image"),
    "requests-xlsx-renamed.csv": (None, "Excel .xlsx workbook"),
    "requests-pdf-renamed.csv": (None, "PDF document"),
    "requests-control-bytes.csv": (None, "control bytes"),
    "requests-invalid-utf8-and-cp1252.csv": (None, "not valid UTF-8"),
    "requests-invalid-json.jsonl": (None, "invalid JSON"),
    "requests-json-array.json": (None, "JSON array"),
    "requests-not-an-object.jsonl": (None, "expected a JSON object"),
    "requests-deep-nesting.jsonl": (None, "nested too deeply"),
    "requests-nan-id.jsonl": (None, "NaN is not valid JSON"),
    "requests-huge-integer-id.jsonl": (None, "invalid JSON"),
    "requests-missing-text-field.jsonl": ("text", "missing field"),
    "requests-text-not-a-string.jsonl": ("text", "expected text, got dict"),
    "requests-duplicate-ids.jsonl": ("id", "duplicate id 'R1'"),
    "requests-bad-language.jsonl": ("language", "'xx' is not an ISO 639-1"),
    "requests-bad-country.csv": ("country", "'Atlantide' is not an ISO 3166-1"),
    "requests-impossible-date.jsonl": ("received", "'2025-02-30' is not a valid date"),
    "requests-over-long-id.jsonl": ("id", "longer than 200 characters"),
    "requests-lone-surrogate-id.jsonl": ("id", "unpaired surrogate"),
}
BAD_PROFILES: dict[str, tuple[str | None, str]] = {
    "profiles-missing-columns.csv": ("domains", "missing column(s) domains, label_start"),
    "profiles-unknown-domain.jsonl": ("domains", "unknown domain code(s) PLOMB"),
    "profiles-too-many-domains.jsonl": ("domains", "1 to 3 domain codes"),
    "profiles-impossible-date.jsonl": ("label_start", "'2025-02-30' is not a valid date"),
    "profiles-end-before-start.jsonl": ("label_end", "before label_start"),
    "profiles-bad-language.jsonl": ("languages", "zz not ISO 639-1"),
    "profiles-bad-country.csv": ("countries", "ZZ not ISO 3166-1"),
    "profiles-bad-holder-type.jsonl": ("holder_type", "'mairie' is not one of"),
    "profiles-duplicate-ids.jsonl": ("id", "duplicate id 'P-1'"),
    "profiles-over-long-id.jsonl": ("id", "longer than 200 characters"),
    "profiles-json-array.json": (None, "JSON array"),
    "profiles-xlsx-renamed.csv": (None, "Excel .xlsx workbook"),
    "profiles-empty.jsonl": (None, "empty file"),
}
GOOD_REQUESTS = {  # Excel's encodings and separators, decoded to the right text
    "requests-latin1.csv": "Réhabilitation de la décharge à ciel ouvert de Thiès",
    "requests-cp1252-excel.csv": "Fermer la décharge à ciel ouvert – l’œuvre de la commune",
    "requests-bom-semicolon.csv": "Fermer la décharge; trier les déchets",
    "requests-utf16-excel-unicode.txt": "Réhabilitation de la décharge à ciel ouvert",
}


def test_every_corpus_file_is_covered():
    listed = set(BAD_REQUESTS) | set(BAD_PROFILES) | set(GOOD_REQUESTS) | {"profiles-cp1252-semicolon.csv"}
    on_disk = {p.name for p in CORPUS.iterdir() if p.name != "README.md"}
    assert on_disk == listed


def _check(problems, field: str | None, fragment: str) -> None:
    assert any(fragment in p.message for p in problems), [str(p) for p in problems]
    named = [p.field for p in problems if fragment in p.message]
    assert named[0] == field


def _upload(client, data: bytes, name: str):
    return client.post(
        "/match/batch", files={"file": (name, data, "application/octet-stream")}, headers={"Accept": "application/json"}
    )


def _state(client) -> tuple[int, dict[str, int]]:
    store = client.app.state.store
    return store.revision(), store.counts()


# ---------------------------------------------------------------------------- requests
@pytest.mark.parametrize(("name", "expected"), sorted(BAD_REQUESTS.items()))
def test_bad_request_file_is_refused_by_the_loader(name, expected):
    path = CORPUS / name
    for load in (
        lambda: load_requests(path),
        lambda: load_requests(path.read_bytes()),
        lambda: list(iter_request_blocks(path.read_bytes(), block_size=1)),
    ):
        with pytest.raises(DataError) as info:
            load()
        _check(info.value.problems, *expected)


@pytest.mark.reads_only
@pytest.mark.parametrize(("name", "expected"), sorted(BAD_REQUESTS.items()))
def test_bad_request_file_is_422_from_the_batch_api(client, name, expected):
    before = _state(client)
    response = _upload(client, (CORPUS / name).read_bytes(), name)
    assert response.status_code == 422, response.text[:300]
    detail = response.json()["detail"]
    hits = [item for item in detail if expected[1] in item["msg"]]
    assert hits, detail
    assert hits[0]["loc"][0] == "file"
    if expected[0] is not None:
        assert hits[0]["loc"][-1] == expected[0]
    assert _state(client) == before


@pytest.mark.reads_only
@pytest.mark.parametrize(("name", "text"), sorted(GOOD_REQUESTS.items()))
def test_excel_files_are_decoded_correctly(client, name, text):
    data = (CORPUS / name).read_bytes()
    assert load_requests(CORPUS / name).loc[0, "text"] == text
    assert load_requests(data).loc[0, "text"] == text
    response = _upload(client, data, name)
    assert response.status_code == 200, response.text[:300]
    assert response.json()["results"][0]["expert_id"] in {"T-DECH-01", "T-DECH-02"}


def test_cp1252_profiles_are_decoded_correctly(tmp_path):
    frame = load_profiles(CORPUS / "profiles-cp1252-semicolon.csv")
    assert frame.loc[0, "holder"] == "Ville de Saint-Étienne"
    assert frame.loc[0, "description"] == "Rénovation du cœur de ville – l’opération « Action cœur de ville »"
    assert frame.loc[0, "region"] == "Auvergne-Rhône-Alpes"
    store = ProfileStore(tmp_path / "expe.db")
    assert store.seed(CORPUS / "profiles-cp1252-semicolon.csv") == 1
    assert store.get("P-1")["title"] == "Cœur de ville"


# ---------------------------------------------------------------------------- profiles
@pytest.mark.parametrize(("name", "expected"), sorted(BAD_PROFILES.items()))
def test_bad_profile_file_is_refused_and_seeds_nothing(tmp_path, name, expected):
    path = CORPUS / name
    for load in (lambda: load_profiles(path), lambda: load_profiles(path.read_bytes())):
        with pytest.raises(DataError) as info:
            load()
        _check(info.value.problems, *expected)
    store = ProfileStore(tmp_path / "expe.db")
    with pytest.raises(DataError):
        store.seed(path)
    assert store.is_empty() and store.revision() == 0
    assert store.counts() == {"active": 0, "withdrawn": 0}


RECORD_PROBLEMS = sorted(
    name
    for name in BAD_PROFILES
    if name.endswith(".jsonl") and name not in {"profiles-empty.jsonl", "profiles-duplicate-ids.jsonl"}
)


@pytest.mark.parametrize("name", RECORD_PROBLEMS)
def test_bad_profile_record_is_422_from_the_api_and_stores_nothing(client, auth, name):
    field = BAD_PROFILES[name][0]
    record = json.loads((CORPUS / name).read_text(encoding="utf-8").splitlines()[0])
    before = _state(client)
    response = client.post("/experts", json=record, headers=auth)
    assert response.status_code == 422, response.text[:300]
    assert field in [item["loc"][-1] for item in response.json()["detail"]]
    if field != "id":  # the same content refused as an update of an existing profile
        update = client.put("/experts/T-EAU-01", json={k: v for k, v in record.items() if k != "id"}, headers=auth)
        assert update.status_code == 422 and field in [item["loc"][-1] for item in update.json()["detail"]]
    assert _state(client) == before
    assert client.get("/experts/P-1").status_code == 404


def test_duplicate_profile_is_409_and_stores_once(client, auth):
    first, second = (
        json.loads(line) for line in (CORPUS / "profiles-duplicate-ids.jsonl").read_text(encoding="utf-8").splitlines()
    )
    revision, counts = _state(client)
    assert client.post("/experts", json=first, headers=auth).status_code == 201
    response = client.post("/experts", json=second, headers=auth)
    assert response.status_code == 409 and response.json()["detail"][0]["loc"][-1] == "id"
    assert _state(client) == (revision + 1, {**counts, "active": counts["active"] + 1})
    assert client.get("/experts/P-1").json()["title"] == first["title"]
    wait_index(client)


# ---------------------------------------------------------------------------- oversized (generated)
@pytest.mark.reads_only
def test_over_long_request_text_is_refused(client):
    data = (json.dumps({"id": "R1", "text": "eau potable " * 8400}) + "\n").encode()  # 100,800 characters
    with pytest.raises(DataError) as info:
        load_requests(data)
    _check(info.value.problems, "text", "longer than the limit of 100,000")
    response = _upload(client, data, "long.jsonl")
    assert response.status_code == 422 and response.json()["detail"][0]["loc"][-1] == "text"


def test_over_long_profile_fields_are_refused(tmp_path):
    record = json.loads((CORPUS / "profiles-unknown-domain.jsonl").read_text(encoding="utf-8"))
    record.update(domains=["EAU"], description="réseau " * 1500, holder="H" * 301)
    with pytest.raises(DataError) as info:
        load_profiles((json.dumps(record) + "\n").encode())
    assert {p.field for p in info.value.problems} == {"description", "holder"}
    store = ProfileStore(tmp_path / "expe.db")
    with pytest.raises(DataError):
        store.create(record)
    assert store.revision() == 0


@pytest.mark.reads_only
def test_over_long_csv_field_is_refused(client):
    data = b"id,text\nR1," + b"a" * 200_000 + b"\n"
    with pytest.raises(DataError, match="malformed CSV"):
        load_requests(data)
    assert _upload(client, data, "big.csv").status_code == 422


def test_oversized_upload_is_413_and_nothing_happens(make_client):
    client = make_client(max_upload_bytes=1024 * 1024)
    before = _state(client)
    data = b"id,text\n" + b"".join(b"R%d,eau potable et assainissement\n" % i for i in range(60_000))
    assert len(data) > 2 * 1024 * 1024
    response = _upload(client, data, "big.csv")
    assert response.status_code == 413
    assert "too large" in response.json()["detail"]
    assert _state(client) == before
