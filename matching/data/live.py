"""The live index: a matcher built from the profile store, rebuilt in the background.

Readers take :attr:`LiveIndex.current` once per request and use that snapshot throughout:
it is an immutable pair (matcher, store revision) replaced by a single reference
assignment, so a reader never sees a half-built index. A rebuild runs in a background
thread after each change (changes arriving meanwhile are coalesced into one more rebuild);
if it fails, the previous index keeps serving and the error is logged and reported.

When ``index_dir`` is given, the index is saved there after each build and loaded at
start-up if it matches the store's content checksum, so restarts are fast; a missing,
stale or corrupt saved index is rebuilt (with a log line), never trusted.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from matching.data.persistence import StaleIndexError, load_matcher, save_matcher
from matching.data.store import ProfileStore, StoreSnapshot
from matching.engine import build_matcher
from matching.retrieval.ranking import Matcher

__all__ = ["LiveIndex", "IndexSnapshot"]

log = logging.getLogger("matching.data.live")


@dataclass(frozen=True)
class IndexSnapshot:
    """One built index: ``matcher`` is None when the store holds no active profile."""

    matcher: Matcher | None
    revision: int
    checksum: str
    built_at: str | None

    @property
    def n_profiles(self) -> int:
        return self.matcher.index.n_profiles if self.matcher is not None else 0


class LiveIndex:
    """Holds the current :class:`IndexSnapshot` of ``store`` and keeps it up to date."""

    def __init__(self, store: ProfileStore, index_dir: str | Path | None = None) -> None:
        self.store = store
        self.index_dir = Path(index_dir) if index_dir else None
        self._current: IndexSnapshot | None = None
        self._lock = threading.Lock()
        self._changed = threading.Condition()
        self._dirty = False
        self._worker: threading.Thread | None = None
        self.last_error: str | None = None

    # ------------------------------------------------------------------ reading
    @property
    def current(self) -> IndexSnapshot:
        """The index serving now (call :meth:`start` first)."""
        snapshot = self._current
        if snapshot is None:
            raise RuntimeError("the live index has not been started")
        return snapshot

    @property
    def rebuilding(self) -> bool:
        worker = self._worker
        return worker is not None and worker.is_alive()

    # ------------------------------------------------------------------ building
    def start(self) -> IndexSnapshot:
        """Build (or load) the first index synchronously."""
        data = self.store.snapshot()
        self._swap(self._load_saved(data) or self._build(data, save=True))
        return self.current

    def refresh(self) -> None:
        """Schedule a rebuild in the background (returns at once)."""
        with self._lock:
            self._dirty = True
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._run, name="index-rebuild", daemon=True)
                self._worker.start()

    def wait_current(self, timeout: float = 30.0) -> bool:
        """Wait until the serving index reflects the store's latest revision; False on timeout."""
        deadline = time.monotonic() + timeout
        target = self.store.revision()
        with self._changed:
            while self._current is None or self._current.revision < target:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (not self.rebuilding and not self._dirty):
                    break
                self._changed.wait(min(remaining, 0.1))
        return self._current is not None and self._current.revision >= target

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._dirty:
                    self._worker = None
                    return
                self._dirty = False
            try:
                data = self.store.snapshot()
                if self._current is not None and data.revision <= self._current.revision:
                    continue
                snapshot = self._build(data, save=True)
                self.last_error = None
                self._swap(snapshot)
            except Exception as exc:  # keep serving the previous index, whatever went wrong
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("index rebuild failed; the previous index keeps serving")
            finally:
                with self._changed:
                    self._changed.notify_all()

    def _swap(self, snapshot: IndexSnapshot) -> None:
        with self._changed:
            current = self._current
            if current is None or snapshot.revision >= current.revision:
                self._current = snapshot  # one reference assignment: readers see old or new, never half
            self._changed.notify_all()
        log.info("index serving revision %d (%d profiles)", snapshot.revision, snapshot.n_profiles)

    def _build(self, data: StoreSnapshot, save: bool) -> IndexSnapshot:
        checksum = data.checksum
        if not data.rows:
            return IndexSnapshot(None, data.revision, checksum, None)
        started = time.perf_counter()
        matcher = build_matcher(data.frame())
        log.info("index built: %d profiles in %.2f s", matcher.index.n_profiles, time.perf_counter() - started)
        if save and self.index_dir is not None:
            try:
                save_matcher(matcher, self.index_dir, checksum)
            except OSError as exc:  # a read-only folder must not stop matching
                log.warning("index not saved to %s: %s", self.index_dir, exc)
        return IndexSnapshot(matcher, data.revision, checksum, matcher.index.built_at_)

    def _load_saved(self, data: StoreSnapshot) -> IndexSnapshot | None:
        if self.index_dir is None or not data.rows:
            return None
        checksum = data.checksum
        try:
            matcher = load_matcher(self.index_dir, checksum)
        except StaleIndexError as exc:
            log.warning("rebuilding index: %s", exc)
            return None
        log.info("index loaded from %s", self.index_dir)
        return IndexSnapshot(matcher, data.revision, checksum, matcher.index.built_at_)
