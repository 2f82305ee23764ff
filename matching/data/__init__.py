"""Data: loading and validation (JSON Lines, CSV, Excel), the profile store, the saved and
live index, the taxonomy and the bundled resources."""
