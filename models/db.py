"""Engines, sessions, and the dialect-aware bulk writes every task uses."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Engine, Select, create_engine, event, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel, select

Row = TypeVar("Row", bound=SQLModel)


@cache
def get_engine(url: str) -> Engine:
    """Return the process-wide engine for a database URL."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    # How long a writer waits for another's lock before "database is locked"; ?timeout=s sets it.
    timeout = float(str(parsed.query.get("timeout", 30)))
    engine = create_engine(
        url,
        # Bulk writes prepare a statement per batch size; sqlite3 keeps 128 prepared statements
        # per connection, megabytes each for a many-row insert: memory that grew with the run.
        connect_args={"check_same_thread": False, "timeout": timeout, "cached_statements": 16},
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy issue BEGIN itself (below), so writers take the lock up front.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection: Any) -> None:
        # A deferred transaction that reads then writes can fail at once with "database is
        # locked" when another writer got in between; IMMEDIATE waits for the lock instead.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """Open a session that commits on success and rolls back on error."""
    with Session(get_engine(url), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def _insert(session: Session, model: type[SQLModel]) -> Any:
    dialect = session.get_bind().dialect.name
    table = model.__table__  # type: ignore[attr-defined]
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"bulk upsert is not supported on {dialect}")


def insert_ignore(
    session: Session, model: type[SQLModel], rows: Sequence[dict[str, Any]], keys: Sequence[str]
) -> list[Any]:
    """Insert rows, skipping those whose unique keys exist already; return the new rows' keys."""
    inserted: list[Any] = []
    table = model.__table__  # type: ignore[attr-defined]
    primary = next(iter(table.primary_key.columns))
    # One statement for all rows: SQLAlchemy batches the VALUES itself ("insertmanyvalues") and
    # compiles once; RETURNING tells what was inserted (psycopg reports rowcount -1 here).
    statement = (
        _insert(session, model).on_conflict_do_nothing(index_elements=list(keys)).returning(primary)
    )
    for chunk in _chunks(_in_key_order(rows, keys)):
        inserted.extend(row[0] for row in session.execute(statement, chunk))
    return inserted


def upsert(
    session: Session,
    model: type[SQLModel],
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str],
    update: Sequence[str],
    only_if: Any = None,
) -> None:
    """Insert rows or update the given columns of existing ones (where only_if(excluded) holds)."""
    insert = _insert(session, model)
    statement = insert.on_conflict_do_update(
        index_elements=list(keys),
        set_={c: insert.excluded[c] for c in update},
        where=only_if(insert.excluded) if only_if is not None else None,
    )
    for chunk in _chunks(_in_key_order(rows, keys)):
        session.execute(statement, chunk)


def claim(
    session: Session,
    model: type[SQLModel],
    *,
    candidates: Select[Any],
    due: ColumnElement[bool],
    values: dict[str, Any],
) -> list[int]:
    """Atomically take the due rows `candidates` selects (by id) and return their ids.

    PostgreSQL skips rows another worker has locked; SQLite serialises writers (BEGIN
    IMMEDIATE), and the repeated `due` condition makes a row that was taken meanwhile drop out.
    """
    table = model.__table__  # type: ignore[attr-defined]
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    statement = (
        update(table)
        .where(table.c.id.in_(candidates.scalar_subquery()), due)
        .values(**values)
        .returning(table.c.id)
    )
    return [row[0] for row in session.execute(statement)]


def claim_rows(
    session: Session,
    model: type[Row],
    *,
    candidates: Select[Any],
    due: ColumnElement[bool],
    values: dict[str, Any],
) -> list[Row]:
    """Claim like `claim`, and return the claimed rows themselves, in id order."""
    ids = claim(session, model, candidates=candidates, due=due, values=values)
    if not ids:
        return []
    key = model.id  # type: ignore[attr-defined]
    return list(session.exec(select(model).where(key.in_(ids)).order_by(key)))


def _in_key_order(rows: Sequence[dict[str, Any]], keys: Sequence[str]) -> list[dict[str, Any]]:
    # A multi-row VALUES takes its columns from one row: rows that differ would lose values.
    columns = {frozenset(row) for row in rows}
    if len(columns) > 1:
        raise ValueError(f"rows of one bulk write must have the same columns: {columns}")
    # Concurrent writers that lock rows in the same order cannot deadlock on PostgreSQL.
    return sorted(rows, key=lambda row: tuple(str(row[k]) for k in keys))


def _chunks(rows: Sequence[dict[str, Any]], size: int = 2000) -> Iterator[list[dict[str, Any]]]:
    # Bounded batches keep memory flat on huge writes (the driver batches further itself).
    for start in range(0, len(rows), size):
        yield list(rows[start : start + size])


def create_all(url: str) -> None:
    """Create the tables directly; only for throw-away databases (migrations are the real path)."""
    SQLModel.metadata.create_all(get_engine(url))
