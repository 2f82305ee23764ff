"""Shared fixtures: a temporary store seeded from tests/fixtures/profiles.jsonl, and API clients.

The API fixtures build the index in memory (``index_dir=None``, i.e. ``EXPE_INDEX_DIR`` empty):
saving it costs several times the build. A test about the saved index is marked
``saves_index`` and gets ``tmp_path/var/index``. A test marked ``reads_only`` gets, as ``client``,
one client per module on its own store, shared with the module's other read-only tests; the
store's revision and counts are checked after each such test, so a test that writes cannot
hide there.
Clients made by these fixtures share built matchers: a store whose content was already
indexed in this session gets that matcher again, instead of a second build of the same
profiles (writes change the content, so the index they trigger is really rebuilt).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import settings

import matching.data.live
from api.main import create_app
from api.settings import Settings
from matching.retrieval.ranking import Matcher

# Engine fixtures (a small illustrative profile file and a matcher built on it).
pytest_plugins = ["engine_support"]

# Property tests check behaviour, not speed: hypothesis's default 200 ms deadline per example
# failed them on a busy machine when a first example paid a lazy load (a unidecode table, 356 ms).
settings.register_profile("no-deadline", deadline=None)
settings.load_profile("no-deadline")

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
def index_dir(request: pytest.FixtureRequest, tmp_path: Path) -> Path | None:
    """Where the API fixtures save the index: nowhere, unless the test is marked ``saves_index``."""
    return tmp_path / "var" / "index" if request.node.get_closest_marker("saves_index") else None


_build_matcher = matching.data.live.build_matcher
_BUILT: dict[str, Matcher] = {}


def _build_once(frame, **options) -> Matcher:
    """``build_matcher`` for the live index, memoised on the profiles' content (the last few)."""
    key = repr((frame.to_csv(index=False), sorted(options.items())))
    matcher = _BUILT.get(key)
    if matcher is None:
        matcher = _build_matcher(frame, **options)
        while len(_BUILT) >= 4:
            _BUILT.pop(next(iter(_BUILT)))
        _BUILT[key] = matcher
    return matcher


def _settings(directory: Path, profiles: Path, index: Path | None, **overrides) -> Settings:
    values = {
        "db_path": directory / "var" / "expe.db",
        "profiles_path": profiles,
        "index_dir": index,
        "api_key": WRITE_KEY,
        **overrides,
    }
    return Settings(**values)


@pytest.fixture
def make_settings(tmp_path: Path, profiles_file: Path, index_dir: Path | None) -> Callable[..., Settings]:
    def make(**overrides) -> Settings:
        return _settings(tmp_path, profiles_file, index_dir, **overrides)

    return make


@pytest.fixture
def make_client(make_settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., TestClient]]:
    monkeypatch.setattr(matching.data.live, "build_matcher", _build_once)
    clients: list[TestClient] = []

    def make(**overrides) -> TestClient:
        client = TestClient(create_app(make_settings(**overrides)), raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture(scope="module")
def shared_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One client per module, on its own seeded store, for the tests marked ``reads_only``."""
    directory = tmp_path_factory.mktemp("shared")
    profiles = directory / "profiles.jsonl"
    shutil.copy(FIXTURES / "profiles.jsonl", profiles)
    client = TestClient(create_app(_settings(directory, profiles, None)), raise_server_exceptions=False)
    with pytest.MonkeyPatch.context() as patch:  # only while the index is built: the tests do not write
        patch.setattr(matching.data.live, "build_matcher", _build_once)
        client.__enter__()
    yield client
    client.__exit__(None, None, None)


def _store_state(client: TestClient) -> tuple[int, dict[str, int]]:
    store = client.app.state.store
    return store.revision(), store.counts()


@pytest.fixture
def client(request: pytest.FixtureRequest, make_client) -> Iterator[TestClient]:
    """A client on a fresh store, writes allowed with WRITE_KEY, reads open.

    Marked ``reads_only``: the module's shared client instead, checked unchanged afterwards.
    """
    if request.node.get_closest_marker("reads_only") is None:
        yield make_client()
        return
    shared: TestClient = request.getfixturevalue("shared_client")
    before = _store_state(shared)
    yield shared
    shared.cookies.clear()
    assert _store_state(shared) == before, "a test marked reads_only changed the shared store"


@pytest.fixture
def auth() -> dict[str, str]:
    return {"X-API-Key": WRITE_KEY}


def wait_index(client: TestClient) -> None:
    assert client.app.state.live.wait_current(30), "index rebuild did not finish"
