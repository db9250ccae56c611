"""What the cohort report (services.reports.cohorts) shows of each forum, kept: one row a forum with every count of
its report row (invited and attended, its cohort, services offered, referrals accepted and completed, enforcement
and each outcome type within 6 and 12 months), counted by the report's own statement (count()) over that forum, and
the day held it was counted for (`held`, the forum's date in the program's time zone as a day number): the report
reads the rows of the forums it lists, and counts afresh only a forum whose row is missing or was counted for
another day (the TIMEZONE setting changed). The windows run from the forum's day, so no row ages.

A forum's row is counted anew, in the transaction of every change, after each flush that touches it: an invitation
to it inserted, changed or deleted; the forum created, moved or (un)cancelled; a participant whose cohort it was or
is (models.stages: their check-ins, history or referrals changed, read before and after their cohort is recomputed);
an outcome or enforcement action of one of its members, or one against the group of one of them, inserted, changed
or deleted; a member moved to another group. An UPDATE or DELETE of those columns run through the session (a
test's or a script's, none of the app's) counts every forum anew. A bulk INSERT ... SELECT (ceasefire.demo_bulk) is
followed by refresh() (counts.refresh()). A forum deleted takes its row with it (ON DELETE CASCADE).
"""

from __future__ import annotations

import calendar
import functools
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ceasefire.extensions import Model
from ceasefire.models import stages
from ceasefire.models.base import bulk_changes, program_zone
from ceasefire.models.enforcement import EnforcementAction
from ceasefire.models.enums import OutcomeType
from ceasefire.models.forums import Forum, Invitation
from ceasefire.models.outcomes import Outcome
from ceasefire.models.people import Participant
from ceasefire.models.stages import CohortMember

KINDS = tuple(t.value for t in OutcomeType)
# The counts of a report row, in the row's order (the outcomes: each type's 6 months, then each type's 12).
MEASURES = (
    "invited", "attended", "cohort", "services_offered", "referrals_accepted", "referrals_completed",
    "enforced_6m", "enforced_12m", *(f"{kind}_6m" for kind in KINDS), *(f"{kind}_12m" for kind in KINDS),
)

