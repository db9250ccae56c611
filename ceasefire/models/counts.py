"""How many participants are in each state and supervision status, purged ones left out: the participant list's
total and its tabs for a viewer who sees everyone (filtered by state, supervision status, both or neither), read off
24 rows instead of counted off a million. And how many were ever identified,
by supervision status and age band at identification (purged ones kept, as the identification report counts
them): the summary beside the list. And how many referrals are in each status, those of purged participants left
out: the referral list's total for caseworkers and supervisors, who see every referral. And how many forums,
groups and referrals there are: the total of their lists, which everyone who sees them sees whole (the referrals'
row also says that models.service_referrals keeps its rows).

The rows are kept in the transaction of every change: before each flush, the participants the flush inserts,
moves to another state, purges or deletes shift the rows (in one order, so two transactions never wait on each
other crosswise). What the ORM does not see, a bulk INSERT ... SELECT (ceasefire.demo_bulk), is followed by
refresh(). Rows missing (a table emptied) say "not kept": the readers then count, so a total is never wrong.
"""

from __future__ import annotations

from datetime import date
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from ceasefire.extensions import Model
from ceasefire.models import (
    activity,
    cohort_tallies,
    funder_days,
    referral_outcomes,
    search_counts,
    service_referrals,
    stages,
)
from ceasefire.models.base import DAY_GRAIN, add_to_counts, both_grains, enum_type, months_and_days, today
from ceasefire.models.enums import ReferralStatus, State, SupervisionStatus
from ceasefire.models.forums import Forum
from ceasefire.models.people import Group, Participant
from ceasefire.models.referrals import Referral
from ceasefire.models.users import Organization


class ParticipantCount(Model):
    __tablename__ = "participant_counts"

    state: Mapped[State] = mapped_column(enum_type(State, "state"), primary_key=True)
    supervision_status: Mapped[SupervisionStatus] = mapped_column(
        enum_type(SupervisionStatus, "supervision_status"), primary_key=True
    )
    participants: Mapped[int] = mapped_column(sa.Integer, default=0)


class ReferralCount(Model):
    __tablename__ = "referral_counts"

    status: Mapped[ReferralStatus] = mapped_column(enum_type(ReferralStatus, "status"), primary_key=True)
    referrals: Mapped[int] = mapped_column(sa.Integer, default=0)


class TableCount(Model):
    """The rows of a table whose list is never filtered: forums and groups; and referrals, whose row also says
    that the services' counts of referrals are kept (models.service_referrals)."""

    __tablename__ = "table_counts"

    table_name: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    rows: Mapped[int] = mapped_column(sa.Integer, default=0)


# The models whose rows are kept in table_counts, by table name.
KEPT_TABLES: dict[str, Any] = {"forums": Forum, "groups": Group, "referrals": Referral}


AGE_BANDS = ("under_18", "18_24", "25_34", "35_plus", "unknown")


class IdentificationCount(Model):
    __tablename__ = "identification_counts"

    supervision_status: Mapped[SupervisionStatus] = mapped_column(
        enum_type(SupervisionStatus, "supervision_status"), primary_key=True
    )
    age_band: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    participants: Mapped[int] = mapped_column(sa.Integer, default=0)


class AgencyCount(Model):
    """Everyone ever identified (purged ones kept), by identifying agency: organization_id 0 stands for none. Row 0
    is always there when the counts are kept (a missing row 0 says "not kept"); an agency's row appears with its
    first participant."""

    __tablename__ = "identification_agency_counts"

    organization_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    participants: Mapped[int] = mapped_column(sa.Integer, default=0)


NO_AGENCY = 0


