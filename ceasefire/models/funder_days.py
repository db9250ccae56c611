"""What the funder's period report (services.program_reports.funder) reads, kept so that it sums a few thousand small
rows whatever the number of participants, instead of grouping every engagement and every participant of a program.

funder_days holds each participant's own rows (measure, day, since, n), worked out from their records:

- the engagements, one measure per way ("attended_forum": checked in at a forum not cancelled, on the forum's
  day; "referral_taken_up": a referral event to an engaging status; "outreach_contact") and "engaged", the union of
  the three: a row for each distinct program day the person engaged that way, with `since` the previous such day
  (NO_DAY for the first). A person engaged in the days [a, b] iff one of their rows has a <= day <= b and since < a,
  and then exactly one has (the first in the window): the people engaged are counted as rows.
- the caseload: "identified" on the day of identified_on; each run of consecutive steps of the pipeline closing the
  case (their order (at, id)) as "closed_from" on the later of its first step's day and identified_on, and
  "closed_until" on the day of the step that reopened it (none while closed; no row at all when the run ends on or
  before the day it would start): the people identified before a day a and closed by their last step before it are
  those counted from before a less those counted until before a. "closings": the steps closing a case on a day, and
  "closing_days": their days from identified_on summed.

funder_counts sums them: each caseload row by day and by month (its first day), grains "d" and "m"; each engagement
row at four grains, by day or by month of `day` and of `since`: "dd", "dm", "md", "mm". A window's people engaged
are then its partial months' days and its full months, each crossed with since before a's month (month grain) or
since in a's month before a (day grain) (services.funder_kept).

Both are kept in the transaction of every change: after each flush, the participants whose check-ins, forums,
referral events, outreach contacts, pipeline steps or identification it touched get their rows worked out anew, and
the counts move by the rows removed and added. An UPDATE or DELETE through the session of a watched column, and a
bulk load around the ORM (counts.refresh()), count everything anew. The row of measure "@" and the zone's name says
they are kept and in which zone: the report reads them only in that zone, and counts otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from ceasefire.extensions import Model
from ceasefire.models import stages
from ceasefire.models.activity import KEPT_DAY, kept_in, local_day
from ceasefire.models.base import add_to_counts, bulk_changes, insert_rows, program_zone
from ceasefire.models.enums import ForumStatus, ReferralStatus, State
from ceasefire.models.fieldwork import OutreachContact
from ceasefire.models.forums import Forum, Invitation
from ceasefire.models.people import Participant, StatusChange
from ceasefire.models.referrals import Referral, ReferralEvent

NO_DAY = date(1, 1, 1)  # `since` of a first engagement, and of every caseload row
WAYS = ("attended_forum", "referral_taken_up", "outreach_contact")
ENGAGED = "engaged"
ENGAGEMENTS = (*WAYS, ENGAGED)
CASELOAD = ("identified", "closed_from", "closed_until", "closings", "closing_days")
ENGAGING = (ReferralStatus.ACCEPTED.value, ReferralStatus.ENROLLED.value, ReferralStatus.COMPLETED.value)
GRAINS = ("dd", "dm", "md", "mm")
CHUNK = 500  # participants worked out by one statement
REFRESH_CHUNK = 20000  # participants (by a range of ids) worked out at a time by refresh()


class FunderDay(Model):
    __tablename__ = "funder_days"

    participant_id: Mapped[int] = mapped_column(primary_key=True)
    measure: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    since: Mapped[date] = mapped_column()
    n: Mapped[int] = mapped_column(sa.Integer)


class FunderCount(Model):
    __tablename__ = "funder_counts"

    measure: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    grain: Mapped[str] = mapped_column(sa.String(2), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    since: Mapped[date] = mapped_column(primary_key=True)
    n: Mapped[int] = mapped_column(sa.BigInteger)


@sa.event.listens_for(FunderCount.__table__, "after_create")
def _kept_from_the_start(table: sa.Table, connection: sa.Connection, **_kw: Any) -> None:
    connection.execute(table.insert(), [{"measure": kept_in(), "grain": "", "day": KEPT_DAY, "since": NO_DAY, "n": 0}])


def kept(session: Session | Any) -> bool:
    return session.execute(sa.select(FunderCount.n).where(
        FunderCount.measure == kept_in(), FunderCount.grain == "", FunderCount.day == KEPT_DAY)).first() is not None


def month(day: date) -> date:
    return day.replace(day=1)


Row = tuple[int, str, date, date, int]  # participant_id, measure, day, since, n


def person_rows(pid: int, ways: dict[str, set[date]], identified_on: date | None,
                steps: list[tuple[date, bool]]) -> list[Row]:
    """One participant's rows: from the program days of their engagements by way, their identification day and
    their pipeline steps in order (at, id) as (program day, closes the case)."""
    rows: list[Row] = []
    every: set[date] = set()
    for way in WAYS:
        days = ways.get(way, set())
        every |= days
        rows += _engagement_rows(pid, way, days)
    rows += _engagement_rows(pid, ENGAGED, every)
    if identified_on is not None:
        rows.append((pid, "identified", identified_on, NO_DAY, 1))
    runs: list[list[date | None]] = []  # [first closing day, reopening day]
    closings: dict[date, list[int]] = {}
    was_closed = False
    for day, closes in steps:
        if closes and not was_closed:
            runs.append([day, None])
        elif not closes and was_closed:
            runs[-1][1] = day
        was_closed = closes
        if closes:
            tally = closings.setdefault(day, [0, 0])
            tally[0] += 1
            if identified_on is not None:
                tally[1] += (day - identified_on).days
    spans: dict[tuple[str, date], int] = {}
    for first, reopened in runs:
        if identified_on is None or first is None:
            continue
        start = max(first, identified_on)
        if reopened is not None and reopened <= start:
            continue
        spans[("closed_from", start)] = spans.get(("closed_from", start), 0) + 1
        if reopened is not None:
            spans[("closed_until", reopened)] = spans.get(("closed_until", reopened), 0) + 1
    rows += [(pid, measure, day, NO_DAY, n) for (measure, day), n in spans.items()]
    for day, (n, total) in closings.items():
        rows.append((pid, "closings", day, NO_DAY, n))
        if identified_on is not None:
            rows.append((pid, "closing_days", day, NO_DAY, total))
    return rows


def _engagement_rows(pid: int, way: str, days: Iterable[date]) -> list[Row]:
    rows = []
    since = NO_DAY
    for day in sorted(days):
        rows.append((pid, way, day, since, 1))
        since = day
    return rows


def count_keys(row: Row) -> list[tuple[tuple[str, str, date, date], int]]:
    """The rows of funder_counts a participant's row counts in, and by how much."""
    _pid, measure, day, since, n = row
    if measure in CASELOAD:
        return [((measure, "d", day, NO_DAY), n), ((measure, "m", month(day), NO_DAY), n)]
    return [((measure, grain, d, s), n) for grain, d, s in (
        ("dd", day, since), ("dm", day, month(since)), ("md", month(day), since), ("mm", month(day), month(since)))]


