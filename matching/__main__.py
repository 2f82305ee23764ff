from matching.cli import run

run()
