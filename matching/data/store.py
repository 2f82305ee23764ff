"""The profile store: SQLite (standard library, WAL mode), one transaction per write.

Profiles are kept as validated JSON documents with a status (``active`` or ``withdrawn``);
every change is also appended to a ``history`` table, so a withdrawn label is never
erased. A ``revision`` counter, bumped in the same transaction as each write, tells the
live index whether it is current. On first start an empty database is filled from a
profiles file (all-or-nothing, see :func:`matching.data.loading.load_profiles`).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from matching.data.loading import DataError, Problem, load_profile_rows, profiles_frame, validate_profile

__all__ = ["ProfileStore", "StoreSnapshot", "ProfileNotFound", "DuplicateProfile", "AlreadyWithdrawn"]

ACTIVE, WITHDRAWN = "active", "withdrawn"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS profiles (
    id          TEXT PRIMARY KEY,
    data        TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'withdrawn')),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    withdrawn_at TEXT
);
CREATE TABLE IF NOT EXISTS history (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    profile_id  TEXT NOT NULL,
    action      TEXT NOT NULL CHECK (action IN ('seed', 'create', 'update', 'withdraw')),
    at          TEXT NOT NULL,
    data        TEXT NOT NULL,
    note        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS history_profile ON history (profile_id, seq);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO meta (key, value) VALUES ('revision', '0');
"""


class ProfileNotFound(LookupError):
    """No profile with this id (``withdrawn_at`` is set when it exists but was withdrawn)."""

    def __init__(self, profile_id: str, withdrawn_at: str | None = None) -> None:
        self.profile_id = profile_id
        self.withdrawn_at = withdrawn_at
        state = f"was withdrawn on {withdrawn_at[:10]}" if withdrawn_at else "does not exist"
        super().__init__(f"expert profile '{profile_id}' {state}")


class DuplicateProfile(DataError):
    """A profile with this id already exists (active or withdrawn)."""


class AlreadyWithdrawn(ProfileNotFound):
    """The profile's label was already withdrawn."""


@dataclass(frozen=True)
class StoreSnapshot:
    """The active profiles at one revision, read in a single transaction."""

    revision: int
    rows: list[dict[str, Any]]

    @property
    def checksum(self) -> str:
        """SHA-256 of the active profiles' content (independent of the revision number)."""
        digest = hashlib.sha256()
        for row in sorted(self.rows, key=lambda r: r["id"]):
            digest.update(json.dumps(row, ensure_ascii=False, sort_keys=True).encode())
            digest.update(b"\n")
        return digest.hexdigest()

    def frame(self) -> pd.DataFrame:
        """The profiles as :func:`matching.load_profiles` returns them."""
        return profiles_frame([_from_json(r) for r in self.rows])


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _to_json(profile: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in profile.items()}