_STATEMENTS: dict[bool, tuple[Any, Any]] = {}


def _statements(ranged: bool) -> tuple[Any, Any]:
    """The two statements reading what participants' rows are worked out from, built once: for a list of ids
    (parameter "people") or a range of them ("low" and "high")."""
    if ranged in _STATEMENTS:
        return _STATEMENTS[ranged]

    def of(column: Any) -> Any:
        if ranged:
            return column.between(sa.bindparam("low"), sa.bindparam("high"))
        return column.in_(sa.bindparam("people", expanding=True))

    invitations, forums = cast(sa.Table, Invitation.__table__).c, cast(sa.Table, Forum.__table__).c
    referrals, events = cast(sa.Table, Referral.__table__).c, cast(sa.Table, ReferralEvent.__table__).c
    contacts = cast(sa.Table, OutreachContact.__table__).c
    changes = cast(sa.Table, StatusChange.__table__).c

    def kind(n: int) -> Any:
        return sa.literal_column(str(n), sa.Integer)

    # (source, participant, moment, closes, id): the three ways of engaging (WAYS' order), then the pipeline's steps
    moments = sa.union_all(
        sa.select(kind(0), invitations.participant_id, forums.scheduled_at, kind(0), kind(0))
        .join_from(Invitation.__table__, Forum.__table__, forums.id == invitations.forum_id)
        .where(invitations.attended.is_(True), forums.status != ForumStatus.CANCELLED.value,
               of(invitations.participant_id)),
        sa.select(kind(1), referrals.participant_id, events.at, kind(0), kind(0))
        .join_from(ReferralEvent.__table__, Referral.__table__, referrals.id == events.referral_id)
        .where(events.to_status.in_(ENGAGING), of(referrals.participant_id)),
        sa.select(kind(2), contacts.participant_id, contacts.contacted_at, kind(0), kind(0))
        .where(of(contacts.participant_id)),
        sa.select(kind(3), changes.participant_id, changes.at,
                  sa.case((changes.to_state == State.CLOSED.value, 1), else_=0), changes.id)
        .where(of(changes.participant_id)),
    )
    people_c = cast(sa.Table, Participant.__table__).c
    identified = sa.select(people_c.id, people_c.identified_on).where(of(people_c.id))
    _STATEMENTS[ranged] = (moments, identified)
    return moments, identified


