"""What the pipeline and cohort reports read of each participant, kept so that they never group every status change
or every invitation of a program (services.reports):

- stage_entries: one row for each stage a participant's history ever entered, with the first and the last moment
  it did (status_changes' min(at) and max(at) for that to_state) and how many times (`entries`). The funnel counts
  those whose history entered a stage in a window (by day, models.stage_days). For the later stage of each step of
  the report (invited after identified, attended after invited, services offered after attended) also `span`:
  microseconds from the first entry into the earlier stage to the first entry into this one (null when the earlier
  one was never entered), whose percentiles the report takes by walking an index in order.
- cohort_members: each participant's cohort, the earliest-scheduled forum (lowest id among those scheduled at the
  same moment) they were checked in at, not cancelled; and what the cohort report counts of each member that no
  window changes: whether their history entered services_offered at or after that forum's moment, and whether
  they ever had a referral accepted, or completed (referral_events' to_status, any referral of theirs).

Both are recomputed, for the participants a flush touches, from the rows the flush wrote: after each flush, a
participant whose status changes, invitations, forums attended, referral events or referrals were inserted,
changed or deleted gets their rows anew (two statements a table, over that person's own rows). A participant
deleted takes their rows with them
(ON DELETE CASCADE). An UPDATE or DELETE run through the session on those tables (a test's or a script's, none of
the app's) recomputes the rows of the participants its WHERE picks, every participant's when it has none. (The
session's listeners are models.cohort_tallies', which call keep_people() and keep_bulk() first, then count the
forums whose cohorts moved.) What the
ORM does not see at all, a bulk INSERT ... SELECT (ceasefire.demo_bulk), is followed by refresh(), as for the kept
counts. The stage entries' own counts, by stage and by bucket of span (models.stage_counts), move with each
recomputation by the difference of the rows it removed and wrote (its DELETE and INSERT return them).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from ceasefire.extensions import Model
from ceasefire.models import stage_counts, stage_days
from ceasefire.models.base import UTCDateTime, bulk_changes, enum_type
from ceasefire.models.enums import ForumStatus, ReferralStatus, State
from ceasefire.models.forums import Forum, Invitation
from ceasefire.models.people import Participant, StatusChange
from ceasefire.models.referrals import Referral, ReferralEvent


class StageEntry(Model):
    __tablename__ = "stage_entries"
    __table_args__ = (
        sa.Index("ix_stage_entries_stage_first_at", "stage", "first_at", "span"),
        sa.Index("ix_stage_entries_stage_span", "stage", "span", "first_at"),
        # the stages entered more than once, by their last entry: a window's funnel looks up those entered before
        # and after it (services.stage_report)
        sa.Index("ix_stage_entries_reentered", "stage", "last_at", "first_at", "entries",
                 postgresql_where=sa.text("first_at < last_at"), sqlite_where=sa.text("first_at < last_at")),
    )

    participant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True
    )
    stage: Mapped[State] = mapped_column(enum_type(State, "stage"), primary_key=True)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)
    span: Mapped[int | None] = mapped_column(sa.BigInteger)
    entries: Mapped[int] = mapped_column(sa.Integer, default=1, server_default="1")


class CohortMember(Model):
    __tablename__ = "cohort_members"

    participant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True
    )
    forum_id: Mapped[int] = mapped_column(sa.ForeignKey("forums.id", ondelete="CASCADE"), index=True)
    services_offered: Mapped[bool]
    referral_accepted: Mapped[bool]
    referral_completed: Mapped[bool]


# Each step's later stage and the earlier stage its span runs from (services.stage_report.STEPS).
STEPS = {State.INVITED: State.IDENTIFIED, State.ATTENDED: State.INVITED, State.SERVICES_OFFERED: State.ATTENDED}


def span_microseconds(later: Any, earlier: Any, dialect: str) -> Any:
    """`later - earlier`, two timestamp columns (or expressions), as a whole number of microseconds."""
    if dialect == "postgresql":
        # date_part is double precision (extract is numeric, and slower): a span of up to a few centuries in
        # microseconds is within 2**53, and its error far below half a microsecond, so round() gives it exactly
        return sa.cast(sa.func.round(sa.func.date_part("epoch", later - earlier) * 1_000_000), sa.BigInteger)
    # SQLite keeps a timestamp as text, 'YYYY-MM-DD HH:MM:SS' then a fraction of six digits (SQLAlchemy) or three
    # (a date function's %f): whole seconds from the first 19 characters (strftime would round the fraction), and
    # the fraction, padded to six digits, as microseconds.
    def seconds(moment):
        return sa.cast(sa.func.strftime("%s", sa.func.substr(moment, 1, 19)), sa.BigInteger)

    def fraction(moment):
        return sa.cast(sa.func.substr(sa.type_coerce(moment, sa.String) + "000000", 21, 6), sa.BigInteger)

    return (seconds(later) - seconds(earlier)) * 1_000_000 + fraction(later) - fraction(earlier)


def _stage_rows(people: Any, dialect: str) -> sa.Select:
    """Each participant's (of `people`, a SELECT of ids or a list; everyone when None) stage entries."""
    changes = StatusChange.__table__.c
    select = sa.select(
        changes.participant_id, changes.to_state.label("stage"), sa.func.min(changes.at).label("first_at"),
        sa.func.max(changes.at).label("last_at"), sa.func.count().label("entries"),
    )
    if people is not None:
        select = select.where(changes.participant_id.in_(people))
    firsts = select.group_by(changes.participant_id, changes.to_state).cte("firsts")
    earlier = firsts.alias("earlier")
    before = sa.case(*[(firsts.c.stage == later.value, earlier_stage.value) for later, earlier_stage in STEPS.items()])
    return (
        sa.select(firsts.c.participant_id, firsts.c.stage, firsts.c.first_at, firsts.c.last_at,
                  span_microseconds(firsts.c.first_at, earlier.c.first_at, dialect), firsts.c.entries)
        .outerjoin(earlier, sa.and_(earlier.c.participant_id == firsts.c.participant_id, earlier.c.stage == before))
    )


