"""How many participants in each state hold each short piece of text in their name or aliases: the count of a name
search of up to GRAM_MAX letters (ceasefire.services.search), read off a row or a few instead of off every match.

A piece ("gram") is any run of one to GRAM_MAX characters of lower(first_name || ' ' || last_name) or of
lower(aliases), as the database's lower() writes them (on SQLite the app's: ceasefire.unicode_lower), that neither
starts nor ends with a space (a search's `q` is trimmed, so no such piece is ever looked for). A participant counts
once for each distinct piece they hold, in their state; purged participants are left out. So a `q` of at most
GRAM_MAX letters is part of someone's lowered name or aliases exactly when it is one of their pieces, and its row
per state is the count of the substring match. The empty piece, held by everyone, counts everyone in each state: its
rows missing (a table emptied) say "not kept", and the search then counts off its index, so a total is never wrong.

The rows are kept in the transaction of every change: before each flush, one statement takes the pieces of the
participants the flush inserts, renames, moves to another state, purges or deletes out of the rows (as the database
holds them, their old values) and puts them back in (their new values), in the order of the key, so that two
transactions never wait on each other crosswise. The pieces are cut in SQL, by the database's lower(), never by
Python's, so that they are the search's own. What the ORM does not see, a bulk INSERT ... SELECT
(ceasefire.demo_bulk), is followed by refresh() (from counts.refresh()).

Beside them, how many participants in each state bear each name (SearchNameCount): a longer `q`'s matches by name
are summed off the distinct names that hold it, found by a trigram index on PostgreSQL, not counted person by
person. Kept by the same hook, in the same order.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from ceasefire import limits
from ceasefire.extensions import Model
from ceasefire.models.base import enum_type, union_all_sql
from ceasefire.models.enums import State
from ceasefire.models.people import Participant

GRAM_MAX = 4  # the longest piece counted: a longer `q` is counted off the search index
POSTED = (2, 3)  # the lengths of the pieces posted, each with the participant's place in the name order


class SearchGramCount(Model):
    __tablename__ = "search_gram_counts"

    gram: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    state: Mapped[State] = mapped_column(enum_type(State, "state"), primary_key=True)
    participants: Mapped[int] = mapped_column(sa.Integer, default=0)


class SearchPosting(Model):
    """Each participant's distinct pieces of two and three letters (POSTED), with their name and state: a page of a
    search is read off the primary key in the list's order (by name, then id), the participants found by their piece
    alone."""

    __tablename__ = "search_postings"
    __table_args__ = {"sqlite_with_rowid": False}  # on SQLite the rows are the key's: no second copy

    gram: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    last_name: Mapped[str] = mapped_column(sa.String(limits.NAME), primary_key=True)
    first_name: Mapped[str] = mapped_column(sa.String(limits.NAME), primary_key=True)
    participant_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    state: Mapped[State] = mapped_column(enum_type(State, "state"), primary_key=True)


class SearchNameCount(Model):
    """How many participants in each state bear each name, lowered as the search compares it (lower(first_name ||
    ' ' || last_name)), purged ones left out. The empty name, no one's (a name holds at least its space), has a row
    a state at 0: its rows missing (a table emptied) say "not kept", and the search then counts person by person."""

    __tablename__ = "search_name_counts"

    name: Mapped[str] = mapped_column(sa.String(2 * limits.NAME + 1), primary_key=True)
    state: Mapped[State] = mapped_column(enum_type(State, "state"), primary_key=True)
    participants: Mapped[int] = mapped_column(sa.Integer, default=0)


# PostgreSQL's index of the names' trigrams, which finds the names holding a `q` (LIKE '%q%') without reading the
# others; created with the table and by the migration, which repeats the statements (Alembic does not compare it:
# models.people.name_search_index).
NAME_COUNTS_INDEX = "ix_search_name_counts_name_trgm"
NAME_COUNTS_POSTGRESQL = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    f"CREATE INDEX {NAME_COUNTS_INDEX} ON search_name_counts USING gin (name gin_trgm_ops)",
)
for _statement in NAME_COUNTS_POSTGRESQL:
    sa.event.listen(SearchNameCount.__table__, "after_create", sa.DDL(_statement).execute_if(dialect="postgresql"))
# The rows of every name borne by someone, anew (refresh; the migration repeats it): the empty name's go in beside.
NAME_COUNTS_FILL = (
    "INSERT INTO search_name_counts (name, state, participants) "
    "SELECT lower(first_name || ' ' || last_name), state, count(*) FROM participants WHERE purged_at IS NULL "
    "GROUP BY 1, 2 ORDER BY 1, 2"
)


def _empty_names() -> list[dict[str, Any]]:
    return [{"name": "", "state": s.value, "participants": 0} for s in State]


@sa.event.listens_for(SearchNameCount.__table__, "after_create")
def _names_kept(table: sa.Table, connection: sa.Connection, **_kw: Any) -> None:
    """A new database keeps its names' counts from the first participant on."""
    connection.execute(table.insert(), _empty_names())


