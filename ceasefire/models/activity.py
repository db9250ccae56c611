"""What the program did each day, kept for the activity report: forums held, invitations delivered, custom
notifications delivered, outreach contacts made and referrals sent, counted by the day in the program's time zone
(TIMEZONE) of the moment each is counted by, and by month beside (ActivityMonth). The report sums a window's whole
months and the days of the months it cuts: a read of a few hundred small rows instead of a pass over every
invitation and referral of the program (or the thousands of days of its history).

The rows are kept in the transaction of every change, by the ORM hooks below: before a flush, the held state of
each forum the flush touches (a forum, or an invitation's check-in) is read as the database still has it; after
the flush, the records it inserted, moved to another moment or deleted, and each such forum's held state now,
shift the days' counts. A bulk load around the ORM (ceasefire.demo_bulk) is followed by refresh(), through
counts.refresh(); so is an UPDATE or DELETE through the session of a column a count depends on (_keep_bulk: a
test's or a script's, none of the app's). The row of measure "@" and the zone's name says the days are kept, and in
which zone: the report reads them only in that zone (and counts otherwise: a database emptied by hand, or a program
that changed its TIMEZONE and has not recounted with refresh())."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from ceasefire.extensions import Model
from ceasefire.models.base import add_to_counts, bulk_changes, program_zone
from ceasefire.models.enums import ForumStatus
from ceasefire.models.fieldwork import CustomNotification, OutreachContact
from ceasefire.models.forums import Forum, Invitation
from ceasefire.models.referrals import Referral

KEPT_DAY = date(1970, 1, 1)
FORUMS_HELD = "forums_held"
# The records counted on the day of one of their moments, whatever else they say: (measure, model, column).
COUNTED: tuple[tuple[str, Any, str], ...] = (
    ("invitations", Invitation, "delivered_at"),
    ("custom_notifications", CustomNotification, "delivered_at"),
    ("outreach_contacts", OutreachContact, "contacted_at"),
    ("referrals", Referral, "sent_at"),
)
_MODELS = {model: (measure, column) for measure, model, column in COUNTED}


class ActivityDay(Model):
    __tablename__ = "activity_days"

    measure: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    n: Mapped[int] = mapped_column(sa.Integer, default=0)


class ActivityMonth(Model):
    """The days' counts summed by month (`month`: its first day), kept beside them in the same transactions: a report
    over years reads its whole months here (a few hundred rows) and only the days of a month its window cuts."""

    __tablename__ = "activity_months"

    measure: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    month: Mapped[date] = mapped_column(primary_key=True)
    n: Mapped[int] = mapped_column(sa.Integer, default=0)


def by_month(days: dict[tuple[str, date], int]) -> dict[tuple[str, date], int]:
    """(measure, day) counts summed by (measure, the month's first day), those summing to 0 left out."""
    months: dict[tuple[str, date], int] = {}
    for (measure, day), n in days.items():
        key = (measure, day.replace(day=1))
        months[key] = months.get(key, 0) + n
    return {key: n for key, n in months.items() if n}


@sa.event.listens_for(ActivityDay.__table__, "after_create")
def _kept_from_the_start(table: sa.Table, connection: sa.Connection, **_kw: Any) -> None:
    connection.execute(table.insert(), [{"measure": kept_in(), "day": KEPT_DAY, "n": 0}])


def kept_in() -> str:
    """The measure of the row saying the days are kept, in the program's zone."""
    return "@" + program_zone().key


def held():
    """A forum that took place: set held, or not cancelled and somebody was checked in (as the reports say)."""
    checked_in = sa.select(Invitation.id).where(Invitation.forum_id == Forum.id, Invitation.attended.is_(True)).exists()
    return sa.or_(Forum.status == ForumStatus.HELD, sa.and_(Forum.status != ForumStatus.CANCELLED, checked_in))


def local_day(moment: datetime, zone: ZoneInfo | None = None) -> date:
    """The program's day of a moment (a naive one is UTC, as the database keeps it); `zone`, the program's, when the
    caller has it (reading the setting is most of the cost of a call)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(zone or program_zone()).date()
    except OverflowError:  # a time at the very edge of year 1 or 9999
        return moment.date()


def kept(session: Session | Any) -> bool:
    """Whether the days are kept, in the program's zone."""
    return session.execute(
        sa.select(ActivityDay.n).where(ActivityDay.measure == kept_in(), ActivityDay.day == KEPT_DAY)
    ).first() is not None


def counted(session: Session | Any) -> dict[tuple[str, date], int]:
    """Every (measure, day)'s count, counted off the records."""
    found: dict[tuple[str, date], int] = {}
    sources = [(measure, sa.select(getattr(model, column))) for measure, model, column in COUNTED]
    sources.append((FORUMS_HELD, sa.select(Forum.scheduled_at).where(held())))
    zone = program_zone()
    for measure, select in sources:
        for (moment,) in session.execute(select.execution_options(yield_per=10000)):
            if moment is not None:
                key = (measure, local_day(moment, zone))
                found[key] = found.get(key, 0) + 1
    return found


def refresh(session: Session | Any) -> None:
    """Count every day anew (after a bulk load that went around the ORM, or a change of TIMEZONE)."""
    found = counted(session)
    session.execute(sa.delete(ActivityDay))
    session.execute(sa.insert(ActivityDay), [
        {"measure": kept_in(), "day": KEPT_DAY, "n": 0},
        *({"measure": measure, "day": day, "n": n} for (measure, day), n in found.items()),
    ])
    session.execute(sa.delete(ActivityMonth))
    months = by_month(found)
    if months:
        session.execute(sa.insert(ActivityMonth), [
            {"measure": measure, "month": month, "n": n} for (measure, month), n in months.items()])


def _before(obj: Any, name: str) -> Any:
    history = sa.inspect(obj).attrs[name].history
    return history.deleted[0] if history.deleted else getattr(obj, name)


def _forum_ids(session: Session) -> set[int]:
    """The forums whose held state the flush may change: forums changed, and those of invitations changed."""
    ids: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Forum) and obj.id is not None:
            ids.add(obj.id)
        elif isinstance(obj, Invitation):
            forum = obj.__dict__.get("forum")  # as set, never loaded here
            for fid in (obj.forum_id, _before(obj, "forum_id"), forum.id if forum is not None else None):
                if fid is not None:
                    ids.add(fid)
    return ids


