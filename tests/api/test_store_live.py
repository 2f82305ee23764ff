"""The SQLite profile store and the live index (background rebuilds, atomic swaps, failures)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from conftest import wait_index

from matching import load_profiles
from matching.data.live import LiveIndex
from matching.data.loading import DataError
from matching.data.store import DuplicateProfile, ProfileNotFound, ProfileStore

NEW = {
    "id": "S-1",
    "holder": "Ville de Test",
    "holder_type": "commune",
    "region": "Corse",
    "title": "Éclairage public économe en énergie",
    "description": "Remplacement de 2 000 points lumineux.",
    "domains": ["CLIM"],
    "label_start": "2025-01-01",
}


@pytest.fixture
def store(tmp_path: Path, profiles_file: Path) -> ProfileStore:
    store = ProfileStore(tmp_path / "db" / "expe.db")
    store.seed(profiles_file)
    return store


def test_store_uses_wal_and_seeds_once(store, profiles_file):
    import sqlite3

    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.counts() == {"active": 12, "withdrawn": 0}
    assert store.seed(profiles_file) == 0  # not twice
    assert store.revision() == 1


def test_frame_has_the_loader_shape(store, profiles_file):
    expected = load_profiles(profiles_file)
    frame = store.snapshot().frame()
    assert list(frame.columns) == list(expected.columns)
    assert frame.shape == expected.shape
    assert frame.set_index("id").sort_index().equals(expected.set_index("id").sort_index())


def test_invalid_seed_stores_nothing(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "A"}\n', encoding="utf-8")
    store = ProfileStore(tmp_path / "expe.db")
    with pytest.raises(DataError):
        store.seed(bad)
    assert store.is_empty() and store.revision() == 0


def test_writes_bump_the_revision_and_keep_history(store):
    store.create(NEW)
    with pytest.raises(DuplicateProfile):
        store.create(NEW)
    store.update("S-1", {**NEW, "title": "Éclairage public LED"})
    withdrawn = store.withdraw("S-1", "test")
    assert withdrawn["withdrawn_at"]
    assert store.revision() == 4
    assert [h["action"] for h in store.history("S-1")] == ["create", "update", "withdraw"]
    with pytest.raises(ProfileNotFound) as info:
        store.get("S-1")
    assert info.value.withdrawn_at
    with pytest.raises(ProfileNotFound):
        store.update("S-1", NEW)
    with pytest.raises(DataError) as bad:
        store.create({**NEW, "id": "S-2", "domains": ["NOPE"]})
    assert bad.value.problems[0].field == "domains"
    assert store.revision() == 4  # a refused write changes nothing


def test_live_index_swaps_after_changes(store):
    live = LiveIndex(store)
    first = live.start()
    assert first.n_profiles == 12
    store.create(NEW)
    live.refresh()
    assert live.wait_current(30)
    assert live.current.n_profiles == 13 and live.current.revision == 2
    assert first.n_profiles == 12  # a reader holding the old snapshot still has a whole index


def test_failed_rebuild_keeps_the_previous_index(store, monkeypatch, caplog):
    live = LiveIndex(store)
    before = live.start()

    def broken(frame):
        raise MemoryError("simulated")

    monkeypatch.setattr("matching.data.live.build_matcher", broken)
    store.create(NEW)
    with caplog.at_level("ERROR", logger="matching.data.live"):
        live.refresh()
        assert not live.wait_current(5)
    assert live.current is before
    assert "MemoryError" in (live.last_error or "")
    assert "index rebuild failed" in caplog.text
    monkeypatch.undo()
    live.refresh()
    assert live.wait_current(30) and live.last_error is None and live.current.n_profiles == 13


def test_health_degraded_after_failed_rebuild(client, auth, monkeypatch):
    monkeypatch.setattr("matching.data.live.build_matcher", lambda frame: 1 / 0)
    body = {**NEW, "id": "S-9"}
    assert client.post("/experts", json=body, headers=auth).status_code == 201
    client.app.state.live.wait_current(5)
    health = client.get("/health").json()
    assert health["status"] == "degraded" and "ZeroDivisionError" in health["last_rebuild_error"]
    assert health["profiles"] == 12 and health["store_revision"] == 2 and health["index_revision"] == 1
    assert client.post("/match", json={"text": "eau potable"}).status_code == 200


def test_readers_never_see_a_half_built_index(store):
    live = LiveIndex(store)
    live.start()
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                snapshot = live.current
                matcher = snapshot.matcher
                assert matcher is not None
                assert (
                    len(matcher.index.metadata_.profiles_)
                    == matcher.index.n_profiles
                    == len(matcher.index.metadata_.ids_)
                )
                result = matcher.search("éclairage public et eau potable", top_k=5)
                for m in result.matches:
                    assert matcher.index.metadata_.profiles_.iloc[m.row]["id"] == m.expert_id
            except BaseException as exc:  # noqa: BLE001 - collected and reported below
                errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    for i in range(8):
        store.create({**NEW, "id": f"S-{i}"})
        live.refresh()
    assert live.wait_current(60)
    stop.set()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    assert live.current.n_profiles == 20


def test_empty_store_serves_no_results(client, auth):
    for expert in client.get("/experts", params={"limit": 200}).json()["items"]:
        assert client.delete(f"/experts/{expert['id']}", headers=auth).status_code == 200
    wait_index(client)
    assert client.get("/health").json()["profiles"] == 0
    body = client.post("/match", json={"text": "eau potable"}).json()
    assert body["results"] == [] and body["count"] == 0
    assert "Aucun profil" in client.post("/", data={"texte": "eau potable"}).text