def names_sql(source: str) -> str:
    """The INSERT of the names of `source` (rows of name lowered, state, and d), summed, into the kept counts."""
    return (
        "INSERT INTO search_name_counts (name, state, participants) "  # noqa: S608
        f"SELECT src.name, src.state, sum(src.d) FROM ({source}) AS src GROUP BY src.name, src.state "
        "HAVING sum(src.d) <> 0 ORDER BY src.name, src.state "
        "ON CONFLICT (name, state) DO UPDATE SET participants = search_name_counts.participants + "
        "excluded.participants"
    )


def names_gone_sql(source: str) -> str:
    """The DELETE of the names of `source` no one in that state bears any more: a name left behind (by a purge,
    a rename, a move) is kept nowhere."""
    return (
        "DELETE FROM search_name_counts WHERE participants = 0 AND name <> '' "  # noqa: S608
        f"AND name IN (SELECT src.name FROM ({source}) AS src WHERE src.d < 0)"
    )


@sa.event.listens_for(SearchGramCount.__table__, "after_create")
def _start_at_zero(table: sa.Table, connection: sa.Connection, **_kw: Any) -> None:
    """A new database keeps its counts from the first participant on (the empty piece's rows: kept, none yet)."""
    connection.execute(table.insert(), [{"gram": "", "state": s.value, "participants": 0} for s in State])


def _pieces(dialect: str, source: str, lengths: tuple[int, ...], empty: bool) -> str:
    """The CTEs of a statement over the pieces of `source`, a query of rows (k: a key, name and aliases lowered,
    and what else the statement takes of them): `grams` holds each row's distinct pieces of these lengths (and the
    empty piece, if `empty`). On SQLite the positions are read off `search_positions` (ceasefire.models.people), on
    PostgreSQL generate_series."""
    sizes = " UNION ALL ".join(f"SELECT {n} AS n" for n in lengths)
    if dialect == "sqlite":
        positions = "JOIN search_positions AS p ON p.i <= length(t.s) - z.n + 1"
    else:
        positions = "CROSS JOIN LATERAL generate_series(1, length(t.s) - z.n + 1) AS p(i)"
    # No value of a request is written into it: `source` binds them.
    return (
        f"WITH src AS ({source}), "  # noqa: S608
        "texts AS (SELECT k, name AS s FROM src UNION ALL SELECT k, aliases AS s FROM src), "
        "grams AS (SELECT t.k, substr(t.s, p.i, z.n) AS gram "
        f"FROM texts AS t CROSS JOIN ({sizes}) AS z {positions} "
        "WHERE substr(t.s, p.i, 1) <> ' ' AND substr(t.s, p.i + z.n - 1, 1) <> ' ' "
        + ("UNION SELECT k, '' AS gram FROM src) " if empty else "GROUP BY 1, 2) ")
    )


def grams_sql(dialect: str, source: str) -> str:
    """The INSERT of the pieces of `source` (rows of k, name and aliases lowered, state, and d: how many to add, or
    take out when negative), summed by piece and state, into the kept counts."""
    return _pieces(dialect, source, tuple(range(1, GRAM_MAX + 1)), True) + (  # noqa: S608
        "INSERT INTO search_gram_counts (gram, state, participants) "
        "SELECT g.gram, src.state, sum(src.d) FROM grams AS g JOIN src ON src.k = g.k "
        "GROUP BY g.gram, src.state HAVING sum(src.d) <> 0 ORDER BY g.gram, src.state "
        "ON CONFLICT (gram, state) DO UPDATE SET participants = search_gram_counts.participants + "
        "excluded.participants"
    )


