"""Loading millions of rows at once (seed-demo at scale, ceasefire.demo_bulk): what the tables' indexes and keys cost
while rows go in, set aside and put back once over all the rows.

Keeping a b-tree up to date row by row, and checking each new row's foreign keys one by one, costs far more than
building each index with one sort and checking each key with one join at the end. On PostgreSQL the definitions are
read from the catalog (pg_get_constraintdef, pg_get_indexdef), so whatever the migrations made (the trigram indexes
of the name search included) comes back exactly as it was; on SQLite the models' indexes are dropped and rebuilt.
All of it runs in the caller's transaction: a failure leaves the database as it was."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

FOREIGN_KEYS = sa.text(
    "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
    "WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace "
    "AND (c.conrelid::regclass::text = ANY(:tables) OR c.confrelid::regclass::text = ANY(:tables)) ORDER BY c.oid"
)
KEYS = sa.text(
    "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
    "WHERE c.contype IN ('p', 'u') AND c.connamespace = current_schema()::regnamespace "
    "AND c.conrelid::regclass::text = ANY(:tables) ORDER BY c.oid"
)
INDEXES = sa.text(
    "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
    "JOIN pg_class t ON t.oid = i.indrelid WHERE t.relnamespace = current_schema()::regnamespace "
    "AND t.relname = ANY(:tables) AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid "
    "AND c.contype IN ('p', 'u', 'x')) ORDER BY i.indexrelid"
)


def set_aside_postgresql(conn: sa.Connection, tables: list[str]) -> Callable[[], None]:
    """Drop the foreign keys into and out of `tables`, then their indexes, then their primary and unique keys;
    return what builds them again in the other order (keys, indexes, then foreign keys, each checked once)."""
    names = {"tables": tables}
    foreign_keys = conn.execute(FOREIGN_KEYS, names).all()
    keys = conn.execute(KEYS, names).all()
    indexes = conn.execute(INDEXES, names).all()
    for table, name, _definition in foreign_keys:
        conn.exec_driver_sql(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    for name, _definition in indexes:
        conn.exec_driver_sql(f"DROP INDEX {name}")
    for table, name, _definition in keys:
        conn.exec_driver_sql(f"ALTER TABLE {table} DROP CONSTRAINT {name}")

    def restore() -> None:
        # Room to sort in memory, for this transaction only.
        conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '1GB'")
        for table, name, definition in keys:
            conn.exec_driver_sql(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
        for _name, definition in indexes:
            conn.exec_driver_sql(definition)
        for table, name, definition in foreign_keys:
            conn.exec_driver_sql(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
        for table in tables:
            conn.exec_driver_sql(f"ANALYZE {table}")

    return restore


def set_aside_sqlite(conn: sa.Connection, tables: list[sa.Table], cache_kib: int = 0) -> Callable[[], None]:
    """Drop the models' indexes of `tables`; return what builds them again. (SQLite checks a foreign key with one
    look-up in the parent's primary key, and cannot stop checking inside a transaction.) `cache_kib`: room for the
    tables' pages while rows go in, until their indexes are built; not for what follows: with it, sorting millions
    of rows (search_counts.refresh) took a third longer, and with temp_store = MEMORY half again."""
    cache_size = conn.exec_driver_sql("PRAGMA cache_size").scalar_one()
    if cache_kib:
        conn.exec_driver_sql(f"PRAGMA cache_size = {-int(cache_kib)}")
    indexes = [index for table in tables for index in table.indexes]
    for index in indexes:
        index.drop(conn)

    def restore() -> None:
        for index in indexes:
            index.create(conn)
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(cache_size)}")

    return restore


def settle_postgresql(engine: sa.Engine) -> None:
    """After a bulk load, what autovacuum would do in time, done at once: VACUUM sets each page's visibility, so that
    a count or a median read off an index (the reports' kept stage entries, the search's pieces) need not visit
    the table for every row, and ANALYZE gives the planner the statistics of every table, the kept ones included."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM (ANALYZE)")
