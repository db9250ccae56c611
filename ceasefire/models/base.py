"""Column helpers shared by every model family."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any, cast
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql import coercions, roles
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


def program_zone() -> ZoneInfo:
    """The program's time zone (the TIMEZONE setting; UTC outside an application or when unset)."""
    return ZoneInfo((has_app_context() and current_app.config.get("TIMEZONE")) or "UTC")


def today() -> date:
    """API.md's *today*: the day in the program's time zone, not in UTC (at 5 pm in Los Angeles UTC is already
    tomorrow). Identification dates, consents and every "not in the future" rule read this day."""
    return datetime.now(program_zone()).date()


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC timestamp on every database (SQLite keeps no zone, so it is stored naive UTC)."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def bulk_changes(state: Any, watched: dict[str, set[str]]) -> set[str]:
    """The watched columns that an UPDATE or DELETE run through the session (a do_orm_execute `state`) changes:
    those of its table named in `watched` that it sets, or all of them for a DELETE; empty for any other statement.
    The kept tables' listeners recount what such a statement moves, which no flush of theirs sees."""
    if not (state.is_update or state.is_delete):
        return set()
    statement = state.statement
    columns = watched.get(getattr(statement.table, "name", ""))
    if columns is None:
        return set()
    if state.is_delete:
        return set(columns)
    return {getattr(key, "key", key) for key in (statement._values or {})} & columns


def add_to_counts(connection: sa.Connection, table: sa.Table, keys: list[str], column: str,
                  rows: list[dict[str, Any]]) -> None:
    """Add each row's `column` to that of the row of `table` with the same `keys`, or insert the row when there is
    none (INSERT ... ON CONFLICT, the same on PostgreSQL and SQLite): how the kept counts move. The rows go in the
    order given, which the callers sort, one order for every transaction, so that two never wait on each other
    crosswise."""
    if not rows:
        return
    insert: Any = (postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert)(table)
    connection.execute(insert.on_conflict_do_update(
        index_elements=[table.c[k] for k in keys], set_={column: table.c[column] + insert.excluded[column]}), rows)


def union_all_sql(connection: sa.Connection, selects: list[str]) -> str:
    """SQL of the selects' rows one after the other: a UNION ALL of them, nested in UNION ALLs of at most as many as
    SQLite takes in one compound select (500 as built; it refuses more) when there are more. PostgreSQL has no such
    limit."""
    terms = None
    if connection.dialect.name == "sqlite":
        driver = cast(sqlite3.Connection, connection.connection.driver_connection)
        terms = driver.getlimit(sqlite3.SQLITE_LIMIT_COMPOUND_SELECT)
    while terms is not None and len(selects) > terms:
        selects = [f"SELECT * FROM ({' UNION ALL '.join(selects[start:start + terms])})"  # noqa: S608 (selects of SQL)
                   for start in range(0, len(selects), terms)]
    return " UNION ALL ".join(selects)


def insert_rows(connection: sa.Connection, table: sa.Table, columns: list[str], rows: Iterable[tuple],
                chunk: int = 20000) -> None:
    """Write many rows (tuples of `columns`) into `table` in the connection's transaction: by COPY on PostgreSQL
    (the recounts of kept rows after a bulk seed write millions, and SQLAlchemy's executemany spent some 7
    microseconds of Python on each), by executemany elsewhere, `chunk` rows at a time."""
    if connection.dialect.name == "postgresql":
        names = ", ".join(f'"{c}"' for c in columns)
        driver: Any = connection.connection.driver_connection
        with driver.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    # Elsewhere the driver's executemany, each value written as the column's type writes it (its bind processor):
    # SQLAlchemy's executemany of dicts spent three times as long over the funder report's 650,000 rows.
    processors = [table.c[c].type.bind_processor(connection.dialect) for c in columns]
    statement = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"  # noqa: S608
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        batch: list[tuple] = []
        for row in rows:
            batch.append(tuple(v if f is None or v is None else f(v) for f, v in zip(processors, row, strict=True)))
            if len(batch) == chunk:
                cursor.executemany(statement, batch)
                batch = []
        if batch:
            cursor.executemany(statement, batch)
    finally:
        cursor.close()


DAY_GRAIN, MONTH_GRAIN = "d", "m"  # rows kept by day, and by month (on its first day)


