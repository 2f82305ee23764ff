"""No one gets in where they don't belong: keys, logs, CORS, headers, body limits, no stack traces."""

from __future__ import annotations

import logging

import pytest
from conftest import READ_KEY, WRITE_KEY

import matching.data.loading
from api.routers import match as match_router
from api.routers import page as page_router

NEW = {
    "id": "SEC-1",
    "holder": "Ville de Test",
    "holder_type": "commune",
    "region": "Corse",
    "title": "Éclairage public",
    "description": "Remplacement de points lumineux.",
    "domains": ["CLIM"],
    "label_start": "2025-01-01",
}
WRITES = [
    ("POST", "/experts", NEW),
    ("PUT", "/experts/T-EAU-01", {k: v for k, v in NEW.items() if k != "id"}),
    ("DELETE", "/experts/T-EAU-01", None),
]
WRONG_KEYS = {
    "missing": None,
    "empty": "",
    "wrong": "not-the-key",
    "prefix": WRITE_KEY[:-1],
    "longer": WRITE_KEY + "0",
    "read key": READ_KEY,
    "non-ascii": "clé-é".encode(),
}


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
@pytest.mark.parametrize("key", sorted(WRONG_KEYS))
def test_writes_need_the_key_and_the_key_is_never_logged(make_client, caplog, method, path, body, key):
    client = make_client(read_key=READ_KEY)
    store = client.app.state.store
    before = (store.revision(), store.counts())
    value = WRONG_KEYS[key]
    headers = {} if value is None else {"X-API-Key": value}
    with caplog.at_level(logging.DEBUG):
        response = client.request(method, path, json=body, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "APIKey"
    assert (store.revision(), store.counts()) == before
    assert "refused" in caplog.text  # the attempt is logged...
    shown = value.decode("latin-1") if isinstance(value, bytes) else value
    for secret in {WRITE_KEY, READ_KEY, shown or WRITE_KEY}:
        assert secret not in caplog.text  # ...without any key, right or wrong
        assert secret not in response.text


def test_the_right_key_writes(client, auth):
    assert client.post("/experts", json=NEW, headers=auth).status_code == 201


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/experts", None),
        ("GET", "/experts/T-EAU-01", None),
        ("GET", "/experts/T-EAU-01/history", None),
        ("GET", "/domains", None),
        ("POST", "/match", {"text": "eau potable"}),
        ("GET", "/coverage", None),
    ],
)
def test_read_key_protects_every_read_when_set(make_client, caplog, method, path, body):
    client = make_client(read_key=READ_KEY)
    with caplog.at_level(logging.DEBUG):
        assert client.request(method, path, json=body).status_code == 401
        assert client.request(method, path, json=body, headers={"X-API-Key": "guess"}).status_code == 401
    assert "read refused" in caplog.text and READ_KEY not in caplog.text and "guess" not in caplog.text
    assert client.request(method, path, json=body, headers={"X-API-Key": READ_KEY}).status_code == 200
    assert make_client().request(method, path, json=body).status_code == 200  # open when no read key is set


