"""What the model-based tests share: a fresh database and sandbox for every example."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from aftercare.settings import get_settings
from tests.conftest import ANCHOR


def fresh_example(sandbox: Any, folder: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> str:
    """Reset the sandbox to the anchor and point the settings at a new database; return it.

    Nothing one example did decides the next.
    """
    from deployments.sandbox_world import register_sandbox_shops
    from models.migrate import upgrade

    sandbox.reset()
    sandbox.clock.set(ANCHOR)
    url = f"sqlite:///{folder}/{name}.db"
    monkeypatch.setenv("AFTERCARE_DATABASE_URL", url)
    get_settings.cache_clear()
    upgrade(url)
    register_sandbox_shops(url)
    return url
