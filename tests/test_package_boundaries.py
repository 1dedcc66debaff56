"""Each layer imports only the layers below it; the sandbox stands apart from the product."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = {"aftercare", "app", "flows", "tasks", "models", "deployments", "sandbox", "bench", "tests"}

# What each package may import of ours (itself included). Everything else of ours is a layer
# above it, or the sandbox, which stands in for the providers and is never part of the product.
ALLOWED = {
    "aftercare": {"aftercare", "models"},
    "models": {"models", "aftercare"},
    "tasks": {"tasks", "aftercare", "models"},
    "flows": {"flows", "tasks", "aftercare", "models"},
    "deployments": {"deployments", "flows", "tasks", "aftercare", "models", "sandbox"},
    "app": {"app", "deployments", "flows", "tasks", "aftercare", "models", "sandbox"},
    "sandbox": {"sandbox"},
}


def imports_of(path: Path) -> set[str]:
    """Top-level packages of ours a module imports, lazily or not."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found |= {name.split(".")[0] for name in names} & OURS
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_package_imports_only_the_layers_below_it(package: str):
    wrong = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        extra = imports_of(path) - ALLOWED[package]
        if extra:
            wrong[str(path.relative_to(ROOT))] = sorted(extra)
    assert not wrong, wrong


def test_the_provider_clients_never_import_prefect():
    for path in (ROOT / "aftercare" / "clients").rglob("*.py"):
        tree = ast.parse(path.read_text("utf-8"))
        modules = {
            (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names
        }
        assert not any(m.split(".")[0] == "prefect" for m in modules), path


def test_the_checker_sees_a_wrong_import(tmp_path: Path):
    module = tmp_path / "wrong.py"
    module.write_text("def f():\n    from flows.common import publish_report\n", "utf-8")
    assert imports_of(module) == {"flows"}


def test_sql_lives_in_the_store_and_task_modules_stay_small():
    """Tasks and flows load, decide and write through the store; none writes a query."""
    for package in ("tasks", "flows"):
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text("utf-8")
            modules = {
                node.module or ""
                for node in ast.walk(ast.parse(text))
                if isinstance(node, ast.ImportFrom)
            }
            sql = {m for m in modules if m.split(".")[0] in ("sqlmodel", "sqlalchemy")}
            # A dropped database connection is a reason to retry a task: that is not SQL.
            assert sql <= {"sqlalchemy.exc"}, (path.name, sql)
            if package == "tasks":
                assert len(text.splitlines()) < 150, f"{path.name} is no thin task module"


def test_task_modules_do_not_borrow_each_others_helpers():
    for path in (ROOT / "tasks").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tasks."):
                assert node.module in ("tasks.policy", "tasks.limits", "tasks.prechecks") or (
                    path.stem == "recovery" and node.module in ("tasks.trades", "tasks.ratings")
                ), (path.name, node.module)
