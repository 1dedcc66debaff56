"""Declare what you import: every third-party module the product imports is a declared
dependency (one that only arrives through another package can vanish with its next release)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("aftercare", "app", "flows", "tasks", "models", "deployments", "sandbox")
OURS = set(PRODUCT) | {"bench", "tests", "scripts"}


def imported_modules() -> dict[str, str]:
    """Top-level modules imported by the product code, each with one file importing it."""
    found: dict[str, str] = {}
    for package in PRODUCT:
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text("utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    found.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    return found


def declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    names = set()
    for requirement in project["dependencies"]:
        name = re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0]
        names.add(name.lower().replace("_", "-"))
    return names


def test_every_third_party_import_is_declared():
    distributions = packages_distributions()
    wanted = declared()
    missing = {}
    for module, where in imported_modules().items():
        if module in OURS or module in sys.stdlib_module_names:
            continue
        owners = {d.lower().replace("_", "-") for d in distributions.get(module, [module])}
        if not owners & wanted:
            missing[module] = (sorted(owners), where)
    assert not missing, missing
