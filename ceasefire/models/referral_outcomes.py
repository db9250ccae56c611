"""What the referral outcomes report (services.reports, API.md "Referral outcomes") reads of each referral, kept on
the referral's own row so that the report reads no referral event: `reached`, the statuses its events ever reached
(one bit each, models.referrals.REACHED_BITS), and `answered_at`, the moment of its first accept or decline event
(null while it has none), with `answer_us`, the microseconds from its sending to that answer. With its service,
sent_at and status in one index (ix_referrals_service_sent, all of them key columns), a page of services is counted
off that index alone; on SQLite their medians are read off ix_referrals_answers (service, answer_us) in order.

Both are worked out again from the referral's events, in the transaction of every change: after each flush that
inserts, changes or deletes a referral event (a referral sent, answered, moved on or withdrawn; a referral deleted
with its events) or inserts a referral, those referrals get theirs anew from their events (one UPDATE, only the rows
that differ written). An UPDATE or DELETE of referral_events run through the session (a test's or a script's, none
of the app's: a purge's UPDATE erases free text alone) does the same for the referrals whose events it picks, for
every referral when it has no WHERE or moves events to another referral. A bulk INSERT ... SELECT
(ceasefire.demo_bulk) copies both with the rest of each referral (the moment moved back in time as its events are),
and counts.refresh() works every referral's out again after it, writing those that differ.
"""

from __future__ import annotations

from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from ceasefire.models import stages
from ceasefire.models.base import bulk_changes
from ceasefire.models.referrals import ANSWERS, REACHED_BITS, Referral, ReferralEvent

CHUNK = 500  # referrals worked out by one statement
_PENDING = "referral_outcomes"  # session.info: the referrals a flush wrote, their loaded values to expire after it


def _worked_out(referral_ids: list[int] | None) -> sa.Subquery:
    """(id, reached, answered_at) of each referral (of `referral_ids`; every one when None), from its events."""
    referrals = cast(sa.Table, Referral.__table__).alias("r")
    events = cast(sa.Table, ReferralEvent.__table__).alias("e")
    bit = sa.case(*((events.c.to_status == status.value, n) for status, n in REACHED_BITS.items()), else_=0)
    answered = sa.case((events.c.to_status.in_([s.value for s in ANSWERS]), events.c.at))
    select = (
        sa.select(referrals.c.id, sa.func.coalesce(sa.func.sum(sa.distinct(bit)), 0).label("reached"),
                  sa.func.min(answered).label("answered_at"))
        .select_from(referrals.outerjoin(events, events.c.referral_id == referrals.c.id))
        .group_by(referrals.c.id)
    )
    if referral_ids is not None:
        select = select.where(referrals.c.id.in_(referral_ids))
    return select.subquery("worked_out")


def keep(connection: sa.Connection, referral_ids: list[int] | None) -> None:
    """The kept columns of these referrals (every referral's when None) anew from their events; only the rows whose
    values differ are written."""
    table = cast(sa.Table, Referral.__table__)
    chunks = [None] if referral_ids is None else [
        referral_ids[start:start + CHUNK] for start in range(0, len(referral_ids), CHUNK)]
    for chunk in chunks:
        found = _worked_out(chunk)
        answer_us = stages.span_microseconds(found.c.answered_at, table.c.sent_at, connection.dialect.name)
        connection.execute(
            sa.update(table)
            .where(table.c.id == found.c.id, sa.or_(table.c.reached.is_distinct_from(found.c.reached),
                                                    table.c.answered_at.is_distinct_from(found.c.answered_at),
                                                    table.c.answer_us.is_distinct_from(answer_us)))
            .values(reached=found.c.reached, answered_at=found.c.answered_at, answer_us=answer_us)
        )


def refresh(session: Session | Any) -> None:
    """Every referral's anew (after a bulk load that went around the ORM)."""
    keep(session.connection(), None)


_WATCHED = ("to_status", "referral_id", "at")
_KEPT = ("reached", "answered_at", "answer_us")  # a referral's columns kept here


def _touched(session: Session) -> set[int]:
    """The referrals whose events the flush inserted, changed or deleted, and the referrals it inserted."""
    found: set[int] = set()
    for obj in session.new:
        if isinstance(obj, ReferralEvent):
            found.add(obj.referral_id)
        elif isinstance(obj, Referral):
            found.add(obj.id)
    for obj in session.dirty:
        if isinstance(obj, ReferralEvent) and stages.changed(obj, _WATCHED):
            found |= stages.old_and_new(obj, "referral_id")
        elif isinstance(obj, Referral) and stages.changed(obj, (*_KEPT, "sent_at")):
            found.add(obj.id)
    for obj in session.deleted:
        if isinstance(obj, ReferralEvent):
            found |= stages.old_and_new(obj, "referral_id")
    return found - {None}


@sa.event.listens_for(Session, "after_flush")
def _keep(session: Session, _context: Any) -> None:
    touched = sorted(_touched(session))
    if touched:
        keep(session.connection(), touched)
        session.info.setdefault(_PENDING, set()).update(touched)


@sa.event.listens_for(Session, "after_flush_postexec")
def _expire(session: Session, _context: Any) -> None:
    """The referrals loaded in the session forget the values the flush wrote around them (read again if asked)."""
    for referral_id in session.info.pop(_PENDING, ()):
        obj = session.identity_map.get(identity_key(Referral, referral_id))
        if obj is not None:
            session.expire(obj, list(_KEPT))


@sa.event.listens_for(Session, "do_orm_execute")
def _keep_bulk(state: Any) -> Any:
    """An UPDATE or DELETE of referral events run through the session: the referrals whose events it picks anew
    after it (found before it, as its WHERE may name the columns it changes), every referral's when it has no WHERE
    or moves events to another referral."""
    changed = bulk_changes(state, {"referral_events": set(_WATCHED)})
    if not changed:
        return None
    statement = state.statement
    connection = state.session.connection()
    picked: list[int] | None = None
    if statement.whereclause is not None and "referral_id" not in changed:
        table = statement.table
        picked = sorted(set(connection.execute(
            sa.select(table.c.referral_id).where(statement.whereclause)).scalars()))
    result = state.invoke_statement()
    keep(connection, picked)
    return result