def _cohort_rows(people: Any, _dialect: str) -> sa.Select:
    invitations, forums = Invitation.__table__.c, Forum.__table__.c
    ranked = (
        sa.select(
            invitations.participant_id, invitations.forum_id, forums.scheduled_at,
            sa.func.row_number().over(
                partition_by=invitations.participant_id, order_by=(forums.scheduled_at, forums.id)
            ).label("rank"),
        )
        .join_from(Invitation.__table__, Forum.__table__, forums.id == invitations.forum_id)
        .where(invitations.attended.is_(True), forums.status != ForumStatus.CANCELLED.value)
    )
    if people is not None:
        ranked = ranked.where(invitations.participant_id.in_(people))
    ranked_q = ranked.subquery("ranked")
    changes = StatusChange.__table__.c
    offered = sa.exists().where(
        changes.participant_id == ranked_q.c.participant_id, changes.to_state == State.SERVICES_OFFERED.value,
        changes.at >= ranked_q.c.scheduled_at,
    )
    referrals, events = Referral.__table__.c, ReferralEvent.__table__.c

    def reached(status: ReferralStatus) -> sa.Subquery:
        """The people with a referral that reached `status`, once each: joined, not asked per member (a
        correlated EXISTS here was planned at a million participants as a scan of every referral per member)."""
        found = (
            sa.select(referrals.participant_id)
            .join_from(Referral.__table__, ReferralEvent.__table__, events.referral_id == referrals.id)
            .where(events.to_status == status.value).distinct()
        )
        if people is not None:
            found = found.where(referrals.participant_id.in_(people))
        return found.subquery(f"reached_{status.value}")

    accepted, completed = reached(ReferralStatus.ACCEPTED), reached(ReferralStatus.COMPLETED)
    return (
        sa.select(
            ranked_q.c.participant_id, ranked_q.c.forum_id, offered, accepted.c.participant_id.is_not(None),
            completed.c.participant_id.is_not(None),
        )
        .select_from(ranked_q)
        .outerjoin(accepted, accepted.c.participant_id == ranked_q.c.participant_id)
        .outerjoin(completed, completed.c.participant_id == ranked_q.c.participant_id)
        .where(ranked_q.c.rank == 1)
    )