def worked_out(connection: sa.Connection, people: Any) -> list[Row]:
    """The rows of `people`: a list of participant ids, or a (low, high) range of them, inclusive."""
    ranged = not isinstance(people, list)
    moments, identified_on = _statements(ranged)
    params = {"low": people[0], "high": people[1]} if ranged else {"people": people}
    ways: dict[int, dict[str, set[date]]] = {}
    found_steps: list[tuple[int, datetime, int, date, bool]] = []
    zone = program_zone()
    for source, pid, moment, closes, step in connection.execute(moments, params):
        if source < 3:
            ways.setdefault(pid, {}).setdefault(WAYS[source], set()).add(local_day(moment, zone))
        else:
            found_steps.append((pid, moment, step, local_day(moment, zone), bool(closes)))
    steps: dict[int, list[tuple[date, bool]]] = {}
    for pid, _moment, _id, day, closes in sorted(found_steps):  # each person's in order (at, id)
        steps.setdefault(pid, []).append((day, closes))
    identified = dict(connection.execute(identified_on, params).all())
    rows: list[Row] = []
    for pid in sorted(set(ways) | set(identified) | set(steps)):
        rows += person_rows(pid, ways.get(pid, {}), identified.get(pid), steps.get(pid, []))
    return rows


def _shift(connection: sa.Connection, shifts: dict[tuple[str, str, date, date], int]) -> None:
    add_to_counts(connection, cast(sa.Table, FunderCount.__table__), ["measure", "grain", "day", "since"], "n",
                  [{"measure": m, "grain": g, "day": d, "since": s, "n": n}
                   for (m, g, d, s), n in sorted(shifts.items()) if n])  # one order for every transaction: no deadlock


_DAYS = cast(sa.Table, FunderDay.__table__)
_KEPT = sa.select(_DAYS.c.participant_id, _DAYS.c.measure, _DAYS.c.day, _DAYS.c.since, _DAYS.c.n).where(
    _DAYS.c.participant_id.in_(sa.bindparam("people", expanding=True)))


def keep(connection: sa.Connection, people: Iterable[int]) -> None:
    """The rows of these participants anew from their records; the counts moved by the rows removed and added."""
    ordered = sorted(set(people))
    table = cast(sa.Table, FunderDay.__table__)
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start:start + CHUNK]
        old = {tuple(row) for row in connection.execute(_KEPT, {"people": chunk})}
        new = set(worked_out(connection, chunk))
        removed, added = old - new, new - old
        if not removed and not added:
            continue
        shifts: dict[tuple[str, str, date, date], int] = {}
        for rows, sign in ((removed, -1), (added, 1)):
            for row in rows:
                for key, n in count_keys(row):
                    shifts[key] = shifts.get(key, 0) + sign * n
        if removed:
            connection.execute(sa.delete(table).where(
                table.c.participant_id == sa.bindparam("p"), table.c.measure == sa.bindparam("m"),
                table.c.day == sa.bindparam("d")), [{"p": p, "m": m, "d": d} for p, m, d, _s, _n in sorted(removed)])
        if added:
            connection.execute(sa.insert(table), [
                {"participant_id": p, "measure": m, "day": d, "since": s, "n": n} for p, m, d, s, n in sorted(added)])
        _shift(connection, shifts)


def refresh(session: Session | Any) -> None:
    """Every participant's rows and every count anew (after a bulk load that went around the ORM, or a change of
    TIMEZONE), a range of participants at a time."""
    connection = session.connection()
    days, counts = cast(sa.Table, FunderDay.__table__), cast(sa.Table, FunderCount.__table__)
    connection.execute(sa.delete(days))
    connection.execute(sa.delete(counts))
    totals: dict[tuple[str, str, date, date], int] = {}
    people_c = cast(sa.Table, Participant.__table__).c
    low, high = connection.execute(sa.select(sa.func.min(people_c.id), sa.func.max(people_c.id))).one()
    summed: dict[tuple[str, date, date], int] = {}  # the rows summed over participants, then counted once each
    for start in range(low or 0, (high or -1) + 1, REFRESH_CHUNK):
        rows = worked_out(connection, (start, start + REFRESH_CHUNK - 1))
        for _pid, measure, day, since, n in rows:
            summed[(measure, day, since)] = summed.get((measure, day, since), 0) + n
        insert_rows(connection, days, ["participant_id", "measure", "day", "since", "n"], rows)
    for (measure, day, since), n in summed.items():
        for key, moved in count_keys((0, measure, day, since, n)):
            totals[key] = totals.get(key, 0) + moved
    values = [{"measure": kept_in(), "grain": "", "day": KEPT_DAY, "since": NO_DAY, "n": 0}]
    values += [{"measure": m, "grain": g, "day": d, "since": s, "n": n} for (m, g, d, s), n in totals.items() if n]
    for start in range(0, len(values), 10000):
        connection.execute(sa.insert(counts), values[start:start + 10000])


