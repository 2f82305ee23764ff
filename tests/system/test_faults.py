"""Faults lose nothing: a writer killed with SIGKILL, parallel clients during rebuilds, a bad saved index."""

from __future__ import annotations

import json
import os
import pickle
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from conftest import wait_index

from matching.data.live import LiveIndex
from matching.data.persistence import file_checksum
from matching.data.store import ProfileStore

pytestmark = pytest.mark.slow  # subprocesses killed, threads racing rebuilds, saved indexes

ROOT = Path(__file__).resolve().parents[2]
BASE = {
    "holder": "Ville de Test",
    "holder_type": "commune",
    "region": "Corse",
    "title": "Éclairage public",
    "description": "Remplacement de 2 000 points lumineux par des LED.",
    "domains": ["CLIM"],
    "label_start": "2025-01-01",
}

# Creates profiles without end; every fourth write also updates an earlier profile. Each write is
# acknowledged on stdout only once store.create/update has returned, i.e. once it is committed.
WRITER = """
import json, sys
from matching.data.store import ProfileStore
store = ProfileStore(sys.argv[1])
base = json.loads(sys.argv[2])
print("ready", flush=True)
n = 0
while True:
    pid = f"K-{n:05d}"
    store.create({**base, "id": pid, "title": f"Profil {n}"})
    print(f"create {pid}", flush=True)
    if n % 4 == 3:
        target = f"K-{n - 3:05d}"
        store.update(target, {**base, "title": f"Profil {n - 3} v{n}"})
        print(f"update {target} Profil {n - 3} v{n}", flush=True)
    n += 1
"""

SEEDER = """
import sys
from matching.data.store import ProfileStore
store = ProfileStore(sys.argv[1])
print("ready", flush=True)
print("seeded", store.seed(sys.argv[2]), flush=True)
"""


def _spawn(script: str, *args: str) -> tuple[subprocess.Popen, list[str], threading.Event]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.endswith("\n"):  # a line cut by the kill is not an acknowledgement
                lines.append(line.rstrip("\n"))
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    return proc, lines, ready


def _kill(proc: subprocess.Popen, may_have_ended: bool = False) -> None:
    """SIGKILL ``proc``; with ``may_have_ended``, a process that exited on its own between the
    caller's poll and the signal (a race the caller cannot close) passes too."""
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert proc.returncode == -signal.SIGKILL or (may_have_ended and proc.returncode == 0)
    time.sleep(0.05)  # let the reader thread drain the pipe


def _integrity(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


KILL_ROUNDS = 6


def test_sigkill_during_a_write_burst_loses_no_acknowledged_write(tmp_path):
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    totals = {"kills": 0, "acknowledged": 0}
    for round_ in range(KILL_ROUNDS):
        db = tmp_path / f"round{round_}" / "expe.db"
        proc, lines, ready = _spawn(WRITER, str(db), json.dumps(BASE))
        assert ready.wait(60), proc.stderr.read() if proc.stderr else ""
        # Kill after a random number of committed writes plus a random delay: mid-burst, at any point.
        wanted = rng.randint(5, 120)
        deadline = time.monotonic() + 60
        while len(lines) < wanted + 1 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.001)
        time.sleep(rng.uniform(0, 0.02))
        _kill(proc)
        acks = [line.split(" ", 2) for line in lines[1:]]
        context = f"seed {seed}, round {round_}, {len(acks)} acknowledged writes"

        assert _integrity(db) == "ok", context
        store = ProfileStore(db)  # reopening recovers the WAL
        created = [a[1] for a in acks if a[0] == "create"]
        updated = {a[1]: a[2] for a in acks if a[0] == "update"}
        assert len(acks) >= wanted, context
        for pid in created:
            profile = store.get(pid)
            assert profile["title"] == updated.get(pid, profile["title"]), context
        for pid, title in updated.items():
            assert store.get(pid)["title"] == title, context
        # Each write is one transaction: one history row and one revision bump, never half of it.
        with sqlite3.connect(db) as conn:
            history = conn.execute("SELECT COUNT(*) FROM history").fetchone()[0]
            creates = conn.execute("SELECT COUNT(*) FROM history WHERE action = 'create'").fetchone()[0]
            profiles = conn.execute("SELECT COUNT(*) FROM profiles").fetchone()[0]
        assert store.revision() == history, context
        assert profiles == creates == len(store.active()), context
        assert 0 <= history - len(acks) <= 1, context  # at most the write committed but not yet acknowledged
        # The store keeps working after the crash.
        store.create({**BASE, "id": "AFTER-CRASH"})
        assert store.revision() == history + 1
        totals["kills"] += 1
        totals["acknowledged"] += len(acks)
    assert totals["kills"] == KILL_ROUNDS
    print(f"\nSIGKILL faults: {totals['kills']} kills, {totals['acknowledged']} acknowledged writes verified")