_COLUMNS: tuple[tuple[Any, Callable[[Any, str], sa.Select], list[str]], ...] = (
    (StageEntry, _stage_rows, ["participant_id", "stage", "first_at", "last_at", "span", "entries"]),
    (CohortMember, _cohort_rows,
     ["participant_id", "forum_id", "services_offered", "referral_accepted", "referral_completed"]),
)
_BUILT: dict[tuple[str, bool], list[tuple[Any, Any]]] = {}


def _statements(dialect: str, everyone: bool) -> list[tuple[Any, Any]]:
    """Each table's DELETE and INSERT ... SELECT that recompute the rows of a list of people (the expanding
    parameter `people`), or of everyone; built once a dialect, as building the two SELECTs took some 5 ms a flush.
    The stage entries' statements return the rows they removed and wrote."""
    built = _BUILT.get((dialect, everyone))
    if built is None:
        people: Any = None if everyone else sa.bindparam("people", expanding=True)
        built = []
        for model, rows, columns in _COLUMNS:
            table = cast(sa.Table, model.__table__)
            delete: Any = sa.delete(table)
            if people is not None:
                delete = delete.where(table.c.participant_id.in_(people))
            insert: Any = sa.insert(table).from_select(columns, rows(people, dialect))
            if model is StageEntry and not everyone:
                delete = delete.returning(*_returned(table))
                insert = insert.returning(*_returned(table))
            built.append((delete, insert))
        _BUILT[(dialect, everyone)] = built
    return built


def _recompute(connection: sa.Connection, people: list[int] | None) -> None:
    """The rows of `people` (a list of participant ids; everyone when None) anew from their history."""
    (stage_delete, stage_insert), (cohort_delete, cohort_insert) = _statements(
        connection.dialect.name, people is None)
    if people is None:
        for statement in (stage_delete, stage_insert, cohort_delete, cohort_insert):
            connection.execute(statement)
        stage_counts.refresh(connection)
        stage_days.refresh(connection)
        return
    given = {"people": people}
    # the counts of stages and spans, and of days, moved by the difference
    removed = connection.execute(stage_delete, given).all()
    _shift(connection, removed, connection.execute(stage_insert, given).all())
    connection.execute(cohort_delete, given)
    connection.execute(cohort_insert, given)


def _returned(table: sa.Table) -> tuple[Any, ...]:
    """The columns of the stage entries a recomputation returns, for the counts (models.stage_counts, stage_days)."""
    return table.c.stage, table.c.span, table.c.first_at, table.c.last_at


def _shift(connection: sa.Connection, removed: Sequence[Any], added: Sequence[Any]) -> None:
    """The stage entries' own counts moved by the rows a recomputation removed and wrote (nothing to move when it
    wrote back what it removed, as for most flushes)."""
    if Counter(map(tuple, removed)) == Counter(map(tuple, added)):
        return
    stage_counts.shift(connection, removed, added)
    stage_days.shift(connection, removed, added)


def refresh(session: Session | Any) -> None:
    """Every participant's rows anew (after a bulk load that went around the ORM)."""
    _recompute(session.connection(), None)


def changed(obj: Any, names: tuple[str, ...]) -> bool:
    insp = sa.inspect(obj)
    return any(insp.attrs[name].history.has_changes() for name in names)


def old_and_new(obj: Any, name: str) -> set[Any]:
    history = sa.inspect(obj).attrs[name].history
    return {*history.deleted, *history.added, *history.unchanged} - {None}


_WATCHED: dict[type, tuple[str, ...]] = {
    StatusChange: ("at", "to_state", "participant_id"),
    Invitation: ("attended", "forum_id", "participant_id"),
    Referral: ("participant_id",),
    ReferralEvent: ("to_status", "referral_id"),
}


