"""Reading columns, not ORM objects, for what a list loads beside its rows (names, referrals, enforcement...).

A list sends a few such statements a request, each for the ids of one page. Each is built once, with the page's
ids as one parameter (among()), and run on the session's connection: a statement built anew and run through the
session costs several times more (the ORM compiles it each time, and a list of 50 ids written out as 50 parameters
is rendered anew at every run). What the session holds unsaved is flushed first, as the session's own autoflush
would, so the rows read are those a session query would read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

from ceasefire.extensions import db


class IdList(TypeDecorator):
    """A list of ids as one parameter: an integer array on PostgreSQL, a JSON array on SQLite."""

    impl = sa.String
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.ARRAY(sa.Integer))
        return dialect.type_descriptor(sa.String())

    def process_bind_param(self, value, dialect):
        ids = [int(i) for i in value]
        return ids if dialect.name == "postgresql" else json.dumps(ids)


class _Among(FunctionElement):
    """`column` is one of the ids in `ids` (an IdList parameter)."""

    type = sa.Boolean()
    inherit_cache = True
    _is_implicitly_boolean = True  # a condition as it stands: no "= 1" after it where booleans are integers


@compiles(_Among, "postgresql")
def _among_postgresql(element: _Among, compiler, **kw) -> str:
    column, ids = (compiler.process(c, **kw) for c in element.clauses)
    return f"{column} = ANY({ids})"


@compiles(_Among, "sqlite")
def _among_sqlite(element: _Among, compiler, **kw) -> str:
    column, ids = (compiler.process(c, **kw) for c in element.clauses)
    return f"{column} IN (SELECT value FROM json_each({ids}))"  # noqa: S608 - compiled SQL: a column, a bound parameter


IDS = sa.bindparam("ids", type_=IdList())  # the ids of a page, in a statement built once


def among(column: Any, ids: sa.BindParameter = IDS) -> sa.ColumnElement[bool]:
    """The condition that the column holds one of the ids the statement is run with (by default `ids=`)."""
    return _Among(column, ids)


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
        statement = _NAMES[model] = sa.select(model.id, model.name).where(among(model.id))
    return dict(rows(statement, ids=list(wanted)))  # each row is (id, name)
