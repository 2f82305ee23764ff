import gc

gc.disable()  # before the imports too: see matching.cli.run

from matching.cli import run  # noqa: E402

run()