def _touched(session: Session) -> tuple[set[int], set[int], set[int]]:
    """The participants whose history, check-ins or referrals the flush changed, the referrals whose events it
    changed (their participants are looked up after), and the forums moved or (un)cancelled."""
    people: set[int] = set()
    referrals: set[int] = set()
    forums: set[int] = set()
    for obj in session.new:
        if isinstance(obj, StatusChange) or (isinstance(obj, Invitation) and obj.attended):
            people.add(obj.participant_id)
        elif isinstance(obj, ReferralEvent):
            referrals.add(obj.referral_id)
    for obj in session.dirty:
        watched = _WATCHED.get(type(obj))
        if watched is not None and changed(obj, watched):
            if isinstance(obj, ReferralEvent):
                referrals |= old_and_new(obj, "referral_id")
            else:
                people |= old_and_new(obj, "participant_id")
        elif isinstance(obj, Forum) and changed(obj, ("status", "scheduled_at")):
            forums.add(obj.id)
    for obj in session.deleted:
        if isinstance(obj, StatusChange | Invitation | Referral):
            people |= old_and_new(obj, "participant_id")
        elif isinstance(obj, ReferralEvent):
            referrals |= old_and_new(obj, "referral_id")
    return people - {None}, referrals - {None}, forums


CHUNK = 500


@sa.event.listens_for(Session, "before_flush")
def _deleting(session: Session, _context: Any, _instances: Any) -> None:
    """A participant deleted: their stage entries removed and counted out now, as the database's cascade would take
    them unseen by the counts (models.stage_counts)."""
    people = sorted(p.id for p in session.deleted if isinstance(p, Participant) and p.id is not None)
    if people:
        connection = session.connection()
        table = cast(sa.Table, StageEntry.__table__)
        removed = connection.execute(sa.delete(table).where(table.c.participant_id.in_(people))
                                     .returning(*_returned(table))).all()
        _shift(connection, removed, [])


def keep_people(session: Session, connection: sa.Connection,
                cohort_forums: Callable[[sa.Connection, set[int]], set[int]]) -> set[int]:
    """After a flush (models.cohort_tallies calls it first): the rows of the participants it touched anew. Returns
    the forums whose cohorts may have changed: those of these participants before and after (`cohort_forums` reads
    them), and the forums moved or (un)cancelled."""
    people, referrals, forums = _touched(session)
    if not people and not referrals and not forums:
        return set()
    if referrals:
        table = Referral.__table__.c
        people |= set(connection.execute(sa.select(table.participant_id).where(table.id.in_(sorted(referrals))))
                      .scalars())
    if forums:
        invitations = Invitation.__table__.c
        people |= set(connection.execute(
            sa.select(invitations.participant_id).where(invitations.forum_id.in_(sorted(forums)))).scalars())
    before = cohort_forums(connection, people)
    ordered = sorted(people)
    for start in range(0, len(ordered), CHUNK):
        _recompute(connection, ordered[start:start + CHUNK])
    return before | cohort_forums(connection, people) | forums


# The columns whose change moves a participant's rows, by table.
WATCHED_COLUMNS = {
    "status_changes": {"at", "to_state", "participant_id"},
    "invitations": {"attended", "forum_id", "participant_id"},
    "forums": {"status", "scheduled_at"},
    "referrals": {"participant_id"},
    "referral_events": {"to_status", "referral_id"},
}


def keep_bulk(state: Any) -> Any:
    """An UPDATE or DELETE of watched columns, run through the session (models.cohort_tallies' listener calls it
    first): the rows of the participants it picks anew, after it (the participants found before it, as its WHERE
    may name the columns it changes). The statement's result; None, not run, when it is not one of these."""
    changed = bulk_changes(state, WATCHED_COLUMNS)
    if not changed:
        return None
    statement = state.statement
    table = statement.table
    connection = state.session.connection()
    where = statement.whereclause
    people: list[int] | None = None
    if where is not None and not changed & {"participant_id", "referral_id"}:
        picked = sa.select(table.c.id).where(where)
        if table.name == "forums":
            invitations = Invitation.__table__.c
            picked = sa.select(invitations.participant_id).where(invitations.forum_id.in_(picked))
        elif table.name == "referral_events":
            referrals = Referral.__table__.c
            picked = sa.select(referrals.participant_id).where(
                referrals.id.in_(sa.select(table.c.referral_id).where(where)))
        else:
            picked = sa.select(table.c.participant_id).where(where)
        people = sorted(set(connection.execute(picked).scalars()))
    result = state.invoke_statement()
    if people is None:
        _recompute(connection, None)
    for start in range(0, len(people or []), CHUNK):
        _recompute(connection, people[start:start + CHUNK])  # type: ignore[index]
    return result
