"""Building a matcher: the collector paused meanwhile, the freed memory handed back after."""

from __future__ import annotations

import gc

import pytest

import matching.engine as engine


class _FakeLibc:
    def __init__(self) -> None:
        self.trims: list[int] = []

    def malloc_trim(self, pad: int) -> int:
        self.trims.append(pad)
        return 1


def test_a_build_pauses_the_collector_then_trims_the_heap(monkeypatch) -> None:
    libc = _FakeLibc()
    monkeypatch.setattr(engine, "_libc", lambda: libc)
    gc.enable()
    with engine.paused_gc():
        assert not gc.isenabled()
        assert libc.trims == []  # not while building
    assert gc.isenabled()
    assert libc.trims == [0]


def test_a_failed_build_still_restores_the_collector_and_trims(monkeypatch) -> None:
    libc = _FakeLibc()
    monkeypatch.setattr(engine, "_libc", lambda: libc)
    gc.enable()
    with pytest.raises(ValueError), engine.paused_gc():
        raise ValueError("bad profiles")
    assert gc.isenabled() and libc.trims == [0]


@pytest.mark.parametrize("libc", [None, object()], ids=["no C library", "no malloc_trim"])
def test_without_malloc_trim_nothing_is_trimmed_and_nothing_fails(monkeypatch, libc) -> None:
    monkeypatch.setattr(engine, "_libc", lambda: libc)
    engine.release_freed_memory()


def test_the_real_c_library_is_found_on_linux() -> None:
    import sys

    if not sys.platform.startswith("linux"):
        pytest.skip("glibc's malloc_trim is looked for on Linux only")
    assert engine._libc() is not None
    engine.release_freed_memory()