def postings_sql(dialect: str, source: str, add: bool) -> str:
    """The INSERT (`add`) or DELETE of the postings of `source` (rows of k: the participant's id, name and aliases
    lowered, last_name, first_name, state): each of their distinct pieces of the POSTED lengths, in the key's
    order."""
    pieces = _pieces(dialect, source, POSTED, False)
    if add:
        return pieces + (  # noqa: S608
            "INSERT INTO search_postings (gram, last_name, first_name, participant_id, state) "
            "SELECT g.gram, src.last_name, src.first_name, src.k, src.state FROM grams AS g JOIN src ON src.k = g.k"
            " ORDER BY 1, 2, 3, 4"
        )
    return pieces + (  # noqa: S608
        "DELETE FROM search_postings WHERE (gram, last_name, first_name, participant_id) IN "
        "(SELECT g.gram, src.last_name, src.first_name, src.k FROM grams AS g JOIN src ON src.k = g.k)"
    )


# refresh()'s scratch tables: each distinct pair of lowered name and aliases (k), its pieces, and who bears it.
_SCRATCH = ("search_refresh_names", "search_refresh_pieces", "search_refresh_people")
_LOWERED = "lower(first_name || ' ' || last_name) AS name, lower(coalesce(aliases, '')) AS aliases"


def refresh(session: Session | Any) -> None:
    """Every row anew, after a bulk load that went around the ORM. Each distinct pair of lowered name and aliases is
    cut into pieces once (a program of 150,000 bears some 17,000: people copied from the same few hundred names), and
    the counts and postings are its pieces joined to the people who bear it."""
    connection = session.connection()
    dialect = connection.dialect.name
    for table in _SCRATCH:
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
    connection.exec_driver_sql("CREATE TEMPORARY TABLE search_refresh_names (k INTEGER, name TEXT, aliases TEXT)")
    connection.exec_driver_sql(
        "INSERT INTO search_refresh_names (k, name, aliases) SELECT row_number() OVER (ORDER BY name, aliases), "  # noqa: S608
        f"name, aliases FROM (SELECT DISTINCT {_LOWERED} FROM participants WHERE purged_at IS NULL) AS pairs"
    )
    connection.exec_driver_sql("CREATE INDEX search_refresh_names_pair ON search_refresh_names (name, aliases)")
    connection.exec_driver_sql("CREATE TEMPORARY TABLE search_refresh_pieces (k INTEGER, gram TEXT)")
    pieces = _pieces(dialect, "SELECT k, name, aliases FROM search_refresh_names", tuple(range(1, GRAM_MAX + 1)), True)
    connection.exec_driver_sql(pieces + "INSERT INTO search_refresh_pieces (k, gram) SELECT k, gram FROM grams")  # noqa: S608
    connection.exec_driver_sql("CREATE INDEX search_refresh_pieces_k ON search_refresh_pieces (k)")
    connection.exec_driver_sql(
        "CREATE TEMPORARY TABLE search_refresh_people AS SELECT n.k, p.id, p.last_name, p.first_name, p.state "
        "FROM participants AS p JOIN search_refresh_names AS n "
        "ON n.name = lower(p.first_name || ' ' || p.last_name) AND n.aliases = lower(coalesce(p.aliases, '')) "
        "WHERE p.purged_at IS NULL"
    )
    if dialect == "postgresql":  # a temporary table has no statistics until it is analyzed
        connection.exec_driver_sql(f"ANALYZE {', '.join(_SCRATCH)}")
    connection.execute(sa.delete(SearchGramCount))
    connection.exec_driver_sql(
        "INSERT INTO search_gram_counts (gram, state, participants) SELECT c.gram, b.state, sum(b.d) "
        "FROM search_refresh_pieces AS c JOIN (SELECT k, state, count(*) AS d FROM search_refresh_people "
        "GROUP BY k, state) AS b ON b.k = c.k GROUP BY c.gram, b.state ORDER BY c.gram, b.state"
    )
    missing = set(State) - set(session.scalars(sa.select(SearchGramCount.state).where(SearchGramCount.gram == "")))
    if missing:  # a state nobody is in: kept, at zero
        connection.execute(sa.insert(SearchGramCount), [{"gram": "", "state": s.value, "participants": 0}
                                                        for s in sorted(missing)])
    connection.execute(sa.delete(SearchNameCount))
    connection.execute(sa.insert(SearchNameCount), _empty_names())
    connection.exec_driver_sql(NAME_COUNTS_FILL)
    connection.execute(sa.delete(SearchPosting))
    # In the key's order on SQLite, whose postings are their key (no rowid). On PostgreSQL unsorted: the bulk seed
    # sets their key aside around this and builds it once after (ceasefire.cli seed-demo); at 200,000 participants
    # (4.4 million postings) the sorted insert took 39 s, the unsorted one 15 and the key 13.
    posted = ", ".join(str(n) for n in POSTED)
    connection.exec_driver_sql(
        "INSERT INTO search_postings (gram, last_name, first_name, participant_id, state) "  # noqa: S608
        "SELECT c.gram, p.last_name, p.first_name, p.id, p.state FROM search_refresh_pieces AS c "
        f"JOIN search_refresh_people AS p ON p.k = c.k WHERE length(c.gram) IN ({posted})"
        + (" ORDER BY 1, 2, 3, 4" if dialect != "postgresql" else "")
    )
    for table in _SCRATCH:
        connection.exec_driver_sql(f"DROP TABLE {table}")


