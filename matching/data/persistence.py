"""Saving and loading a fitted matcher (pickle, protocol 5) with a manifest that guards against staleness.

The manifest records the library versions, the profile count and checksums of the profile
source and of the lexicons. Loading checks it: an index built by other library versions or
from other data is refused with :class:`StaleIndexError`, never silently used.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import platform
import tempfile
from importlib.metadata import version as _version
from pathlib import Path
from typing import Any

import numpy as np
import scipy

from matching import __version__
from matching.analysis import language
from matching.engine import lexicon_files, paused_gc
from matching.retrieval.ranking import Matcher

__all__ = ["StaleIndexError", "save_matcher", "load_matcher", "load_or_build", "file_checksum", "manifest_for"]

INDEX_FILE = "index.pickle"
LANGUAGE_MODEL_FILE = "language-model.pickle"
#: 14: lexicons walked as a trie of their keys' terms (``trie_``); 13: profile metadata as
#: plain arrays (``fields_``: loading needs no pandas); 12: cognate readings cached in the query
#: analyser; 11: lexicon-hit caches in the query analyser; 10: expansion codes aligned with the
#: index matrix's entries (``expansion_codes_``); 9: cached readings of foreign words,
#: speed-ups; 8: profile metadata as its own object; 7: acronyms; 6: plain pickle; 5: typo
#: correction as its own object, cognate cut-offs; 4: one-word expansion flags; 3: BM25
#: impacts, idf counted once; 2: typo windows
FORMAT_VERSION = 14


class StaleIndexError(RuntimeError):
    """A saved index is missing, corrupt, or does not match the current data or libraries."""


def file_checksum(path: str | Path) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _environment() -> dict[str, str]:
    return {
        "matching": __version__,
        "scikit-learn": _version("scikit-learn"),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "python": platform.python_version(),
    }


def manifest_for(source_checksum: str, n_profiles: int) -> dict[str, Any]:
    """What an index built now from data with ``source_checksum`` must record."""
    return {
        "format_version": FORMAT_VERSION,
        "libraries": _environment(),
        "n_profiles": n_profiles,
        "source_sha256": source_checksum,
        "lexicons_sha256": {name: file_checksum(path) for name, path in lexicon_files().items()},
    }


def _atomic_write(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_durably(path: str, data: bytes) -> None:
    """Write ``data`` and flush it to disk before the rename that publishes it."""
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def save_matcher(matcher: Matcher, directory: str | Path, source_checksum: str) -> Path:
    """Save ``matcher`` to ``directory`` (``index.pickle`` + ``manifest.json``), atomically.

    Plain pickle (protocol 5), not joblib: the C unpickler loads the bundled index in a third
    of joblib's time (bench/README.md), and start-up is what a one-off ``match`` waits for."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    manifest = manifest_for(source_checksum, matcher.index.n_profiles)
    manifest["built_at"] = matcher.index.built_at_
    _atomic_write(directory / INDEX_FILE, lambda tmp: _write_durably(tmp, pickle.dumps(matcher, protocol=5)))
    manifest["index_sha256"] = file_checksum(directory / INDEX_FILE)
    # The language detector's model, restricted, uncompressed: a one-off ``match`` then starts
    # without decompressing py3langid's whole model (bench/README.md has the figures).
    _atomic_write(directory / LANGUAGE_MODEL_FILE, language.save_model)
    _atomic_write(
        directory / "manifest.json", lambda tmp: Path(tmp).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    )
    return directory


def load_matcher(directory: str | Path, source_checksum: str) -> Matcher:
    """Load a saved matcher, checking its manifest against the current data and libraries.

    Raises
    ------
    StaleIndexError
        With a message saying what differs (or what is missing or corrupt).
    """
    directory = Path(directory)
    manifest_path, index_path = directory / "manifest.json", directory / INDEX_FILE
    if not manifest_path.exists() or not index_path.exists():
        raise StaleIndexError(f"no saved index in {directory}")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StaleIndexError(f"unreadable manifest {manifest_path}: {exc}") from None
    expected = manifest_for(source_checksum, manifest.get("n_profiles", -1))
    for key in ("format_version", "libraries", "source_sha256", "lexicons_sha256"):
        if manifest.get(key) != expected[key]:
            raise StaleIndexError(
                f"saved index in {directory} is stale: {key} was {manifest.get(key)!r}, now {expected[key]!r}"
            )
    if file_checksum(index_path) != manifest.get("index_sha256"):
        raise StaleIndexError(f"saved index {index_path} is corrupt (checksum differs from its manifest)")
    try:
        with open(index_path, "rb") as fh, paused_gc():
            matcher = pickle.load(fh)
    except Exception as exc:  # any unpickling failure means the file cannot be trusted
        raise StaleIndexError(f"saved index {index_path} cannot be loaded: {exc}") from None
    if not isinstance(matcher, Matcher) or matcher.index.n_profiles != manifest.get("n_profiles"):
        raise StaleIndexError(f"saved index {index_path} does not hold the expected matcher")
    language.use_saved_model(directory / LANGUAGE_MODEL_FILE)
    return matcher


def load_or_build(profiles_path: str | Path, directory: str | Path, log=None) -> Matcher:
    """Load the saved matcher for ``profiles_path`` from ``directory``, or build and save one.

    A stale, corrupt or missing index is rebuilt from the profiles (``log`` receives a line
    saying why); the rebuilt index replaces it atomically.
    """
    from matching.engine import build_matcher_from_file  # local: engine imports are heavier

    checksum = file_checksum(profiles_path)
    try:
        return load_matcher(directory, checksum)
    except StaleIndexError as exc:
        if log is not None:
            log(f"rebuilding index: {exc}")
    matcher = build_matcher_from_file(profiles_path)
    try:
        save_matcher(matcher, directory, checksum)
    except OSError as exc:  # a read-only folder must not stop matching
        if log is not None:
            log(f"index not saved: {exc}")
    return matcher
