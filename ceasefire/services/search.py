"""Searching participants by name and alias: the one search function of every list that takes `q`.

The meaning is the substring match the lists always had: `q` (trimmed, any case) is part of "first last" or of the
aliases. An index serves it: on PostgreSQL trigram GIN indexes on exactly the two lowered expressions compared here;
on SQLite an FTS5 trigram table (ceasefire.models.people) that narrows the rows to candidates, which the same
comparison then checks, so both databases answer alike. A `q` of one or two letters has no trigram, and is compared
row by row as before.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ceasefire.extensions import db
from ceasefire.models import Participant

# Written into the SQL, not bound, so that PostgreSQL sees the indexed expression itself.
SPACE: sa.ColumnElement[str] = sa.literal_column("' '")


def name_matches(q: str) -> sa.ColumnElement[bool]:
    """A condition on Participant: its name or aliases contain `q`, whatever the case."""
    needle = q.strip().lower()
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    like = f"%{escaped}%"
    full_name = Participant.first_name.concat(SPACE).concat(Participant.last_name)
    exact = sa.or_(
        sa.func.lower(full_name).like(like, escape="\\"),
        sa.func.lower(Participant.aliases).like(like, escape="\\"),
    )
    if len(needle) < 3 or db.session.get_bind().dialect.name != "sqlite":
        return exact
    phrase = '"' + needle.replace('"', '""') + '"'
    fts = sa.table("participant_names")
    candidates: sa.Select[tuple[int]] = sa.select(sa.literal_column("rowid")).select_from(fts).where(
        sa.text("participant_names MATCH :phrase").bindparams(phrase=phrase)
    )
    return sa.and_(Participant.id.in_(candidates), exact)


def by_name(q: str | None) -> list[Any]:
    """The lists' order, by name then id. On PostgreSQL a search that the trigram indexes serve sorts the rows they
    found (a few thousand) instead of walking the name index in the hope of meeting them early, which reads hundreds
    of thousands of rows when the matches sit together under one letter ("jon": 1.2 s at 1,000,000, sorted 0.1 s)."""
    last: Any = Participant.last_name
    if q and len(q.strip()) >= 3 and db.session.get_bind().dialect.name == "postgresql":
        last = Participant.last_name.concat(sa.literal_column("''"))  # the same order, but no index's
    return [last, Participant.first_name, Participant.id]
