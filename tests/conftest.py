"""Test configuration shared by every test module."""

# Engine fixtures (a small illustrative profile file and a matcher built on it).
pytest_plugins = ["engine_support"]