def _from_json(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for field in ("label_start", "label_end"):
        out[field] = date.fromisoformat(out[field]) if out.get(field) else None
    return out


class ProfileStore:
    """Profiles in an SQLite database at ``path`` (created with its folder when missing).

    Thread-safe: each operation opens its own short-lived connection; writes are one
    ``BEGIN IMMEDIATE`` transaction each, so they are atomic and serialised.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._write_lock = threading.Lock()
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)

    # ------------------------------------------------------------------ plumbing
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    @contextmanager
    def _transaction(self, write: bool) -> Iterator[sqlite3.Connection]:
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            conn.close()

    @staticmethod
    def _bump(conn: sqlite3.Connection) -> int:
        conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'revision'")
        return int(conn.execute("SELECT value FROM meta WHERE key = 'revision'").fetchone()[0])

    @staticmethod
    def _log(conn: sqlite3.Connection, profile_id: str, action: str, data: dict, at: str, note: str = "") -> None:
        conn.execute(
            "INSERT INTO history (profile_id, action, at, data, note) VALUES (?, ?, ?, ?, ?)",
            (profile_id, action, at, json.dumps(data, ensure_ascii=False), note),
        )

    # ------------------------------------------------------------------ seeding
    def is_empty(self) -> bool:
        with self._transaction(write=False) as conn:
            return conn.execute("SELECT COUNT(*) FROM profiles").fetchone()[0] == 0

    def seed(self, source: str | Path) -> int:
        """Fill an empty store from a profiles file, in one transaction; return how many were added.

        Raises :class:`DataError` if the file is invalid (nothing is stored then). A store
        that already holds profiles is left alone (returns 0).
        """
        rows = [_to_json(r) for r in load_profile_rows(source)]
        with self._write_lock, self._transaction(write=True) as conn:
            if conn.execute("SELECT COUNT(*) FROM profiles").fetchone()[0]:
                return 0
            at = _now()
            for row in rows:
                conn.execute(
                    "INSERT INTO profiles (id, data, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                    (row["id"], json.dumps(row, ensure_ascii=False), ACTIVE, at, at),
                )
                self._log(conn, row["id"], "seed", row, at, note=f"seeded from {Path(source).name}")
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('seeded_from', ?)", (str(source),))
            self._bump(conn)
        return len(rows)

    # ------------------------------------------------------------------ reads
    def revision(self) -> int:
        with self._transaction(write=False) as conn:
            return int(conn.execute("SELECT value FROM meta WHERE key = 'revision'").fetchone()[0])

    def snapshot(self) -> StoreSnapshot:
        """Active profiles and the revision, read consistently in one transaction."""
        with self._transaction(write=False) as conn:
            revision = int(conn.execute("SELECT value FROM meta WHERE key = 'revision'").fetchone()[0])
            rows = [
                json.loads(r[0])
                for r in conn.execute("SELECT data FROM profiles WHERE status = ? ORDER BY id", (ACTIVE,))
            ]
        return StoreSnapshot(revision, rows)

    def get(self, profile_id: str) -> dict[str, Any]:
        """The active profile ``profile_id`` (dates as :class:`datetime.date`); raise :class:`ProfileNotFound`."""
        with self._transaction(write=False) as conn:
            row = conn.execute("SELECT data, status, withdrawn_at FROM profiles WHERE id = ?", (profile_id,)).fetchone()
        if row is None:
            raise ProfileNotFound(profile_id)
        if row["status"] != ACTIVE:
            raise ProfileNotFound(profile_id, row["withdrawn_at"])
        return _from_json(json.loads(row["data"]))

    def active(self) -> list[dict[str, Any]]:
        """Every active profile, ordered by id (dates as :class:`datetime.date`)."""
        return [_from_json(r) for r in self.snapshot().rows]

    def history(self, profile_id: str) -> list[dict[str, Any]]:
        """Every recorded change to ``profile_id``, oldest first; raise :class:`ProfileNotFound` if none."""
        with self._transaction(write=False) as conn:
            rows = conn.execute(
                "SELECT seq, action, at, data, note FROM history WHERE profile_id = ? ORDER BY seq", (profile_id,)
            ).fetchall()
        if not rows:
            raise ProfileNotFound(profile_id)
        return [
            {
                "seq": r["seq"],
                "action": r["action"],
                "at": r["at"],
                "profile": _from_json(json.loads(r["data"])),
                "note": r["note"],
            }
            for r in rows
        ]

    def counts(self) -> dict[str, int]:
        with self._transaction(write=False) as conn:
            rows = conn.execute("SELECT status, COUNT(*) FROM profiles GROUP BY status").fetchall()
        out = {ACTIVE: 0, WITHDRAWN: 0}
        out.update({r[0]: r[1] for r in rows})
        return out

    # ------------------------------------------------------------------ writes
    def create(self, record: dict[str, Any]) -> dict[str, Any]:
        """Validate and add a profile; raise :class:`DataError` (bad field) or :class:`DuplicateProfile`."""
        profile = _to_json(validate_profile(record))
        with self._write_lock, self._transaction(write=True) as conn:
            if conn.execute("SELECT 1 FROM profiles WHERE id = ?", (profile["id"],)).fetchone():
                raise DuplicateProfile(
                    [Problem("profile", None, "id", f"an expert profile with id '{profile['id']}' already exists")]
                )
            at = _now()
            conn.execute(
                "INSERT INTO profiles (id, data, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                (profile["id"], json.dumps(profile, ensure_ascii=False), ACTIVE, at, at),
            )
            self._log(conn, profile["id"], "create", profile, at)
            self._bump(conn)
        return _from_json(profile)

    def update(self, profile_id: str, record: dict[str, Any]) -> dict[str, Any]:
        """Replace an active profile's fields (the id is taken from ``profile_id``)."""
        profile = _to_json(validate_profile({**record, "id": profile_id}))
        with self._write_lock, self._transaction(write=True) as conn:
            row = conn.execute("SELECT status, withdrawn_at FROM profiles WHERE id = ?", (profile_id,)).fetchone()
            if row is None or row["status"] != ACTIVE:
                raise ProfileNotFound(profile_id, row["withdrawn_at"] if row else None)
            at = _now()
            conn.execute(
                "UPDATE profiles SET data = ?, updated_at = ? WHERE id = ?",
                (json.dumps(profile, ensure_ascii=False), at, profile_id),
            )
            self._log(conn, profile_id, "update", profile, at)
            self._bump(conn)
        return _from_json(profile)

    def withdraw(self, profile_id: str, reason: str = "") -> dict[str, Any]:
        """Mark a label withdrawn (kept, with a history entry); raise :class:`ProfileNotFound`."""
        with self._write_lock, self._transaction(write=True) as conn:
            row = conn.execute("SELECT data, status, withdrawn_at FROM profiles WHERE id = ?", (profile_id,)).fetchone()
            if row is None:
                raise ProfileNotFound(profile_id)
            if row["status"] != ACTIVE:
                raise AlreadyWithdrawn(profile_id, row["withdrawn_at"])
            at = _now()
            conn.execute(
                "UPDATE profiles SET status = ?, withdrawn_at = ?, updated_at = ? WHERE id = ?",
                (WITHDRAWN, at, at, profile_id),
            )
            data = json.loads(row["data"])
            self._log(conn, profile_id, "withdraw", data, at, note=reason)
            self._bump(conn)
        return {**_from_json(data), "withdrawn_at": at}
