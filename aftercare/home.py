"""Where aftercare keeps its data: one folder for the database and Prefect's state."""

from __future__ import annotations

import os
from pathlib import Path

# The demo, `make serve` and every CLI command share this folder unless told otherwise.
DATA_DIR_VARIABLE = "AFTERCARE_DATA_DIR"


def data_dir() -> Path:
    """Return the data folder (AFTERCARE_DATA_DIR, else ./var), as an absolute path."""
    return Path(os.environ.get(DATA_DIR_VARIABLE) or "var").resolve()


def default_database_url() -> str:
    """Return the SQLite database in the data folder."""
    return f"sqlite:///{data_dir() / 'aftercare.db'}"


def use_home() -> Path:
    """Keep Prefect's state in the data folder too, unless PREFECT_HOME says otherwise.

    Call before Prefect is imported: it reads PREFECT_HOME once.
    """
    home = data_dir()
    home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_HOME", str(home / "prefect"))
    return home
