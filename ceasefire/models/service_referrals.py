"""What the referral outcomes page needs to find the services with a referral sent in its window without probing the
referrals of every service (4,000 services at a million): each service's number of referrals, and the first and
last moments one was sent to it; and its referrals by month (of UTC) sent. A service with none has no row, or a row
at 0; a month without a referral of the service has no row.

Over the whole history a service is listed when it has a referral. From a day on, when its last referral was sent
that day or later; up to a day, when its first was sent by then. Between two days, when its first or last referral
falls between them, or it has one in a month wholly between them (read off the months' rows in one range of the
index); the referrals of a service with neither are probed (a window inside one month probes every service whose
first is earlier and last later).

Kept after each flush (the moments are only known once the referrals are written): a referral inserted adds one
to its service's row and widens its moments (an upsert taking the lesser and greater, so two transactions adding
referrals to one service give the same row in either order), and adds one to its month's; a referral moved to
another service, sent at another moment or deleted (none of the app's changes do: a test's or a script's) has both
services' rows counted anew from their referrals, as has every service's after an UPDATE or DELETE of referrals
run through the session that moves one. A bulk INSERT ... SELECT (ceasefire.demo_bulk) is followed by refresh().
models.counts keeps the row "referrals" of table_counts, which says these rows are kept: the page probes every
service when it is missing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from ceasefire.extensions import Model
from ceasefire.models import stages
from ceasefire.models.base import UTCDateTime, add_to_counts, bulk_changes, next_month
from ceasefire.models.referrals import Referral


class ServiceReferralCount(Model):
    __tablename__ = "service_referral_counts"

    service_id: Mapped[int] = mapped_column(sa.ForeignKey("services.id"), primary_key=True, autoincrement=False)
    referrals: Mapped[int] = mapped_column(sa.Integer, default=0)
    first_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ServiceReferralMonth(Model):
    __tablename__ = "service_referral_months"

    month: Mapped[date] = mapped_column(sa.Date, primary_key=True)  # its first day, in UTC
    service_id: Mapped[int] = mapped_column(sa.ForeignKey("services.id"), primary_key=True, autoincrement=False,
                                            index=True)
    referrals: Mapped[int] = mapped_column(sa.Integer, default=0)


TABLE = cast(sa.Table, ServiceReferralCount.__table__)
MONTHS = cast(sa.Table, ServiceReferralMonth.__table__)
_MOVED = ("service_id", "sent_at")


def sent_in(start: datetime | None, end: datetime | None) -> sa.Select:
    """The ids of the services with a referral sent at or after `start` and before `end` (either open when None)."""
    c = TABLE.c
    conditions = [c.referrals > 0]
    if start is not None:
        conditions.append(c.last_sent_at >= start)
    if end is not None:
        conditions.append(c.first_sent_at < end)
    if start is not None and end is not None:
        either = [c.first_sent_at >= start, c.last_sent_at < end]
        first, past = _whole_months(start, end)
        if first < past:  # a month's row is there only with a referral in it (added to, or counted anew): the
            # key alone answers, read off the index without the table
            either.append(c.service_id.in_(sa.select(MONTHS.c.service_id).where(
                MONTHS.c.month >= first, MONTHS.c.month < past)))
        # OFFSET 0 keeps PostgreSQL from turning the probe into a hash of every referral of the window, built for
        # the first service that needs it: each service left to it is probed alone
        either.append(sa.select(Referral.id).where(
            Referral.service_id == c.service_id, Referral.sent_at >= start, Referral.sent_at < end)
            .offset(0).exists())
        conditions.append(sa.or_(*either))
    return sa.select(c.service_id).where(*conditions)


def month_of(moment: datetime) -> date:
    """The first day of an instant's month in UTC."""
    utc = moment.astimezone(UTC)
    return date(utc.year, utc.month, 1)


def _whole_months(start: datetime, end: datetime) -> tuple[date, date]:
    """The months wholly inside [start, end), as the first day of the first one and of the month after the last."""
    first = month_of(start)
    if datetime.combine(first, time.min, tzinfo=UTC) < start:
        try:
            first = next_month(first)
        except ValueError:  # December of year 9999: none
            return first, first
    return first, month_of(end)