_WATCHED = ("first_name", "last_name", "aliases", "state", "purged_at")


def _values(p: Participant, before: bool) -> tuple[Any, ...] | None:
    """The watched columns as the flush finds them (or, `before`, as the database held them); None when the
    participant counts nowhere (purged)."""
    insp = sa.inspect(p)
    values = []
    for name in _WATCHED:
        history = insp.attrs[name].history
        values.append(history.deleted[0] if before and history.deleted else getattr(p, name))
    first, last, aliases, state, purged_at = values
    if purged_at is not None:
        return None
    return first or "", last or "", aliases, State(state or State.IDENTIFIED).value


def _moves(session: Session) -> list[tuple[int, tuple[Any, ...], int]]:
    """(id, the watched values, +1 or -1) of each participant the flush changed where it counts."""
    moves: list[tuple[int, tuple[Any, ...] | None, int]] = []
    for p in session.new:
        if isinstance(p, Participant):
            moves.append((p.id, _values(p, False), 1))
    for p in session.dirty:
        if isinstance(p, Participant) and session.is_modified(p, include_collections=False):
            insp = sa.inspect(p)
            if any(insp.attrs[name].history.has_changes() for name in _WATCHED):
                before, after = _values(p, True), _values(p, False)
                if before != after:
                    moves += [(p.id, before, -1), (p.id, after, 1)]
    for p in session.deleted:
        if isinstance(p, Participant):
            moves.append((p.id, _values(p, True), -1))
    return [(ident, values, d) for ident, values, d in moves if values is not None]


def _source(connection: sa.Connection, rows: list[tuple[int, tuple[Any, ...], int]], params: dict[str, Any]) -> str:
    """A query of the rows' values, bound (k: the id, name and aliases lowered, last_name, first_name, state, d)."""
    selects = []
    for i, (ident, (first, last, aliases, state), d) in enumerate(rows):
        selects.append(
            f"SELECT CAST(:k{i} AS INTEGER) AS k, lower(CAST(:f{i} AS TEXT) || ' ' || CAST(:l{i} AS TEXT)) AS name, "
            f"lower(coalesce(CAST(:a{i} AS TEXT), '')) AS aliases, CAST(:l{i} AS VARCHAR({limits.NAME})) AS "
            f"last_name, CAST(:f{i} AS VARCHAR({limits.NAME})) AS first_name, CAST(:s{i} AS VARCHAR(32)) AS state, "
            f"{d} AS d"
        )
        params.update({f"k{i}": ident, f"f{i}": first, f"l{i}": last, f"a{i}": aliases, f"s{i}": state})
    return union_all_sql(connection, selects)  # a flush of many people: nested within SQLite's limit


@sa.event.listens_for(Session, "after_flush")
def _keep(session: Session, _context: Any) -> None:
    """After the flush (a new participant has its id), before the history is reset: the counts (of pieces and of
    names; a name no one bears any more taken out) shifted, the postings of the values left taken out and those of
    the values entered put in."""
    moves = _moves(session)
    if not moves:
        return
    connection = session.connection()
    dialect = connection.dialect.name
    params: dict[str, Any] = {}
    counted = [(i, values, d) for i, (_ident, values, d) in enumerate(moves)]  # a key a row: the counts sum them
    source = _source(connection, counted, params)
    connection.execute(sa.text(grams_sql(dialect, source)), params)
    connection.execute(sa.text(names_sql(source)), params)
    if any(d < 0 for _ident, _values, d in moves):
        connection.execute(sa.text(names_gone_sql(source)), params)
    for d in (-1, 1):
        rows = [move for move in moves if move[2] == d]
        if rows:
            params = {}
            connection.execute(sa.text(postings_sql(dialect, _source(connection, rows, params), add=d > 0)), params)
