"""Shared fixtures: a temporary store seeded from tests/fixtures/profiles.jsonl, and API clients."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings

# Engine fixtures (a small illustrative profile file and a matcher built on it).
pytest_plugins = ["engine_support"]

FIXTURES = Path(__file__).resolve().parent / "fixtures"
WRITE_KEY = "test-write-key-123"
READ_KEY = "test-read-key-456"


@pytest.fixture
def profiles_file(tmp_path: Path) -> Path:
    """A private copy of the 12 illustrative fixture profiles."""
    target = tmp_path / "profiles.jsonl"
    shutil.copy(FIXTURES / "profiles.jsonl", target)
    return target


@pytest.fixture
def make_settings(tmp_path: Path, profiles_file: Path) -> Callable[..., Settings]:
    def make(**overrides) -> Settings:
        values = {"db_path": tmp_path / "var" / "expe.db", "profiles_path": profiles_file,
                  "index_dir": tmp_path / "var" / "index", "api_key": WRITE_KEY, **overrides}
        return Settings(**values)
    return make


@pytest.fixture
def make_client(make_settings) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def make(**overrides) -> TestClient:
        client = TestClient(create_app(make_settings(**overrides)), raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client) -> TestClient:
    """A client on a fresh store, writes allowed with WRITE_KEY, reads open."""
    return make_client()


@pytest.fixture
def auth() -> dict[str, str]:
    return {"X-API-Key": WRITE_KEY}


def wait_index(client: TestClient) -> None:
    assert client.app.state.live.wait_current(30), "index rebuild did not finish"