TALLIES = sa.Table(
    "cohort_tallies", Model.metadata,
    sa.Column("forum_id", sa.Integer, sa.ForeignKey("forums.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("held", sa.Integer, nullable=False),
    *(sa.Column(name, sa.Integer, nullable=False) for name in MEASURES),
)

EPOCH = date(1970, 1, 1).toordinal()
CHUNK = 2000  # forums a flush touched, counted in one statement
FEW = 64  # up to this many forums, counted by a statement built once (their days as parameters)


def add_months(day: date, months: int) -> date:
    """The same day of the month `months` later; the month's last day when it has no such day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    if year > date.max.year:
        return date.max
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def held_on(moment: datetime) -> date:
    """A forum's date: its moment's day in the program's time zone."""
    try:
        return moment.astimezone(program_zone()).date()
    except OverflowError:  # a time at the very edge of year 1 or 9999
        return moment.date()


def day_of(day: date) -> int:
    return day.toordinal() - EPOCH


def day_number(column: Any, dialect: str) -> Any:
    """A date column as a whole number of days since 1970-01-01, in SQL (as day_of() here)."""
    if dialect == "postgresql":
        return column - sa.literal_column("DATE '1970-01-01'")
    return sa.cast(sa.func.julianday(column) - 2440587.5, sa.Integer)


DAYS = ("forum_id", "held", "end_6m", "end_12m")


def _days_of(day: date) -> tuple[int, int, int]:
    return day_of(day), day_of(add_months(day, 6)), day_of(add_months(day, 12))


def _forum_days(held: dict[int, date]) -> Any:
    """A table (a VALUES list) of each forum's id, day held and the last days of its 6 and 12 months, the days as
    day numbers: worked out here in the program's time zone, joined to by forum there. Whole numbers written into
    the statement, not parameters, so that thousands of forums stay within any parameter limit; and written here
    (int formats each), as SQLAlchemy's literal VALUES take a quarter of a second for 3,500 forums."""
    body = ", ".join("(" + ", ".join(str(int(n)) for n in (fid, *_days_of(day))) + ")" for fid, day in held.items())
    return _days_table(body)


def _days_table(body: str, params: list[sa.BindParameter] | None = None) -> Any:
    # VALUES' columns are column1, column2, ... on PostgreSQL and SQLite alike
    columns = ", ".join(f"column{i} AS {name}" for i, name in enumerate(DAYS, start=1))
    text = sa.text(f"SELECT {columns} FROM (VALUES {body}) AS forum_days_values")  # noqa: S608 (numbers, names)
    if params:
        text = text.bindparams(*params)
    return text.columns(*[sa.column(name, sa.Integer) for name in DAYS]).cte("forum_days")


@functools.lru_cache(maxsize=32)
def _few_forums_statement(dialect: str, rows: int) -> sa.Select:
    """The statement for `rows` forums whose days are parameters (what a flush counts): built, and compiled by
    SQLAlchemy, once for each such size (a size a power of two, the rest filled with forum 0, which is none)."""
    body = ", ".join("(" + ", ".join(f":{name}_{i}" for name in DAYS) + ")" for i in range(rows))
    params = [sa.bindparam(f"{name}_{i}", type_=sa.Integer) for i in range(rows) for name in DAYS]
    return _statement(_days_table(body, params), dialect)


def _statement(days: Any, dialect: str) -> sa.Select:
    """Every count of the report rows of the forums of `days`, one row a forum (each measure a GROUP BY by forum,
    joined to the forum's row). A person is in one cohort: the members' own counts come from one pass over them
    (kept on each member, models.stages), and the dated ones (enforcement, outcomes) first take one row a member,
    then sum those a forum, without a count of distinct values, which PostgreSQL would sort for."""
    def cohort() -> sa.Subquery:
        return (
            sa.select(CohortMember.participant_id.label("member"), CohortMember.forum_id.label("forum_id"),
                      days.c.held, days.c.end_6m, days.c.end_12m)
            .join(days, days.c.forum_id == CohortMember.forum_id)
            .subquery("cohort")
        )

    def flag(condition: Any) -> Any:
        return sa.case((condition, 1), else_=0)

    def within(day: Any, held: Any, end: Any) -> Any:
        return sa.and_(day_number(day, dialect) > held, day_number(day, dialect) <= end)

    def distinct(column: Any, condition: Any = None) -> Any:
        if condition is None:
            return sa.func.count(sa.distinct(column))
        return sa.func.count(sa.distinct(sa.case((condition, column))))

    invited = sa.select(
        Invitation.forum_id.label("forum_id"), distinct(Invitation.participant_id).label("invited"),
        distinct(Invitation.participant_id, Invitation.attended.is_(True)).label("attended"),
    ).join(days, days.c.forum_id == Invitation.forum_id).group_by(Invitation.forum_id).subquery("invited")
    kept = CohortMember
    own = (
        sa.select(
            kept.forum_id, sa.func.count().label("cohort"),
            sa.func.sum(flag(kept.services_offered.is_(True))).label("services_offered"),
            sa.func.sum(flag(kept.referral_accepted.is_(True))).label("accepted"),
            sa.func.sum(flag(kept.referral_completed.is_(True))).label("completed"),
        )
        .join(days, days.c.forum_id == kept.forum_id)
        .group_by(kept.forum_id)
        .subquery("own")
    )
    # An action on a whole group counts for each cohort member in that group.
    acted, grouped = cohort(), cohort()
    actions = sa.union_all(
        sa.select(acted, EnforcementAction.occurred_on.label("day"))
        .join(EnforcementAction, EnforcementAction.participant_id == acted.c.member),
        sa.select(grouped, EnforcementAction.occurred_on)
        .join(Participant, Participant.id == grouped.c.member)
        .join(EnforcementAction, sa.and_(EnforcementAction.group_id.is_not(None),
                                         EnforcementAction.group_id == Participant.group_id)),
    ).subquery("actions")
    per_member = (
        sa.select(actions.c.forum_id,
                  sa.func.max(flag(within(actions.c.day, actions.c.held, actions.c.end_6m))).label("in_6m"),
                  sa.func.max(flag(within(actions.c.day, actions.c.held, actions.c.end_12m))).label("in_12m"))
        .group_by(actions.c.member, actions.c.forum_id)
        .subquery("enforced_members")
    )
    enforced = sa.select(
        per_member.c.forum_id, sa.func.sum(per_member.c.in_6m).label("in_6m"),
        sa.func.sum(per_member.c.in_12m).label("in_12m"),
    ).group_by(per_member.c.forum_id).subquery("enforced")
    # Outcomes within the 12 months alone (those of 6 are among them): one row a member and type, then a forum's.
    befell = cohort()
    per_type = (
        sa.select(befell.c.forum_id, Outcome.type.label("kind"),
                  sa.func.max(flag(within(Outcome.occurred_on, befell.c.held, befell.c.end_6m))).label("in_6m"))
        .join(Outcome, sa.and_(Outcome.participant_id == befell.c.member,
                               within(Outcome.occurred_on, befell.c.held, befell.c.end_12m)))
        .group_by(befell.c.member, befell.c.forum_id, Outcome.type)
        .subquery("outcome_members")
    )
    outcomes = sa.select(
        per_type.c.forum_id,
        *[sa.func.sum(sa.case((per_type.c.kind == kind, per_type.c.in_6m), else_=0)).label(f"{kind}_6m")
          for kind in KINDS],
        *[sa.func.sum(flag(per_type.c.kind == kind)).label(f"{kind}_12m") for kind in KINDS],
    ).group_by(per_type.c.forum_id).subquery("outcomes")
    columns = [
        invited.c.invited, invited.c.attended, own.c.cohort, own.c.services_offered, own.c.accepted,
        own.c.completed, enforced.c.in_6m, enforced.c.in_12m,
        *(outcomes.c[f"{kind}_6m"] for kind in KINDS), *(outcomes.c[f"{kind}_12m"] for kind in KINDS),
    ]
    statement = sa.select(days.c.forum_id, *columns).select_from(days)
    for table in (invited, own, enforced, outcomes):
        statement = statement.outerjoin(table, table.c.forum_id == days.c.forum_id)
    return statement


def count(connection: sa.Connection, held: dict[int, date]) -> dict[int, dict[str, int]]:
    """Each forum's counts (of `held`: forum id -> its day held), {forum id: {measure: n}}, in one statement."""
    if not held:
        return {}
    found = {fid: dict.fromkeys(MEASURES, 0) for fid in held}
    if len(held) <= FEW:
        rows = 1 << (len(held) - 1).bit_length()
        days = [(fid, *_days_of(day)) for fid, day in held.items()] + [(0, 0, 0, 0)] * (rows - len(held))
        result = connection.execute(_few_forums_statement(connection.dialect.name, rows), {
            f"{name}_{i}": value for i, row in enumerate(days) for name, value in zip(DAYS, row, strict=True)})
    else:
        result = connection.execute(_statement(_forum_days(held), connection.dialect.name))
    for fid, *values in result:
        if fid in found:
            found[fid] = {name: int(n or 0) for name, n in zip(MEASURES, values, strict=True)}
    return found


def keep(connection: sa.Connection, forum_ids: Iterable[int] | None) -> None:
    """The rows of these forums (every forum's when None) counted anew."""
    table = Forum.__table__.c
    wanted = sorted(set(forum_ids)) if forum_ids is not None else None
    if wanted is None:
        chunks: Iterable[list[int]] = _all_forum_chunks(connection)
    else:
        chunks = (wanted[start:start + CHUNK] for start in range(0, len(wanted), CHUNK))
    for chunk in chunks:
        held = {fid: held_on(moment) for fid, moment in connection.execute(
            sa.select(table.id, table.scheduled_at).where(table.id.in_(chunk)))}
        connection.execute(sa.delete(TALLIES).where(TALLIES.c.forum_id.in_(chunk)))
        rows = [{"forum_id": fid, "held": day_of(held[fid]), **counts}
                for fid, counts in count(connection, held).items()]
        if rows:
            connection.execute(sa.insert(TALLIES), rows)


def _all_forum_chunks(connection: sa.Connection) -> Iterable[list[int]]:
    """Every forum, in one chunk: the statement over them all joins whole tables once (over chunks it would join
    them once a chunk)."""
    connection.execute(sa.delete(TALLIES))
    ids = list(connection.execute(sa.select(Forum.__table__.c.id).order_by(Forum.__table__.c.id)).scalars())
    return [ids] if ids else []


def refresh(session: Session | Any) -> None:
    """Every forum's row anew (after a bulk load that went around the ORM)."""
    keep(session.connection(), None)


def _cohort_forums(connection: sa.Connection, people: set[int]) -> set[int]:
    """The forums whose cohorts these participants are in."""
    ordered = sorted(people)
    found: set[int] = set()
    for start in range(0, len(ordered), stages.CHUNK):
        found |= set(connection.execute(sa.select(CohortMember.forum_id).where(
            CohortMember.participant_id.in_(ordered[start:start + stages.CHUNK]))).scalars())
    return found


def _touched(session: Session) -> tuple[set[int], set[int], set[int]]:
    """What the flush changed besides what models.stages follows: the forums whose invitations (any, not only
    check-ins) or own row changed, the participants whose outcomes, enforcement actions or group changed, and the
    groups an action against a whole group was recorded, changed or removed for."""
    forums: set[int] = set()
    people: set[int] = set()
    groups: set[int] = set()
    watched: dict[type, tuple[str, ...]] = {
        Invitation: ("forum_id", "participant_id", "attended"),
        Outcome: ("participant_id", "type", "occurred_on"),
        EnforcementAction: ("participant_id", "group_id", "occurred_on"),
        Participant: ("group_id",),
    }

    def note(obj: Any) -> None:
        if isinstance(obj, Invitation):
            forums.update(stages.old_and_new(obj, "forum_id"))
        elif isinstance(obj, Participant):
            people.update(stages.old_and_new(obj, "id"))
        else:
            people.update(stages.old_and_new(obj, "participant_id"))
            if isinstance(obj, EnforcementAction):
                groups.update(stages.old_and_new(obj, "group_id"))

    for obj in session.new:
        if isinstance(obj, Forum):
            forums.add(obj.id)
        elif type(obj) in watched and not isinstance(obj, Participant):
            note(obj)
    for obj in session.dirty:
        names = watched.get(type(obj))
        if names is not None and stages.changed(obj, names):
            note(obj)
    for obj in session.deleted:
        if type(obj) in watched and not isinstance(obj, Participant):
            note(obj)
    return forums, people, groups


@sa.event.listens_for(Session, "after_flush")
def _keep(session: Session, _context: Any) -> None:
    """The cohorts (models.stages) first, then the rows of every forum the flush touched."""
    connection = session.connection()
    forums = stages.keep_people(session, connection, _cohort_forums)
    more, people, groups = _touched(session)
    forums |= more
    if people:
        forums |= _cohort_forums(connection, people)
    if groups:
        forums |= set(connection.execute(
            sa.select(CohortMember.forum_id).join(Participant, Participant.id == CohortMember.participant_id)
            .where(Participant.group_id.in_(sorted(groups)))).scalars())
    if forums:
        keep(connection, forums)


# The columns whose change moves a forum's row, by table (beside those models.stages watches).
_WATCHED_COLUMNS = {
    "invitations": {"attended", "forum_id", "participant_id"},
    "forums": {"status", "scheduled_at"},
    "outcomes": {"participant_id", "type", "occurred_on"},
    "enforcement_actions": {"participant_id", "group_id", "occurred_on"},
    "participants": {"group_id"},
    **stages.WATCHED_COLUMNS,
}


@sa.event.listens_for(Session, "do_orm_execute")
def _keep_bulk(state: Any) -> Any:
    """An UPDATE or DELETE of watched columns run through the session: the cohorts anew (models.stages), then every
    forum's row."""
    if not bulk_changes(state, _WATCHED_COLUMNS):
        return None
    result = stages.keep_bulk(state)
    if result is None:
        result = state.invoke_statement()
    keep(state.session.connection(), None)
    return result