def test_sigkill_during_seeding_is_all_or_nothing(tmp_path, profiles_file):
    records = [json.loads(line) for line in profiles_file.read_text(encoding="utf-8").splitlines()]
    big = tmp_path / "big.jsonl"
    with big.open("w", encoding="utf-8") as fh:
        for i in range(3000):
            record = records[i % len(records)]
            fh.write(json.dumps({**record, "id": f"{record['id']}-{i}"}, ensure_ascii=False) + "\n")
    rng = random.Random()
    outcomes = set()
    for round_ in range(4):
        db = tmp_path / f"seed{round_}" / "expe.db"
        proc, lines, ready = _spawn(SEEDER, str(db), str(big))
        assert ready.wait(60)
        time.sleep(rng.uniform(0, 1.5))
        if proc.poll() is None:
            _kill(proc, may_have_ended=True)  # the seeding may finish between the poll and the kill
        assert _integrity(db) == "ok"
        store = ProfileStore(db)
        count = store.counts()["active"]
        assert (count, store.revision()) in {(0, 0), (3000, 1)}
        if any(line.startswith("seeded") for line in lines):
            assert count == 3000
        outcomes.add(count)
        assert store.seed(big) in {0, 3000}  # an interrupted seeding can simply be run again
        assert store.counts()["active"] == 3000
    assert outcomes <= {0, 3000}