def test_read_key_protects_batch_and_page(make_client):
    client = make_client(read_key=READ_KEY)
    files = {"file": ("r.csv", b"id,text\nR1,eau potable\n", "text/csv")}
    assert client.post("/match/batch", files=files).status_code == 401
    assert client.post("/match/batch", files=files, headers={"X-API-Key": READ_KEY}).status_code == 200
    for path in ("/", "/profils/T-EAU-01"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/connexion"
    assert client.post("/", data={"texte": "eau"}, follow_redirects=False).status_code == 303
    assert client.post("/export.csv", data={"texte": "eau"}, follow_redirects=False).status_code == 303


@pytest.mark.reads_only
def test_uploads_are_processed_in_memory_never_opened_by_name(client, monkeypatch):
    """The upload's file name (even a path) is never opened: the loader reads the bytes it is given."""
    opened: list[object] = []

    def no_open(*args, **kwargs):
        opened.append(args[0] if args else kwargs)
        raise AssertionError("a file was opened")

    monkeypatch.setattr(matching.data.loading, "open", no_open, raising=False)
    for name in ("/etc/passwd", "../../var/expe.db", "C:\\Windows\\win.ini", str(client.app.state.store.path)):
        response = client.post(
            "/match/batch",
            files={"file": (name, b"id,text\nR1,eau potable\n", "text/csv")},
            headers={"Accept": "application/json"},
            params={"top_k": 1},
        )
        assert response.status_code == 200
        assert response.json()["results"][0]["request_id"] == "R1"
    assert opened == []


@pytest.mark.reads_only
def test_no_cors_unless_configured(client, make_client):
    origin = {"Origin": "https://evil.example"}
    preflight = client.options(
        "/experts",
        headers={**origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "X-API-Key"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    for response in (
        client.get("/experts", headers=origin),
        client.post("/match", json={"text": "eau"}, headers=origin),
    ):
        assert not any(h.startswith("access-control-") for h in response.headers)
    configured = make_client(cors_origins=("https://staff.example",))
    assert "access-control-allow-origin" not in configured.get("/experts", headers=origin).headers
    allowed = configured.options(
        "/experts", headers={"Origin": "https://staff.example", "Access-Control-Request-Method": "POST"}
    )
    assert allowed.headers["access-control-allow-origin"] == "https://staff.example"


@pytest.mark.reads_only
@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("GET", "/", None),
        ("POST", "/", {"texte": "eau potable"}),
        ("POST", "/", {"texte": ""}),
        ("GET", "/profils/T-EAU-01", None),
        ("GET", "/profils/NOPE", None),
        ("GET", "/connexion", None),
        ("GET", "/static/style.css", None),
        ("GET", "/experts", None),
        ("GET", "/nope", None),
    ],
)
def test_security_headers_everywhere(client, method, path, data):
    response = client.request(method, path, data=data)
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    csp = headers["content-security-policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    ):
        assert directive in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]


def test_page_cookie_is_httponly_strict_and_not_the_key(make_client):
    client = make_client(read_key=READ_KEY)
    cookie = client.post("/connexion", data={"cle": READ_KEY}, follow_redirects=False).headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and READ_KEY not in cookie


@pytest.mark.parametrize("chunked", [False, True])
def test_request_body_limit_is_413(make_client, chunked):
    client = make_client(max_upload_bytes=1000)
    limit = 1000 + 1024 * 1024
    payload = b'{"text": "' + b"x" * (limit + 10) + b'"}'
    content = (payload[i : i + 65536] for i in range(0, len(payload), 65536)) if chunked else payload
    response = client.post("/match", content=content, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["detail"].startswith("Request body too large")
    small = client.post("/match", json={"text": "eau potable"})
    assert small.status_code == 200


def _boom(*args, **kwargs):
    raise RuntimeError("secret internals at /srv/app/matching/ranking.py line 42")


@pytest.mark.reads_only
@pytest.mark.parametrize(
    ("target", "method", "path", "kwargs"),
    [
        ((match_router, "run_search"), "POST", "/match", {"json": {"text": "eau potable"}}),
        (
            (match_router, "run_batch"),
            "POST",
            "/match/batch",
            {"files": {"file": ("r.csv", b"id,text\nR1,eau\n", "text/csv")}},
        ),
        ((page_router, "run_search"), "POST", "/", {"data": {"texte": "eau potable"}}),
    ],
)
def test_internal_errors_are_a_generic_500_without_stack_trace(
    client, monkeypatch, caplog, target, method, path, kwargs
):
    monkeypatch.setattr(*target, _boom)
    with caplog.at_level(logging.ERROR, logger="api.errors"):
        response = client.request(method, path, **kwargs)
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal error; it has been logged."}
    for leak in ("Traceback", "secret internals", "ranking.py", "RuntimeError", 'File "'):
        assert leak not in response.text
    assert "unexpected error on" in caplog.text and "secret internals" in caplog.text  # kept for the operator
    assert response.headers["x-content-type-options"] == "nosniff"
