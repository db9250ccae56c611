"""How many participants in each state hold each short piece of text in their name or aliases: the count of a name
search of up to GRAM_MAX letters (ceasefire.services.search), read off a row or a few instead of off every match.

A piece ("gram") is any run of one to GRAM_MAX characters of lower(first_name || ' ' || last_name) or of
lower(aliases), as the database's own lower() writes them, that neither starts nor ends with a space (a search's `q`
is trimmed, so no such piece is ever looked for). A participant counts once for each distinct piece they hold, in
their state; purged participants are left out. So a `q` of at most GRAM_MAX letters is part of someone's lowered
name or aliases exactly when it is one of their pieces, and its row per state is the count of the substring match.
The empty piece, held by everyone, counts everyone in each state: its rows missing (a table emptied) say "not kept",
and the search then counts off its index, so a total is never wrong.

The rows are kept in the transaction of every change: before each flush, one statement takes the pieces of the
participants the flush inserts, renames, moves to another state, purges or deletes out of the rows (as the database
holds them, their old values) and puts them back in (their new values), in the order of the key, so that two
transactions never wait on each other crosswise. The pieces are cut in SQL, by the database's lower(), never by
Python's, so that they are the search's own. What the ORM does not see, a bulk INSERT ... SELECT
(ceasefire.demo_bulk), is followed by refresh() (from counts.refresh()).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from ceasefire.extensions import Model
from ceasefire.models.base import enum_type
from ceasefire.models.enums import State
from ceasefire.models.people import Participant

GRAM_MAX = 3  # the longest piece kept: a longer `q` is counted off the search index


class SearchGramCount(Model):
    __tablename__ = "search_gram_counts"

    gram: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    state: Mapped[State] = mapped_column(enum_type(State, "state"), primary_key=True)
    participants: Mapped[int] = mapped_column(sa.Integer, default=0)


@sa.event.listens_for(SearchGramCount.__table__, "after_create")
def _start_at_zero(table: sa.Table, connection: sa.Connection, **_kw: Any) -> None:
    """A new database keeps its counts from the first participant on (the empty piece's rows: kept, none yet)."""
    connection.execute(table.insert(), [{"gram": "", "state": s.value, "participants": 0} for s in State])


def grams_sql(dialect: str, source: str) -> str:
    """The INSERT of the pieces of `source`, a statement's CTE of rows (k: a key, name and aliases lowered, state,
    d: how many to add, or take out when negative), summed by piece and state, into the kept rows. On SQLite the
    positions are read off `search_positions` (ceasefire.models.people), on PostgreSQL generate_series."""
    lengths = " UNION ALL ".join(f"SELECT {n} AS n" for n in range(1, GRAM_MAX + 1))
    if dialect == "sqlite":
        positions = "JOIN search_positions AS p ON p.i <= length(t.s) - z.n + 1"
    else:
        positions = "CROSS JOIN LATERAL generate_series(1, length(t.s) - z.n + 1) AS p(i)"
    # No value of a request is written into it: `source` binds them.
    return (
        f"WITH src AS ({source}), "  # noqa: S608
        "texts AS (SELECT k, name AS s FROM src UNION ALL SELECT k, aliases AS s FROM src), "
        "grams AS (SELECT t.k, substr(t.s, p.i, z.n) AS gram "
        f"FROM texts AS t CROSS JOIN ({lengths}) AS z {positions} "
        "WHERE substr(t.s, p.i, 1) <> ' ' AND substr(t.s, p.i + z.n - 1, 1) <> ' ' "
        "UNION SELECT k, '' AS gram FROM src) "
        "INSERT INTO search_gram_counts (gram, state, participants) "
        "SELECT g.gram, src.state, sum(src.d) FROM grams AS g JOIN src ON src.k = g.k "
        "GROUP BY g.gram, src.state HAVING sum(src.d) <> 0 ORDER BY g.gram, src.state "
        "ON CONFLICT (gram, state) DO UPDATE SET participants = search_gram_counts.participants + "
        "excluded.participants"
    )


def refresh(session: Session | Any) -> None:
    """Every row anew, after a bulk load that went around the ORM: the participants are grouped by their lowered
    names, aliases and state first, so that each distinct one is cut into pieces once."""
    dialect = session.get_bind().dialect.name
    session.execute(sa.delete(SearchGramCount))
    source = (
        "SELECT row_number() OVER () AS k, name, aliases, state, d FROM (SELECT lower(first_name || ' ' || "
        "last_name) AS name, lower(coalesce(aliases, '')) AS aliases, state, count(*) AS d FROM participants "
        "WHERE purged_at IS NULL GROUP BY 1, 2, 3) AS people"
    )
    session.execute(sa.text(grams_sql(dialect, source)))
    missing = set(State) - set(session.scalars(sa.select(SearchGramCount.state).where(SearchGramCount.gram == "")))
    if missing:  # a state nobody is in: kept, at zero
        session.execute(sa.insert(SearchGramCount), [{"gram": "", "state": s.value, "participants": 0}
                                                     for s in sorted(missing)])


_WATCHED = ("first_name", "last_name", "aliases", "state", "purged_at")


def _values(p: Participant, before: bool) -> tuple[Any, ...] | None:
    """The watched columns as the flush finds them (or, `before`, as the database still holds them); None when
    the participant counts nowhere (purged)."""
    insp = sa.inspect(p)
    values = []
    for name in _WATCHED:
        history = insp.attrs[name].history
        values.append(history.deleted[0] if before and history.deleted else getattr(p, name))
    first, last, aliases, state, purged_at = values
    if purged_at is not None:
        return None
    return first or "", last or "", aliases, State(state or State.IDENTIFIED).value


def _moves(session: Session) -> list[tuple[tuple[Any, ...], int]]:
    """(the watched values, +1 or -1) of each participant the flush changes where it counts."""
    moves: list[tuple[tuple[Any, ...] | None, int]] = []
    for p in session.new:
        if isinstance(p, Participant):
            moves.append((_values(p, False), 1))
    for p in session.dirty:
        if isinstance(p, Participant) and session.is_modified(p, include_collections=False):
            insp = sa.inspect(p)
            if any(insp.attrs[name].history.has_changes() for name in _WATCHED):
                before, after = _values(p, True), _values(p, False)
                if before != after:
                    moves += [(before, -1), (after, 1)]
    for p in session.deleted:
        if isinstance(p, Participant):
            moves.append((_values(p, True), -1))
    return [(values, d) for values, d in moves if values is not None]


@sa.event.listens_for(Session, "before_flush")
def _keep(session: Session, _context: Any, _instances: Any) -> None:
    moves = _moves(session)
    if not moves:
        return
    rows, params = [], {}
    for i, ((first, last, aliases, state), d) in enumerate(moves):
        rows.append(f"SELECT {i} AS k, lower(CAST(:f{i} AS TEXT) || ' ' || CAST(:l{i} AS TEXT)) AS name, "
                    f"lower(coalesce(CAST(:a{i} AS TEXT), '')) AS aliases, CAST(:s{i} AS VARCHAR(32)) AS state, "
                    f"{d} AS d")
        params.update({f"f{i}": first, f"l{i}": last, f"a{i}": aliases, f"s{i}": state})
    connection = session.connection()
    connection.execute(sa.text(grams_sql(connection.dialect.name, " UNION ALL ".join(rows))), params)