# ---------------------------------------------------------------------------- parallel clients
def test_parallel_clients_during_writes_and_rebuilds_see_whole_indexes(client, auth):
    """Every /match answer comes from one index: the profiles it finds are exactly those of its revision."""
    start = (date.today() - timedelta(days=30)).isoformat()
    base_revision = client.app.state.store.revision()
    n_writes = 10
    errors: list[str] = []
    seen: list[int] = []
    stop = threading.Event()

    def expected(revision: int) -> set[str]:
        return {f"Z-{j}" for j in range(n_writes) if base_revision + j + 1 <= revision}

    def reader(k: int) -> None:
        while not stop.is_set():
            try:
                response = client.post("/match", json={"text": "zorbalite", "top_k": 50})
                if response.status_code != 200:
                    errors.append(f"/match {response.status_code}: {response.text[:200]}")
                    continue
                revision = int(response.headers["x-index-revision"])
                body = response.json()
                ids = {r["expert_id"] for r in body["results"] if r["expert_id"].startswith("Z-")}
                if ids != expected(revision):
                    errors.append(f"revision {revision}: got {sorted(ids)}, expected {sorted(expected(revision))}")
                if [r["rank"] for r in body["results"]] != list(range(1, len(body["results"]) + 1)):
                    errors.append("ranks not 1..n")
                if not all(0.0 <= r["score"] <= 1.0 for r in body["results"]):
                    errors.append("score out of [0, 1]")
                seen.append(revision)
                other = (
                    client.get("/experts", params={"limit": 200})
                    if k % 2
                    else client.post("/", data={"texte": "zorbalite"})
                )
                if other.status_code != 200:
                    errors.append(f"{other.request.url.path} {other.status_code}")
            except Exception as exc:  # noqa: BLE001 - collected and reported below
                errors.append(repr(exc))

    assert client.post("/match", json={"text": "zorbalite"}).status_code == 200  # warm up the models
    threads = [threading.Thread(target=reader, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    try:
        for j in range(n_writes):
            body = {**BASE, "id": f"Z-{j}", "title": f"Bornes en zorbalite, lot {j}", "label_start": start}
            response = client.post("/experts", json=body, headers=auth)
            assert response.status_code == 201, response.text
            time.sleep(0.15 if j % 3 else 0.4)  # sometimes a rebuild finishes before the next write, sometimes not
        wait_index(client)
        time.sleep(0.3)
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    assert not errors, errors[:5]
    assert len(seen) > 20 and len(set(seen)) >= 3, sorted(set(seen))  # reads really overlapped the rebuilds
    assert max(seen) == base_revision + n_writes
    final = client.post("/match", json={"text": "zorbalite", "top_k": 50}).json()
    assert {r["expert_id"] for r in final["results"] if r["expert_id"].startswith("Z-")} == expected(max(seen))
    print(f"\nparallel clients: {len(seen)} /match answers over {len(set(seen))} index revisions, no error")


# ---------------------------------------------------------------------------- saved index
def _corrupt_truncated(directory: Path) -> None:
    path = directory / "index.pickle"
    path.write_bytes(path.read_bytes()[:1000])


def _corrupt_other_object(directory: Path) -> None:
    (directory / "index.pickle").write_bytes(pickle.dumps({"not": "a matcher"}))
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    manifest["index_sha256"] = file_checksum(directory / "index.pickle")
    (directory / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def _stale_manifest(directory: Path) -> None:
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    manifest["source_sha256"] = "0" * 64
    (directory / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


DAMAGE = {
    "deleted directory": (shutil.rmtree, "no saved index"),
    "deleted index file": (lambda d: (d / "index.pickle").unlink(), "no saved index"),
    "deleted manifest": (lambda d: (d / "manifest.json").unlink(), "no saved index"),
    "garbage manifest": (lambda d: (d / "manifest.json").write_bytes(b"\x00{garbage"), "unreadable manifest"),
    "truncated index": (_corrupt_truncated, "corrupt"),
    "random bytes index": (lambda d: (d / "index.pickle").write_bytes(os.urandom(4096)), "corrupt"),
    "other pickled object": (_corrupt_other_object, "does not hold the expected matcher"),
    "stale manifest": (_stale_manifest, "stale"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_saved_index_is_rebuilt_with_a_log_line(tmp_path, profiles_file, caplog, damage):
    store = ProfileStore(tmp_path / "expe.db")
    store.seed(profiles_file)
    index_dir = tmp_path / "index"
    LiveIndex(store, index_dir).start()
    harm, fragment = DAMAGE[damage]
    harm(index_dir)
    caplog.clear()  # only the restart's log lines count
    with caplog.at_level("INFO", logger="matching.data.live"):
        live = LiveIndex(store, index_dir)
        snapshot = live.start()
    assert snapshot.n_profiles == 12 and snapshot.revision == store.revision()
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("rebuilding index" in m and fragment in m for m in warnings), warnings
    assert snapshot.matcher is not None
    assert snapshot.matcher.search("éclairage public et eau potable", top_k=3).matches
    caplog.clear()
    with caplog.at_level("INFO", logger="matching.data.live"):
        LiveIndex(store, index_dir).start()  # the rebuilt index was saved again and is trusted
    assert "index loaded from" in caplog.text and "rebuilding" not in caplog.text


def test_unwritable_index_folder_is_logged_and_matching_goes_on(tmp_path, profiles_file, caplog):
    store = ProfileStore(tmp_path / "expe.db")
    store.seed(profiles_file)
    blocker = tmp_path / "index"
    blocker.write_text("a file where the index folder should be", encoding="utf-8")
    with caplog.at_level("WARNING", logger="matching.data.live"):
        snapshot = LiveIndex(store, blocker).start()
    assert snapshot.n_profiles == 12
    assert "index not saved" in caplog.text