def _held_days(connection: sa.Connection, ids: set[int]) -> dict[int, date]:
    """The day each of these forums was held on, for those held."""
    if not ids:
        return {}
    rows = connection.execute(sa.select(Forum.id, Forum.scheduled_at).where(Forum.id.in_(sorted(ids)), held()))
    return {fid: local_day(moment) for fid, moment in rows}


_BEFORE = "activity_forums_before"
_MOMENTS = "activity_moments_before"


def _moved(obj: Any) -> bool:
    """Whether a record's counted moment is changed by the flush."""
    return bool(sa.inspect(obj).attrs[_MODELS[type(obj)][1]].history.added)


@sa.event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    """What the flush will change, as the database has it still: the held day of each forum it may touch, and the
    moment of each counted record it moves or deletes (the object may not hold its old value: expired at a commit)."""
    session.info.pop(_BEFORE, None)
    session.info.pop(_MOMENTS, None)
    changed = [o for o in session.dirty if type(o) in _MODELS and _moved(o)]
    changed += [o for o in session.deleted if type(o) in _MODELS]
    if changed:
        moments: dict[tuple[Any, int], Any] = {}
        connection = session.connection()
        for model in {type(o) for o in changed}:
            ids = sorted(o.id for o in changed if type(o) is model)
            column = getattr(model, _MODELS[model][1])
            moments.update(((model, i), m) for i, m in connection.execute(
                sa.select(model.id, column).where(model.id.in_(ids))))
        session.info[_MOMENTS] = moments
    if any(isinstance(o, (Forum, Invitation)) for o in (*session.new, *session.dirty, *session.deleted)):
        forum_ids = _forum_ids(session)
        session.info[_BEFORE] = (forum_ids, _held_days(session.connection(), forum_ids))


@sa.event.listens_for(Session, "after_flush")
def _keep(session: Session, _context: Any) -> None:
    shifts: dict[tuple[str, date], int] = {}

    def shift(measure: str, moment: datetime | None, n: int) -> None:
        if moment is not None:
            key = (measure, local_day(moment))
            shifts[key] = shifts.get(key, 0) + n

    for obj in session.new:
        if type(obj) in _MODELS:
            measure, column = _MODELS[type(obj)]
            shift(measure, getattr(obj, column), 1)
    moments = session.info.pop(_MOMENTS, {})
    for obj in session.dirty:
        if type(obj) in _MODELS and (type(obj), obj.id) in moments:
            measure, column = _MODELS[type(obj)]
            shift(measure, moments[(type(obj), obj.id)], -1)
            shift(measure, getattr(obj, column), 1)
    for obj in session.deleted:
        if type(obj) in _MODELS and (type(obj), obj.id) in moments:
            shift(_MODELS[type(obj)][0], moments[(type(obj), obj.id)], -1)
    before = session.info.pop(_BEFORE, None)
    connection = session.connection()
    if before is not None:
        ids, held_before = before
        ids = ids | _forum_ids(session)
        held_now = _held_days(connection, ids)
        for fid in ids:
            if held_before.get(fid) != held_now.get(fid):
                for day, n in ((held_before.get(fid), -1), (held_now.get(fid), 1)):
                    if day is not None:
                        shifts[(FORUMS_HELD, day)] = shifts.get((FORUMS_HELD, day), 0) + n
    changes = {key: n for key, n in shifts.items() if n}
    if not changes:
        return
    add_to_counts(connection, cast(sa.Table, ActivityDay.__table__), ["measure", "day"], "n",
                  [{"measure": measure, "day": day, "n": changes[(measure, day)]}
                   for (measure, day) in sorted(changes)])  # one order for every transaction: no deadlock
    months = by_month(changes)
    add_to_counts(connection, cast(sa.Table, ActivityMonth.__table__), ["measure", "month"], "n",
                  [{"measure": measure, "month": month, "n": months[(measure, month)]}
                   for (measure, month) in sorted(months)])


# The columns a day's count depends on, by table.
_WATCHED = {
    "invitations": {"delivered_at", "attended", "forum_id"}, "custom_notifications": {"delivered_at"},
    "outreach_contacts": {"contacted_at"}, "referrals": {"sent_at"}, "forums": {"scheduled_at", "status"},
}


@sa.event.listens_for(Session, "do_orm_execute")
def _keep_bulk(state: Any) -> Any:
    """An UPDATE or DELETE of a watched column run through the session (a test's or a script's, none of the app's:
    a purge's UPDATE of free text watches nothing): every day counted anew after it."""
    if not bulk_changes(state, _WATCHED):
        return None
    result = state.invoke_statement()
    refresh(state.session)
    return result
