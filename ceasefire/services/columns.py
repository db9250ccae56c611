"""Reading columns, not ORM objects, for what a list loads beside its rows (names, referrals, enforcement...).

A list sends a few such statements a request, each for the ids of one page. Built once (with an expanding `ids`
parameter) and run on the session's connection, a statement costs a fraction of one built anew and run through
the session, which would compile it for the ORM each time; what the session holds unsaved is flushed first, as
the session's own autoflush would, so the rows read are those a session query would read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from ceasefire.extensions import db

IDS: sa.BindParameter[int] = sa.bindparam("ids", expanding=True)  # the ids of a page, in a statement built once


def rows(statement: sa.Executable, **params: Any) -> Sequence[sa.Row]:
    """The rows of a select of columns, in the session's transaction."""
    session = db.session
    if session.autoflush:
        session.flush()  # nothing to do (and next to no time) when nothing is pending
    return session.connection().execute(statement, params).all()


_NAMES: dict[Any, sa.Select] = {}


def names(model: Any, ids: Iterable[int | None]) -> dict[int, str]:
    """The `name` of each of the model's rows with these ids."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    statement = _NAMES.get(model)
    if statement is None:
        statement = _NAMES[model] = sa.select(model.id, model.name).where(model.id.in_(IDS))
    return dict(rows(statement, ids=list(wanted)))  # each row is (id, name)
