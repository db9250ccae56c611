"""The audit trail: append-only, written by ceasefire.services.audit alone."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from ceasefire.extensions import Model
from ceasefire.models.base import UTCDateTime, utcnow


class AuditEvent(Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(sa.String(32), index=True)
    object_type: Mapped[str | None] = mapped_column(sa.String(32))
    object_id: Mapped[int | None] = mapped_column(index=True)
    # The participant a row is about, whatever its object (the participant, one of their referrals…), so a
    # supervisor can see everything done with one person's file.
    participant_id: Mapped[int | None] = mapped_column(index=True)
    ip: Mapped[str | None] = mapped_column(sa.String(64))
    face: Mapped[str | None] = mapped_column(sa.String(8))
    detail: Mapped[str | None] = mapped_column(sa.String(500))


# The database itself keeps the trail append-only: not a bug, not a console session, can rewrite it.
# (sa.DDL formats with %, so the PL/pgSQL placeholder is written %%.)
APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: %% refused', TG_OP;
END;
$$ LANGUAGE plpgsql
"""
APPEND_ONLY_TRIGGER = """
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()
"""
# Row triggers do not see TRUNCATE, which empties the table at once: refused too, whoever asks (the owner included).
NO_TRUNCATE_TRIGGER = """
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()
"""
SQLITE_TRIGGERS = tuple(
    f"""
CREATE TRIGGER audit_events_no_{op.lower()} BEFORE {op} ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: {op} refused'); END
"""
    for op in ("UPDATE", "DELETE")
)
for _statement in (APPEND_ONLY_FUNCTION, APPEND_ONLY_TRIGGER, NO_TRUNCATE_TRIGGER):
    sa.event.listen(AuditEvent.__table__, "after_create", sa.DDL(_statement).execute_if(dialect="postgresql"))
for _statement in SQLITE_TRIGGERS:
    sa.event.listen(AuditEvent.__table__, "after_create", sa.DDL(_statement).execute_if(dialect="sqlite"))


# The trail's total, kept: counting millions of rows for each unfiltered read of the trail took longer than the rest
# of the request. Each transaction adds the rows it appended to one of SHARDS rows chosen at random, at its commit
# (the last statement before it), so writers seldom share a row and hold its lock only for their commit, after every
# other lock they take: no deadlock. The total is the sum of the shards. A bulk load around the ORM
# (ceasefire.demo_bulk) is followed by refresh_kept_total(); rows missing say "not kept" and the reader counts.
SHARDS = 16
_PENDING = "audit_events_pending"  # session.info: rows this transaction flushed and has not yet added to a shard


class AuditCount(Model):
    __tablename__ = "audit_counts"

    shard: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    events: Mapped[int] = mapped_column(sa.BigInteger, default=0)


@sa.event.listens_for(AuditCount.__table__, "after_create")
def _shards_at_zero(table: sa.Table, connection: sa.Connection, **_kw: Any) -> None:
    connection.execute(table.insert(), [{"shard": s, "events": 0} for s in range(SHARDS)])


def kept_total(session: Session | Any) -> int | None:
    """How many rows the trail holds as this transaction sees it; None when the count is not kept."""
    found = session.execute(sa.select(sa.func.count(), sa.func.sum(AuditCount.events))).one()  # flushes first
    return None if found[0] != SHARDS else int(found[1]) + session.info.get(_PENDING, 0)


def refresh_kept_total(session: Session | Any) -> None:
    """Count the trail anew (after a bulk load that went around the ORM), all in shard 0."""
    counted = session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) or 0  # flushes first
    session.info.pop(_PENDING, None)  # counted now, with the rest
    session.execute(sa.delete(AuditCount))
    session.execute(sa.insert(AuditCount), [{"shard": s, "events": counted if s == 0 else 0} for s in range(SHARDS)])


@sa.event.listens_for(Session, "before_flush")
def _note(session: Session, _context: Any, _instances: Any) -> None:
    added = sum(1 for row in session.new if isinstance(row, AuditEvent))
    if added:
        session.info[_PENDING] = session.info.get(_PENDING, 0) + added


@sa.event.listens_for(Session, "before_commit")
def _add(session: Session) -> None:
    session.flush()  # what the commit would flush, noted now
    added = session.info.pop(_PENDING, 0)
    if added:
        table = sa.table("audit_counts", sa.column("shard"), sa.column("events"))
        session.connection().execute(  # Core: no autoflush
            sa.update(table).where(table.c.shard == random.randrange(SHARDS))  # noqa: S311 - spreads, not secrets
            .values(events=table.c.events + added)
        )


@sa.event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # a rollback: the rows it flushed are gone
        session.info.pop(_PENDING, None)