class IdentificationDay(Model):
    """Everyone ever identified (purged ones kept), by date of identification, supervision status and age band, kept
    twice: by day (DAY_GRAIN) and by month (MONTH_GRAIN, `day` its first day). The identification report over a window
    sums the months wholly inside it and the days of the rest. The row KEPT (a day no one is identified on) says these
    rows and IdentificationAgencyDay's are kept; missing, the report counts the participants."""

    __tablename__ = "identification_days"

    grain: Mapped[str] = mapped_column(sa.String(1), primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    supervision_status: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    age_band: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    participants: Mapped[int] = mapped_column(sa.Integer, default=0)


class IdentificationAgencyDay(Model):
    """Everyone ever identified, by date of identification (and month) and identifying agency (NO_AGENCY: none)."""

    __tablename__ = "identification_agency_days"

    grain: Mapped[str] = mapped_column(sa.String(1), primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    participants: Mapped[int] = mapped_column(sa.Integer, default=0)


KEPT = {"grain": DAY_GRAIN, "day": date.min, "supervision_status": "", "age_band": "", "participants": 0}


def _zero_identification() -> list[dict[str, Any]]:
    return [{"supervision_status": s.value, "age_band": b, "participants": 0} for s in SupervisionStatus
            for b in AGE_BANDS]


@sa.event.listens_for(ParticipantCount.__table__, "after_create")
def _start_at_zero(table: sa.Table, connection: sa.Connection, **_kw: Any) -> None:
    """A new database (create_all) keeps its counts from the first participant on."""
    connection.execute(table.insert(), [{"state": s.value, "supervision_status": v.value, "participants": 0}
                                        for s in State for v in SupervisionStatus])


@sa.event.listens_for(IdentificationCount.__table__, "after_create")
def _identification_at_zero(table: sa.Table, connection: sa.Connection, **_kw: Any) -> None:
    connection.execute(table.insert(), _zero_identification())


@sa.event.listens_for(AgencyCount.__table__, "after_create")
def _agencies_at_zero(table: sa.Table, connection: sa.Connection, **_kw: Any) -> None:
    connection.execute(table.insert(), [{"organization_id": NO_AGENCY, "participants": 0}])


@sa.event.listens_for(IdentificationDay.__table__, "after_create")
def _days_kept(table: sa.Table, connection: sa.Connection, **_kw: Any) -> None:
    connection.execute(table.insert(), [KEPT])


@sa.event.listens_for(TableCount.__table__, "after_create")
def _tables_at_zero(table: sa.Table, connection: sa.Connection, **_kw: Any) -> None:
    connection.execute(table.insert(), [{"table_name": name, "rows": 0} for name in KEPT_TABLES])


@sa.event.listens_for(ReferralCount.__table__, "after_create")
def _referrals_at_zero(table: sa.Table, connection: sa.Connection, **_kw: Any) -> None:
    connection.execute(table.insert(), [{"status": s.value, "referrals": 0} for s in ReferralStatus])


def referral_counts(session: Session | Any) -> dict[ReferralStatus, int] | None:
    """The kept counts, one a status (purged participants' referrals left out); None when not kept."""
    rows = dict(session.execute(sa.select(ReferralCount.status, ReferralCount.referrals)).all())
    return {s: rows[s] for s in ReferralStatus} if len(rows) == len(ReferralStatus) else None


def table_rows(session: Session | Any, model: Any) -> int | None:
    """The kept number of rows of a table of KEPT_TABLES; None when not kept (its row is missing)."""
    return session.scalar(sa.select(TableCount.rows).where(TableCount.table_name == model.__tablename__))


def identified_between(session: Session | Any, start: date | None, end: date | None,
                       agencies: bool = True) -> tuple[list[Any], list[Any]] | None:
    """Everyone identified from `start` to `end` (dates, both inclusive, either open when None) summed off the kept
    days: rows of (supervision status, age band, participants), and (with `agencies`) of (identifying agency's id or
    NO_AGENCY, participants); None when they are not kept."""
    day = IdentificationDay.day
    if session.scalar(sa.select(day).where(day == KEPT["day"], IdentificationDay.age_band == "")) is None:
        return None

    def summed(table: Any, *columns: Any) -> list[Any]:
        pieces = months_and_days(table.day, start, end)  # the window's whole months by month, the rest by day
        if not pieces:
            return []
        picked = sa.or_(*(sa.and_(table.grain == grain, *conditions) for grain, conditions in pieces))
        return list(session.execute(sa.select(*columns, sa.func.sum(table.participants))
                                    .where(picked, table.participants != 0).group_by(*columns)))

    bands = summed(IdentificationDay, IdentificationDay.supervision_status, IdentificationDay.age_band)
    return bands, summed(IdentificationAgencyDay, IdentificationAgencyDay.organization_id) if agencies else []


def identified(session: Session | Any) -> dict[tuple[str, str], int] | None:
    """The kept counts by (supervision status, age band), every participant ever identified; None when not kept."""
    rows = {(s, b): n for s, b, n in session.execute(sa.select(
        IdentificationCount.supervision_status, IdentificationCount.age_band, IdentificationCount.participants
    )).all()}
    return rows if len(rows) == len(SupervisionStatus) * len(AGE_BANDS) else None


def identified_by_agency(session: Session | Any) -> list[tuple[int | None, str | None, int]] | None:
    """The kept counts of everyone ever identified, as (identifying agency's id, its name, people), (None, None, n)
    for those with none, agencies with nobody left out; None when not kept."""
    rows = session.execute(
        sa.select(AgencyCount.organization_id, Organization.name, AgencyCount.participants)
        .outerjoin(Organization, Organization.id == AgencyCount.organization_id)
    ).all()
    if all(org != NO_AGENCY for org, _name, _n in rows):
        return None
    return [(None, None, n) if org == NO_AGENCY else (org, name, n) for org, name, n in rows if n]


def age_band(born: Any, on: Any, kept: str | None = None) -> str:
    """The identification report's band (services.identification_report, in SQL there): the band kept at a
    purge when the date of birth is gone, else whole years completed at identification."""
    if born is None:
        return kept if kept is not None else "unknown"
    if on is None:  # as the SQL reads a missing date: no age under any bound
        return "35_plus"
    age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    return "under_18" if age < 18 else "18_24" if age <= 24 else "25_34" if age <= 34 else "35_plus"


def counted(session: Session | Any, supervision_status: str | None = None) -> dict[State, int] | None:
    """The kept counts, one a state (of those in one supervision status, if given); None when they are not kept (a
    row is missing)."""
    rows = session.execute(
        sa.select(ParticipantCount.state, ParticipantCount.supervision_status, ParticipantCount.participants)
    ).all()
    if len(rows) != len(State) * len(SupervisionStatus):
        return None
    found = dict.fromkeys(State, 0)
    for state, status, n in rows:
        if supervision_status is None or status == supervision_status:
            found[State(state)] += n
    return found


def refresh(session: Session | Any) -> None:
    """Count every state anew, and every participant's stage entries and cohort (ceasefire.models.stages), after a
    bulk load that went around the ORM."""
    by_state = {(State(s), SupervisionStatus(v)): n for s, v, n in session.execute(
        sa.select(Participant.state, Participant.supervision_status, sa.func.count(Participant.id))
        .where(Participant.purged_at.is_(None)).group_by(Participant.state, Participant.supervision_status)
    ).all()}
    session.execute(sa.delete(ParticipantCount))
    session.execute(sa.insert(ParticipantCount), [
        {"state": s.value, "supervision_status": v.value, "participants": by_state.get((s, v), 0)}
        for s in State for v in SupervisionStatus
    ])
    rows = {(r["supervision_status"], r["age_band"]): r for r in _zero_identification()}
    by_day: dict[tuple[Any, str, str], int] = {}
    by_agency_day: dict[tuple[Any, int], int] = {}
    result = session.execute(sa.select(
        Participant.supervision_status, Participant.date_of_birth, Participant.identified_on, Participant.age_band,
        Participant.identifying_org_id,
    ).execution_options(yield_per=10000))
    for status, born, on, kept, agency in result:
        status, band = SupervisionStatus(status).value, age_band(born, on, kept)
        rows[(status, band)]["participants"] += 1
        by_day[(on, status, band)] = by_day.get((on, status, band), 0) + 1
        by_agency_day[(on, agency or NO_AGENCY)] = by_agency_day.get((on, agency or NO_AGENCY), 0) + 1
    session.execute(sa.delete(IdentificationCount))
    session.execute(sa.insert(IdentificationCount), list(rows.values()))
    session.execute(sa.delete(IdentificationDay))
    session.execute(sa.insert(IdentificationDay), [KEPT, *(
        {"grain": g, "day": d, "supervision_status": s, "age_band": b, "participants": n}
        for (g, d, s, b), n in both_grains(by_day))])
    session.execute(sa.delete(IdentificationAgencyDay))
    if by_agency_day:
        session.execute(sa.insert(IdentificationAgencyDay), [
            {"grain": g, "day": d, "organization_id": o, "participants": n}
            for (g, d, o), n in both_grains(by_agency_day)])
    agencies = dict(session.execute(
        sa.select(Participant.identifying_org_id, sa.func.count(Participant.id))
        .group_by(Participant.identifying_org_id)
    ).all())
    session.execute(sa.delete(AgencyCount))
    session.execute(sa.insert(AgencyCount), [
        {"organization_id": NO_AGENCY, "participants": agencies.pop(None, 0)},
        *({"organization_id": org, "participants": n} for org, n in agencies.items()),
    ])
    found = dict(session.execute(
        sa.select(Referral.status, sa.func.count(Referral.id))
        .join(Participant, Participant.id == Referral.participant_id)
        .where(Participant.purged_at.is_(None)).group_by(Referral.status)
    ).all())
    session.execute(sa.delete(ReferralCount))
    session.execute(sa.insert(ReferralCount),
                    [{"status": s.value, "referrals": found.get(s, 0)} for s in ReferralStatus])
    session.execute(sa.delete(TableCount))
    session.execute(sa.insert(TableCount), [
        {"table_name": name, "rows": session.scalar(sa.select(sa.func.count()).select_from(model))}
        for name, model in KEPT_TABLES.items()
    ])
    service_referrals.refresh(session)  # and each service's referrals
    stages.refresh(session)  # and what the pipeline and cohort reports keep of each participant
    cohort_tallies.refresh(session)  # and of each forum
    search_counts.refresh(session)  # and the name search's pieces
    activity.refresh(session)  # and the activity report's days
    referral_outcomes.refresh(session)  # and the statuses each referral reached, and its first answer
    funder_days.refresh(session)  # and the funder report's engagements and caseload


def _place(state: Any, status: str, purged_at: Any) -> tuple[str, str] | None:
    """Where a participant counts: its state and supervision status, or nowhere once purged."""
    if purged_at is not None or state is None:
        return None
    return State(state).value, status


_WATCHED = ("state", "purged_at", "supervision_status", "date_of_birth", "identified_on", "age_band",
            "identifying_org_id")


def _values(p: Participant, before: bool) -> dict[str, Any]:
    """The watched columns as the flush finds them (or, `before`, as the database still holds them)."""
    insp = sa.inspect(p)
    values = {}
    for name in _WATCHED:
        history = insp.attrs[name].history
        values[name] = history.deleted[0] if before and history.deleted else getattr(p, name)
    return values


def _keys(v: dict[str, Any] | None) -> tuple[Any, Any, Any, Any, Any]:
    """The row of each table a participant counts in (None: none): participant_counts, identification_counts,
    identification_agency_counts, identification_days and identification_agency_days."""
    if v is None:
        return None, None, None, None, None
    status = SupervisionStatus(v["supervision_status"] or SupervisionStatus.NONE).value
    day = v["identified_on"] or today()
    band = age_band(v["date_of_birth"], day, v["age_band"])
    agency = v["identifying_org_id"] or NO_AGENCY
    return (_place(v["state"] or State.IDENTIFIED, status, v["purged_at"]), (status, band), agency,
            (day, status, band), (day, agency))


def _shifts(session: Session) -> tuple[dict[Any, int], ...]:
    moves: list[tuple[dict[str, Any] | None, dict[str, Any] | None]] = []
    moves += [(None, _values(p, False)) for p in session.new if isinstance(p, Participant)]
    moves += [(_values(p, True), _values(p, False)) for p in session.dirty
              if isinstance(p, Participant) and session.is_modified(p, include_collections=False)]
    moves += [(_values(p, True), None) for p in session.deleted if isinstance(p, Participant)]
    states: dict[Any, int] = {}
    identification: dict[Any, int] = {}
    agencies: dict[Any, int] = {}
    days: dict[Any, int] = {}
    agency_days: dict[Any, int] = {}
    for before, after in moves:
        for shifts, left, entered in zip((states, identification, agencies, days, agency_days), _keys(before),
                                         _keys(after), strict=True):
            if left == entered:
                continue
            if left is not None:
                shifts[left] = shifts.get(left, 0) - 1
            if entered is not None:
                shifts[entered] = shifts.get(entered, 0) + 1
    return tuple({k: n for k, n in shifts.items() if n}
                 for shifts in (states, identification, agencies, days, agency_days))


def _referral_shifts(session: Session, connection: sa.Connection) -> dict[str, int]:
    """Referrals sent, changing status or deleted; and a participant's purge takes theirs out of the counts."""
    shifts: dict[str, int] = {}

    def shift(status: Any, n: int) -> None:
        shifts[ReferralStatus(status).value] = shifts.get(ReferralStatus(status).value, 0) + n

    for r in session.new:
        if isinstance(r, Referral):
            shift(r.status or ReferralStatus.SENT, 1)
    for r in session.dirty:
        if isinstance(r, Referral):
            history = sa.inspect(r).attrs["status"].history
            if history.deleted and history.added and history.deleted[0] != history.added[0]:
                shift(history.deleted[0], -1)
                shift(history.added[0], 1)
    for r in session.deleted:
        if isinstance(r, Referral):
            shift(_values_of(r, "status"), -1)
    purged = [p.id for p in session.dirty if isinstance(p, Participant) and p.purged_at is not None
              and _values(p, True)["purged_at"] is None]
    if purged:
        for status, n in connection.execute(
            sa.select(Referral.status, sa.func.count(Referral.id)).where(Referral.participant_id.in_(purged))
            .group_by(Referral.status)
        ):
            shift(status, -n)
    return {k: n for k, n in shifts.items() if n}


def _values_of(r: Referral, name: str) -> Any:
    history = sa.inspect(r).attrs[name].history
    return history.deleted[0] if history.deleted else getattr(r, name)


def _table_shifts(session: Session) -> dict[str, int]:
    """Forums, groups and referrals added or deleted."""
    shifts: dict[str, int] = {}
    kept = tuple(KEPT_TABLES.values())
    for rows, n in ((session.new, 1), (session.deleted, -1)):
        for r in rows:
            if isinstance(r, kept):
                shifts[r.__tablename__] = shifts.get(r.__tablename__, 0) + n
    return {k: n for k, n in shifts.items() if n}


@sa.event.listens_for(Session, "before_flush")
def _keep(session: Session, _context: Any, _instances: Any) -> None:
    states, identification, agencies, days, agency_days = _shifts(session)
    tables = _table_shifts(session)
    if not states and not identification and not agencies and not days and not agency_days and not tables and not any(
        isinstance(r, Referral) for r in (*session.new, *session.dirty, *session.deleted)
    ):
        return
    connection = session.connection()
    referrals = _referral_shifts(session, connection)
    # Core statements (no autoflush), each table's rows in one order for every transaction: no deadlock.
    table = sa.table("participant_counts", sa.column("state"), sa.column("supervision_status"),
                     sa.column("participants"))
    for state, status in sorted(states):
        connection.execute(sa.update(table).where(table.c.state == state, table.c.supervision_status == status)
                           .values(participants=table.c.participants + states[(state, status)]))
    table = sa.table("identification_counts", sa.column("supervision_status"), sa.column("age_band"),
                     sa.column("participants"))
    for status, band in sorted(identification):
        connection.execute(sa.update(table).where(table.c.supervision_status == status, table.c.age_band == band)
                           .values(participants=table.c.participants + identification[(status, band)]))
    _shift_agencies(connection, agencies)
    add_to_counts(connection, cast(sa.Table, IdentificationDay.__table__),
                  ["grain", "day", "supervision_status", "age_band"], "participants",
                  [{"grain": g, "day": d, "supervision_status": s, "age_band": b, "participants": n}
                   for (g, d, s, b), n in both_grains(days)])
    add_to_counts(connection, cast(sa.Table, IdentificationAgencyDay.__table__), ["grain", "day", "organization_id"],
                  "participants", [{"grain": g, "day": d, "organization_id": o, "participants": n}
                                   for (g, d, o), n in both_grains(agency_days)])
    table = sa.table("referral_counts", sa.column("status"), sa.column("referrals"))
    for status in sorted(referrals):
        connection.execute(sa.update(table).where(table.c.status == status)
                           .values(referrals=table.c.referrals + referrals[status]))
    table = sa.table("table_counts", sa.column("table_name"), sa.column("rows"))
    for name in sorted(tables):
        connection.execute(sa.update(table).where(table.c.table_name == name)
                           .values(rows=table.c.rows + tables[name]))


def _shift_agencies(connection: sa.Connection, agencies: dict[int, int]) -> None:
    """An agency's row is made with its first participant."""
    add_to_counts(connection, cast(sa.Table, AgencyCount.__table__), ["organization_id"], "participants",
                  [{"organization_id": org, "participants": agencies[org]} for org in sorted(agencies)])
