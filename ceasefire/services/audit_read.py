"""The audit trail page's read side: a window of the trail, newest first, moved through by "older" and "newer" from a
row's place (keyset), as audit tools do, never by a page number whose offset would walk millions of rows.

The trail grows with every request: a large program's holds millions of rows, and counting them all for a pager took
longer than the rest of the page. A window counts at most COUNT_CAP rows of what the filters select; beyond that the
page says "more than" that many. Each window runs the same statements whatever the trail holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ceasefire.errors import ValidationFailed
from ceasefire.extensions import db
from ceasefire.models import AuditEvent, User
from ceasefire.services import audit_trail, read
from ceasefire.services.records import AuditRecord

COUNT_CAP = 10_000  # a window counts what its filters select up to this many rows, and says "more than" beyond


@dataclass(frozen=True)
class AuditWindow:
    items: tuple[AuditRecord, ...]
    total: int  # exact when not `more`; else COUNT_CAP
    more: bool  # the filters select more than COUNT_CAP rows
    newer: int | None  # the id to ask for rows newer than (the first row shown), when there are any
    older: int | None  # the id to ask for rows older than (the last row shown), when there are any
    newest: bool  # the window starts at the newest row the filters select

    @classmethod
    def empty(cls) -> AuditWindow:
        return cls((), 0, False, None, None, True)


def _place(ident: int, name: str) -> tuple[datetime, int]:
    at = db.session.scalar(sa.select(AuditEvent.at).where(AuditEvent.id == ident))
    if at is None:
        raise ValidationFailed("There is no such row of the audit trail to move from.",
                               {name: f"No row of the audit trail has the id {ident}."})
    return at, ident


def _before(at: datetime, ident: int) -> Any:
    """Rows older than (at, id) in the trail's order; `at <= ` first, so that the date's index serves it."""
    return sa.and_(AuditEvent.at <= at, sa.or_(AuditEvent.at < at, AuditEvent.id < ident))


def _after(at: datetime, ident: int) -> Any:
    return sa.and_(AuditEvent.at >= at, sa.or_(AuditEvent.at > at, AuditEvent.id > ident))


def window(user: User, per_page: int, older_than: int | None = None, newer_than: int | None = None,
           names: bool = True, **filters: Any) -> AuditWindow:
    """`per_page` rows of the trail the filters select, newest first: the newest, or those just older than the row
    `older_than`, or just newer than the row `newer_than` (ids of rows shown before)."""
    query = audit_trail.query(user, **filters)  # asks the policy; newest first: at desc, id desc
    counted = db.session.scalar(sa.select(sa.func.count()).select_from(
        query.with_only_columns(AuditEvent.id).order_by(None).limit(COUNT_CAP + 1).subquery()
    )) or 0
    if newer_than is not None:
        at, ident = _place(newer_than, "newer_than")
        rows = list(db.session.scalars(
            query.where(_after(at, ident)).order_by(None).order_by(AuditEvent.at, AuditEvent.id).limit(per_page + 1)
        ))
        more_newer, rows = len(rows) > per_page, rows[:per_page][::-1]
        more_older = True
    else:
        if older_than is not None:
            at, ident = _place(older_than, "older_than")
            query = query.where(_before(at, ident))
        rows = list(db.session.scalars(query.limit(per_page + 1)))
        more_older, rows = len(rows) > per_page, rows[:per_page]
        more_newer = older_than is not None
    if more_newer and not rows:  # nothing newer than the row asked from: it is the newest
        more_newer = False
    return AuditWindow(
        tuple(read.audit_records(rows, names)), min(counted, COUNT_CAP), counted > COUNT_CAP,
        rows[0].id if rows and more_newer else None, rows[-1].id if rows and more_older else None, not more_newer,
    )