def _month_sql(column: Any, dialect: str) -> Any:
    """month_of() in SQL, of a timestamp column held in UTC."""
    if dialect == "postgresql":
        return sa.cast(sa.func.date_trunc("month", column), sa.Date)
    return sa.func.date(column, "start of month")


def _counted(service_ids: list[int] | None) -> sa.Select:
    return (sa.select(Referral.service_id, sa.func.count(Referral.id), sa.func.min(Referral.sent_at),
                      sa.func.max(Referral.sent_at)).group_by(Referral.service_id))


def _recount(connection: sa.Connection, service_ids: list[int] | None) -> None:
    """The rows of these services (every service's when None) anew from their referrals."""
    month = _month_sql(Referral.sent_at, connection.dialect.name)
    by_month = sa.select(month, Referral.service_id, sa.func.count(Referral.id)).group_by(month, Referral.service_id)
    for table, counted in ((TABLE, _counted(service_ids)), (MONTHS, by_month)):
        delete = sa.delete(table)
        if service_ids is not None:
            delete = delete.where(table.c.service_id.in_(service_ids))
            counted = counted.where(Referral.service_id.in_(service_ids))
        connection.execute(delete)
        connection.execute(sa.insert(table).from_select(
            ["service_id", "referrals", "first_sent_at", "last_sent_at"] if table is TABLE
            else ["month", "service_id", "referrals"], counted))


def refresh(session: Session | Any) -> None:
    """Every service's row anew (after a bulk load that went around the ORM)."""
    _recount(session.connection(), None)


def _add(connection: sa.Connection, added: dict[int, list[Any]], months: dict[tuple[date, int], int]) -> None:
    """Add referrals to their services' rows, (how many, first and last sent) by service, and to their months'."""
    if not added:
        return
    postgres = connection.dialect.name == "postgresql"
    insert: Any = (postgresql.insert if postgres else sqlite.insert)(TABLE)
    lesser, greater = (sa.func.least, sa.func.greatest) if postgres else (sa.func.min, sa.func.max)
    new, c = insert.excluded, TABLE.c
    connection.execute(insert.on_conflict_do_update(index_elements=[c.service_id], set_={
        "referrals": c.referrals + new.referrals,
        # a row at 0 has no moments: the new ones stand alone
        "first_sent_at": lesser(sa.func.coalesce(c.first_sent_at, new.first_sent_at), new.first_sent_at),
        "last_sent_at": greater(sa.func.coalesce(c.last_sent_at, new.last_sent_at), new.last_sent_at),
    }), [{"service_id": k, "referrals": n, "first_sent_at": first, "last_sent_at": last}
         for k, (n, first, last) in sorted(added.items())])  # one order for every transaction: no deadlock
    add_to_counts(connection, MONTHS, ["month", "service_id"], "referrals",
                  [{"month": m, "service_id": k, "referrals": n} for (m, k), n in sorted(months.items())])


@sa.event.listens_for(Session, "after_flush")
def _keep(session: Session, _context: Any) -> None:
    added: dict[int, list[Any]] = {}
    months: dict[tuple[date, int], int] = {}
    recount: set[int] = set()
    for r in session.new:
        if isinstance(r, Referral):
            row = added.setdefault(r.service_id, [0, r.sent_at, r.sent_at])
            row[0] += 1
            row[1], row[2] = min(row[1], r.sent_at), max(row[2], r.sent_at)
            key = (month_of(r.sent_at), r.service_id)
            months[key] = months.get(key, 0) + 1
    for r in session.dirty:
        if isinstance(r, Referral) and stages.changed(r, _MOVED):
            recount |= stages.old_and_new(r, "service_id")
    for r in session.deleted:
        if isinstance(r, Referral):
            recount |= stages.old_and_new(r, "service_id")
    if not added and not recount:
        return
    connection = session.connection()
    _add(connection, {k: row for k, row in added.items() if k not in recount},
         {key: n for key, n in months.items() if key[1] not in recount})
    if recount:
        _recount(connection, sorted(recount))


@sa.event.listens_for(Session, "do_orm_execute")
def _keep_bulk(state: Any) -> Any:
    """An UPDATE or DELETE of referrals run through the session that moves one (or deletes it): every service's row
    anew after it."""
    if not bulk_changes(state, {"referrals": set(_MOVED)}):
        return None
    result = state.invoke_statement()
    _recount(state.session.connection(), None)
    return result