# What the flush watches, by model: the columns whose change moves a participant's rows.
_WATCHED: dict[type, tuple[str, ...]] = {
    Invitation: ("attended", "forum_id", "participant_id"),
    ReferralEvent: ("to_status", "referral_id", "at"),
    Referral: ("participant_id",),
    OutreachContact: ("contacted_at", "participant_id"),
    StatusChange: ("at", "to_state", "participant_id"),
    Participant: ("identified_on",),
}
_PEOPLE = "funder_people_before"


def _touched(session: Session) -> tuple[set[int], set[int], set[int]]:
    """The participants, referrals (their events) and forums a flush touches, as the objects say."""
    people: set[int] = set()
    referrals: set[int] = set()
    forums: set[int] = set()

    def note(obj: Any) -> None:
        if isinstance(obj, Participant):
            people.update(stages.old_and_new(obj, "id"))
        elif isinstance(obj, ReferralEvent):
            referrals.update(stages.old_and_new(obj, "referral_id"))
            referral = obj.__dict__.get("referral")
            if referral is not None and referral.id is not None:
                referrals.add(referral.id)
        elif isinstance(obj, Forum):
            forums.add(obj.id)
        else:
            people.update(stages.old_and_new(obj, "participant_id"))
            if isinstance(obj, Referral):
                referrals.add(obj.id)
            participant = obj.__dict__.get("participant")
            if participant is not None and participant.id is not None:
                people.add(participant.id)

    for obj in (*session.new, *session.deleted):
        if type(obj) in _WATCHED or isinstance(obj, Forum):
            note(obj)
    for obj in session.dirty:
        names = _WATCHED.get(type(obj))
        forum_moved = isinstance(obj, Forum) and stages.changed(obj, ("status", "scheduled_at"))
        if (names is not None and stages.changed(obj, names)) or forum_moved:
            note(obj)
    return people - {None}, referrals - {None}, forums - {None}


def _people_of(connection: sa.Connection, referrals: set[int], forums: set[int]) -> set[int]:
    """The participants of these referrals, and those checked in at these forums, as the database has them."""
    found: set[int] = set()
    if referrals:
        table = cast(sa.Table, Referral.__table__).c
        found |= set(connection.execute(
            sa.select(table.participant_id).where(table.id.in_(sorted(referrals)))).scalars())
    if forums:
        table = cast(sa.Table, Invitation.__table__).c
        found |= set(connection.execute(sa.select(table.participant_id).where(
            table.forum_id.in_(sorted(forums)), table.attended.is_(True))).scalars())
    return found


@sa.event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    """The participants of the referrals and forums the flush touches, and of the records it moves to another
    person, as the database still has them (an object expired by a commit does not hold its old value)."""
    session.info.pop(_PEOPLE, None)
    if not any(type(o) in _WATCHED or isinstance(o, Forum) for o in (*session.new, *session.dirty, *session.deleted)):
        return
    _people, referrals, forums = _touched(session)
    connection = session.connection()
    found = _people_of(connection, referrals, forums) if referrals or forums else set()
    moved = [o for o in session.dirty if isinstance(o, (Invitation, OutreachContact, StatusChange))
             and o.id is not None and stages.changed(o, ("participant_id",))]
    for model in {type(o) for o in moved}:
        table = cast(sa.Table, model.__table__).c
        found |= set(connection.execute(sa.select(table.participant_id).where(
            table.id.in_(sorted(o.id for o in moved if type(o) is model)))).scalars())
    if found:
        session.info[_PEOPLE] = found


@sa.event.listens_for(Session, "after_flush")
def _keep(session: Session, _context: Any) -> None:
    before = session.info.pop(_PEOPLE, set())
    people, referrals, forums = _touched(session)
    if not people and not referrals and not forums and not before:
        return
    connection = session.connection()
    keep(connection, people | before | _people_of(connection, referrals, forums))


# The columns a participant's rows depend on, by table.
_WATCHED_COLUMNS = {
    "invitations": {"attended", "forum_id", "participant_id"},
    "forums": {"status", "scheduled_at"},
    "referrals": {"participant_id"},
    "referral_events": {"to_status", "referral_id", "at"},
    "outreach_contacts": {"contacted_at", "participant_id"},
    "status_changes": {"at", "to_state", "participant_id"},
    "participants": {"identified_on"},
}


@sa.event.listens_for(Session, "do_orm_execute")
def _keep_bulk(state: Any) -> Any:
    """An UPDATE or DELETE of a watched column run through the session (a test's or a script's, none of the app's:
    a purge's UPDATEs erase free text alone): everything counted anew after it."""
    if not bulk_changes(state, _WATCHED_COLUMNS):
        return None
    result = state.invoke_statement()
    refresh(state.session)
    return result
