"""The command's process: no garbage collection while it runs, everything frozen as it exits."""

import gc

import pytest

from matching import cli


def test_a_command_runs_with_the_collector_off_and_exits_frozen(monkeypatch):
    seen = []
    monkeypatch.setattr(cli, "main", lambda argv=None: seen.append(gc.isenabled()) or 3)
    enabled = gc.isenabled()
    gc.unfreeze()  # so that what is frozen below is run's doing
    try:
        with pytest.raises(SystemExit) as exited:
            cli.run()
        assert exited.value.code == 3  # main's exit code
        assert seen == [False]
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        if enabled:
            gc.enable()