def both_grains(counted: dict[tuple, int]) -> list[tuple[tuple, int]]:
    """Counts keyed (day, *rest) as counts keyed (grain, day, *rest) of both grains: each day's (DAY_GRAIN), and
    each month's sum on its first day (MONTH_GRAIN); in order, none at 0."""
    rows: dict[tuple, int] = {}
    for (day, *rest), n in counted.items():
        for key in ((DAY_GRAIN, day, *rest), (MONTH_GRAIN, day.replace(day=1), *rest)):
            rows[key] = rows.get(key, 0) + n
    return [(key, n) for key, n in sorted(rows.items()) if n]


def next_month(day: date) -> date:
    """The first day of the month after `day`'s (ValueError after December of year 9999)."""
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def months_and_days(day: Any, first: date | None, last: date | None) -> list[tuple[str, list]]:
    """The days [first, last] (None: open) as the pieces of rows kept by day (DAY_GRAIN) and by month (MONTH_GRAIN,
    `day` the month's first day) that sum them: (grain, conditions on the `day` column), the full months between
    at month grain, the days of the partial months at either end at day grain. Empty when first > last."""
    full: tuple[date | None, date | None] | None  # the full months [low, high): first days; None, open
    try:
        low = None if first is None else (first if first.day == 1 else next_month(first))
        high = None if last is None else (
            last + timedelta(days=1) if (last + timedelta(days=1)).day == 1 else last.replace(day=1))
        full = (low, high) if low is None or high is None or low < high else None
    except (ValueError, OverflowError):  # at the calendar's end: days alone
        full = None
    if full is None:
        if first is not None and last is not None and first > last:
            return []
        return [(DAY_GRAIN, [*([] if first is None else [day >= first]), *([] if last is None else [day <= last])])]
    low, high = full
    pieces = [(MONTH_GRAIN, [*([] if low is None else [day >= low]), *([] if high is None else [day < high])])]
    if first is not None and low is not None and first < low:
        pieces.append((DAY_GRAIN, [day >= first, day < low]))
    if last is not None and high is not None and high <= last:
        pieces.append((DAY_GRAIN, [day >= high, day <= last]))
    return pieces


def enum_type(enum_cls: type[StrEnum], name: str) -> sa.Enum:
    """A VARCHAR column with a CHECK constraint listing the enum's values, the same on SQLite and PostgreSQL."""
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class Likely(sa.sql.expression.ColumnElement[bool]):
    """A condition true of nearly every row, said so to SQLite's planner (likely(X)), which otherwise takes an
    equality on an indexed column, `purged_at IS NULL`, for a selective one and reads the whole table through that
    index instead of walking the list's order or the search's matches. Other databases see the condition as is
    (PostgreSQL keeps statistics of its own)."""

    inherit_cache = True
    type = sa.Boolean()
    _is_implicitly_boolean = True  # a condition as it stands, never `likely(X) = 1`, which no index serves
    _traverse_internals = [("clause", InternalTraversal.dp_clauseelement)]

    def __init__(self, clause: sa.ColumnElement[bool]) -> None:
        self.clause = clause


@compiles(Likely)
def _likely(element: Likely, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.clause, **kw)


@compiles(Likely, "sqlite")
def _likely_sqlite(element: Likely, compiler: Any, **kw: Any) -> str:
    return f"likely({compiler.process(element.clause, **kw)})"


class Unlikely(Likely):
    """A condition true of few rows (unlikely(X) to SQLite's planner), which otherwise takes `purged_at IS NOT NULL`
    for true of most and walks another index over the whole table instead of that column's own."""

    inherit_cache = True


@compiles(Unlikely, "sqlite")
def _unlikely_sqlite(element: Unlikely, compiler: Any, **kw: Any) -> str:
    return f"unlikely({compiler.process(element.clause, **kw)})"


class Unindexed(sa.sql.expression.ColumnElement[Any]):
    """A column SQLite's planner must not reach through an index in this statement (`+column`): without statistics
    it takes an equality and a range on one index (a stage's entries with a span) for narrower than a short list of
    ids read through another, and walks the whole stage. Other databases see the column as is."""

    inherit_cache = True
    _traverse_internals = [("clause", InternalTraversal.dp_clauseelement)]

    def __init__(self, clause: sa.ColumnElement[Any] | QueryableAttribute[Any]) -> None:
        self.clause = coercions.expect(roles.ExpressionElementRole, clause)
        self.type = self.clause.type


@compiles(Unindexed)
def _unindexed(element: Unindexed, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.clause, **kw)


@compiles(Unindexed, "sqlite")
def _unindexed_sqlite(element: Unindexed, compiler: Any, **kw: Any) -> str:
    return f"+{compiler.process(element.clause, **kw)}"
