"""Apply the Alembic migrations programmatically (the CLI, the demo and the tests use this)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    """Return an Alembic config for the given database URL."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser treats % as interpolation; URLs may carry percent-encoded passwords.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database schema up to the given revision."""
    command.upgrade(alembic_config(url), revision)


class SchemaMissing(RuntimeError):
    """The database has no schema, or an older one than this code needs."""


def require_schema(url: str) -> None:
    """Refuse, in one line, a database whose schema is missing or behind the code."""
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except Exception as error:  # unreachable server, bad URL, no such file: say which
        raise SchemaMissing(f"cannot open the database: {type(error).__name__}") from None
    finally:
        engine.dispose()
    if current is None:
        raise SchemaMissing("the database has no schema yet: run `aftercare db upgrade`")
    if current != head:
        raise SchemaMissing(
            f"the database schema is at {current}, the code needs {head}: "
            "run `aftercare db upgrade`"
        )
