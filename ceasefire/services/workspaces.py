"""Each role's home page: what needs the user now, as records of the read side (ceasefire.services.read).

One function per role takes the user, asks ceasefire.policy, and returns a frozen dataclass the home template
renders. Each runs a fixed number of statements, whatever the size of the program.

A community group's home lists the open cases it has not reached in OUTREACH_DAYS; a supervisor's, the reviews
falling due within REVIEW_HORIZON_DAYS and the open removal requests (services/retention_read.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from ceasefire import policy
from ceasefire.extensions import db
from ceasefire.models import (
    Consent,
    EnforcementAction,
    Forum,
    Group,
    Invitation,
    OutreachContact,
    Participant,
    Referral,
    StatusChange,
    User,
)
from ceasefire.models.base import Likely, utcnow
from ceasefire.models.enums import ForumStatus, ReferralStatus, Role, State
from ceasefire.models.referrals import waiting_on_provider
from ceasefire.services import read, reports, retention_read
from ceasefire.services.clock import program_today, zone
from ceasefire.services.records import (
    ForumRecord,
    Page,
    ParticipantRecord,
    ReferralRecord,
    RemovalRequestRecord,
    ReviewItem,
)

STALE_DAYS = 7  # a referral nobody has moved for this long is waiting too long
CONSENT_NOTICE_DAYS = 30
RECENT_DAYS = 30  # police: enforcement and group activity this recent
RECENT_EVENTS = 200  # police: the latest pipeline changes and enforcement actions the active groups are found among
PER_STATE = 10  # the oldest participants shown in each state of a caseload
LIST_LIMIT = 20
# The states a caseload lists, in the pipeline's order (closed cases are no longer anyone's load).
CASELOAD_STATES = (State.IDENTIFIED, State.INVITED, State.ATTENDED, State.SERVICES_OFFERED, State.ENFORCED)


@dataclass(frozen=True)
class InState:
    """One participant of a caseload, and since when they are in their state."""

    participant: ParticipantRecord
    since: datetime | None
    days: int


@dataclass(frozen=True)
class StateGroup:
    state: State
    total: int
    people: tuple[InState, ...]


@dataclass(frozen=True)
class Waiting:
    """A referral and how many whole days it has waited (since it was sent, or last moved)."""

    referral: ReferralRecord
    days: int


@dataclass(frozen=True)
class ExpiringConsent:
    participant: ParticipantRecord
    expires_on: date
    days_left: int


@dataclass(frozen=True)
class NextForum:
    forum: ForumRecord
    roster: int


@dataclass(frozen=True)
class CaseworkerHome:
    caseload: tuple[StateGroup, ...]
    next_forum: NextForum | None
    waiting: tuple[Waiting, ...]
    expiring: tuple[ExpiringConsent, ...]


@dataclass(frozen=True)
class ProviderHome:
    new: tuple[Waiting, ...]
    stale: tuple[Waiting, ...]
    accepted: tuple[Waiting, ...]
    enrolled: tuple[Waiting, ...]


@dataclass(frozen=True)
class Enforcement:
    occurred_on: date
    action_type: str
    participant: ParticipantRecord | None
    group_name: str | None


@dataclass(frozen=True)
class GroupActivity:
    group_id: int
    name: str
    members: int
    enforcement: int
    changes: int
    last: datetime | date | None


@dataclass(frozen=True)
class PoliceHome:
    forum: ForumRecord | None
    enforcement: tuple[Enforcement, ...]
    groups: tuple[GroupActivity, ...]


@dataclass(frozen=True)
class OutreachDue:
    """An assigned participant the group has not reached for OUTREACH_DAYS (or ever)."""

    participant_id: int
    name: str
    last_contact: datetime | None
    days_since: int | None


@dataclass(frozen=True)
class CommunityHome:
    assigned: tuple[ParticipantRecord, ...]
    assigned_total: int
    forums: tuple[ForumRecord, ...]
    outreach_due: tuple[OutreachDue, ...] = ()


@dataclass(frozen=True)
class SupervisorHome:
    counts: dict[State, int]  # participants in each state now (the list's tabs: kept, not counted)
    waiting: tuple[Waiting, ...]
    reviews: Page[ReviewItem] | None = None
    removals: Page[RemovalRequestRecord] | None = None
    funnel: tuple[dict[str, Any], ...] = ()  # the pipeline report's: how many ever reached each stage
    conversion: dict[str, float] | None = None  # and its rates between stages


def _days(since: datetime | None, now: datetime) -> int:
    return max(0, (now - since).days) if since is not None else 0


def _start_of_today() -> datetime:
    return datetime.combine(program_today(), time.min, tzinfo=zone()).astimezone(UTC)


def _upcoming_forums(limit: int) -> list[Forum]:
    """Planned forums from the start of the program's today on, soonest first (today's forum is still ahead)."""
    return list(db.session.scalars(
        sa.select(Forum)
        .where(Forum.status == ForumStatus.PLANNED, Forum.scheduled_at >= _start_of_today())
        .order_by(Forum.scheduled_at, Forum.id).limit(limit)
    ))


def _waiting(user: User, query: sa.Select, stamp: str, limit: int = LIST_LIMIT) -> tuple[Waiting, ...]:
    """Referrals waiting longest first, by `stamp` (sent_at: since sent; updated_at: since they last moved)."""
    rows = list(db.session.scalars(query.order_by(getattr(Referral, stamp), Referral.id).limit(limit)))
    records = read.referral_records(user, rows)
    now = utcnow()
    return tuple(Waiting(r, _days(getattr(r, stamp), now)) for r in records)


# Caseworkers


def caseworker(user: User) -> CaseworkerHome:
    policy.require(user, "participant.list")
    mine = Participant.caseworker_id == user.id
    since = (
        sa.select(sa.func.max(StatusChange.at)).where(StatusChange.participant_id == Participant.id)
        .correlate(Participant).scalar_subquery()
    )
    totals = dict(db.session.execute(
        policy.scope(user, sa.select(Participant.state, sa.func.count(Participant.id)))
        .where(mine).group_by(Participant.state)
    ).all())
    ranked = policy.scope(user, sa.select(
        Participant.id.label("id"), since.label("since"),
        sa.func.row_number().over(partition_by=Participant.state, order_by=(since, Participant.id)).label("n"),
    )).where(mine, Participant.state.in_([s.value for s in CASELOAD_STATES])).subquery()
    picked = db.session.execute(
        sa.select(Participant, ranked.c.since).join(ranked, ranked.c.id == Participant.id)
        .where(ranked.c.n <= PER_STATE).order_by(ranked.c.since, Participant.id)
    ).all()
    records = {r.id: r for r in read.participant_records(
        user, [p for p, _ in picked], ("first_name", "last_name", "state", "aliases"))}
    now = utcnow()
    caseload = []
    for state in CASELOAD_STATES:
        people = tuple(InState(records[p.id], at, _days(at, now)) for p, at in picked if p.state == state)
        caseload.append(StateGroup(state, totals.get(state, 0), people))
    return CaseworkerHome(tuple(caseload), next_forum(user), _my_waiting(user), _expiring(user, mine))


def next_forum(user: User) -> NextForum | None:
    policy.require(user, "forum.list")
    forums = _upcoming_forums(1)
    if not forums:
        return None
    roster = db.session.scalar(policy.scope(
        user, sa.select(sa.func.count(Invitation.id)).join(Participant, Invitation.participant_id == Participant.id)
    ).where(Invitation.forum_id == forums[0].id)) or 0
    return NextForum(read.forum_records(forums)[0], roster)


def _my_waiting(user: User) -> tuple[Waiting, ...]:
    """The user's referrals (sent by them, or for their caseload) waiting on a provider for over STALE_DAYS."""
    cutoff = utcnow() - timedelta(days=STALE_DAYS)
    # Theirs as two small sets, each off an index (an OR across the two tables would join every referral).
    theirs = sa.union(
        sa.select(Referral.id).where(Referral.sent_by_id == user.id),
        sa.select(Referral.id).join(Participant, Referral.participant_id == Participant.id)
        .where(Participant.caseworker_id == user.id),
    )
    query = (
        policy.referral_query(user)
        .where(Referral.id.in_(theirs), waiting_on_provider(),
               Referral.updated_at < cutoff)
    )
    return _waiting(user, query, "updated_at")


def _expiring(user: User, mine: Any) -> tuple[ExpiringConsent, ...]:
    today = program_today()
    rows = db.session.execute(
        policy.scope(user, sa.select(Participant, Consent.expires_on))
        .join(Consent, Consent.participant_id == Participant.id)
        .where(mine, Consent.in_force_clause(today),
               Consent.expires_on <= today + timedelta(days=CONSENT_NOTICE_DAYS))
        .order_by(Consent.expires_on, Participant.id).limit(LIST_LIMIT)
    ).all()
    people = {r.id: r for r in read.participant_records(user, [p for p, _ in rows], ("first_name", "last_name"))}
    return tuple(ExpiringConsent(people[p.id], until, (until - today).days) for p, until in rows)


# Providers


def provider(user: User) -> ProviderHome:
    base = policy.referral_query(user)  # a provider's own organization's, with a consent in force
    cutoff = utcnow() - timedelta(days=STALE_DAYS)
    busy = (ReferralStatus.ACCEPTED, ReferralStatus.ENROLLED)
    # Each status likely() to SQLite's planner, which would otherwise read every referral of that status off the
    # status index and keep the organization's: its services' referrals are read instead (a few hundred).
    return ProviderHome(
        new=_waiting(user, base.where(Likely(Referral.status == ReferralStatus.SENT)), "sent_at"),
        stale=_waiting(user, base.where(Likely(Referral.status.in_([s.value for s in busy])),
                                        Referral.updated_at < cutoff), "updated_at"),
        accepted=_waiting(user, base.where(Likely(Referral.status == ReferralStatus.ACCEPTED)), "updated_at"),
        enrolled=_waiting(user, base.where(Likely(Referral.status == ReferralStatus.ENROLLED)), "updated_at"),
    )


# Police


def police(user: User) -> PoliceHome:
    policy.require(user, "forum.list")
    forums = _upcoming_forums(1)
    forum = read.forum_record(user, forums[0], roster=True) if forums else None
    since = program_today() - timedelta(days=RECENT_DAYS)
    actions = list(db.session.scalars(
        sa.select(EnforcementAction).where(EnforcementAction.occurred_on >= since)
        .order_by(EnforcementAction.occurred_on.desc(), EnforcementAction.id.desc()).limit(LIST_LIMIT)
    )) if policy.sees(user.role, "enforcement_actions") else []
    people_rows = list(db.session.scalars(policy.scope(user, sa.select(Participant)).where(
        Participant.id.in_({a.participant_id for a in actions if a.participant_id is not None})
    ))) if actions else []
    people = {r.id: r for r in read.participant_records(user, people_rows, ("first_name", "last_name"))}
    groups = read._names(Group, (a.group_id for a in actions))
    enforcement = tuple(
        Enforcement(a.occurred_on, a.action_type, people.get(a.participant_id) if a.participant_id else None,
                    groups.get(a.group_id) if a.group_id is not None else None)
        for a in actions
    )
    return PoliceHome(forum, enforcement, group_activity(user))


def group_activity(user: User) -> tuple[GroupActivity, ...]:
    """The groups active most recently (a member's pipeline moved, or enforcement met the group or a member) in
    RECENT_DAYS, latest first, with each one's members and its activity over those days.

    Bounded at any size: the groups are found among the latest RECENT_EVENTS pipeline changes and enforcement actions
    (read newest first off their dates' indexes), and only the LIST_LIMIT groups shown are counted."""
    policy.require(user, "group.list")
    since_day = program_today() - timedelta(days=RECENT_DAYS)
    since_at = utcnow() - timedelta(days=RECENT_DAYS)
    latest: dict[int, datetime] = {}

    def seen(gid: int | None, at: datetime) -> None:
        if gid is not None and (gid not in latest or at > latest[gid]):
            latest[gid] = at

    recent_changes = (
        sa.select(StatusChange.participant_id, StatusChange.at).where(StatusChange.at >= since_at)
        .order_by(StatusChange.at.desc(), StatusChange.id.desc()).limit(RECENT_EVENTS).subquery()
    )
    for gid, at in db.session.execute(
        sa.select(Participant.group_id, recent_changes.c.at)
        .join(Participant, Participant.id == recent_changes.c.participant_id).where(Participant.group_id.is_not(None))
    ):
        seen(gid, at)
    recent_actions = (
        sa.select(EnforcementAction.group_id, EnforcementAction.participant_id, EnforcementAction.occurred_on)
        .where(EnforcementAction.occurred_on >= since_day)
        .order_by(EnforcementAction.occurred_on.desc(), EnforcementAction.id.desc()).limit(RECENT_EVENTS).subquery()
    )
    for gid, day in db.session.execute(
        sa.select(sa.func.coalesce(recent_actions.c.group_id, Participant.group_id), recent_actions.c.occurred_on)
        .outerjoin(Participant, Participant.id == recent_actions.c.participant_id)
    ):
        seen(gid, datetime.combine(day, time.max, tzinfo=zone()).astimezone(UTC))  # a day's action: its end
    names = read._names(Group, sorted(latest, key=lambda g: (latest[g], g), reverse=True)[:LIST_LIMIT])
    shown = sorted(names, key=lambda g: (-latest[g].timestamp(), names[g]))
    if not shown:
        return ()
    members = dict(db.session.execute(
        sa.select(Participant.group_id, sa.func.count(Participant.id))
        .where(Participant.group_id.in_(shown)).group_by(Participant.group_id)
    ).all())
    changed = {g: (n, last) for g, n, last in db.session.execute(
        sa.select(Participant.group_id, sa.func.count(StatusChange.id), sa.func.max(StatusChange.at))
        .join(StatusChange, StatusChange.participant_id == Participant.id)
        .where(Participant.group_id.in_(shown), StatusChange.at >= since_at).group_by(Participant.group_id)
    ).all()}
    member_group = sa.select(Participant.group_id).where(Participant.id == EnforcementAction.participant_id)
    target = sa.func.coalesce(EnforcementAction.group_id, member_group.scalar_subquery())
    members_shown = sa.select(Participant.id).where(Participant.group_id.in_(shown))
    enforced = {g: (n, last) for g, n, last in db.session.execute(  # RECENT_DAYS of actions, off the date's index
        sa.select(target, sa.func.count(EnforcementAction.id), sa.func.max(EnforcementAction.occurred_on))
        .where(EnforcementAction.occurred_on >= since_day,
               sa.or_(EnforcementAction.group_id.in_(shown), EnforcementAction.participant_id.in_(members_shown)))
        .group_by(target)
    ).all()}
    out = []
    for gid in shown:
        n_enforced, last_enforced = enforced.get(gid, (0, None))
        n_changed, last_changed = changed.get(gid, (0, None))
        last = max((d for d in (last_enforced, last_changed.date() if last_changed else None) if d), default=None)
        out.append(GroupActivity(gid, names[gid], members.get(gid, 0), n_enforced, n_changed, last))
    return tuple(out)


# Community groups


OUTREACH_DAYS = 14  # an assigned participant not reached for this long is due a contact
REVIEW_HORIZON_DAYS = 30  # reviews falling due this soon show on a supervisor's home


def community(user: User) -> CommunityHome:
    page = read.participant_page(user, 1, 50, only=("first_name", "last_name", "state"))  # their assigned people
    forums = read.forum_records(_upcoming_forums(5)) if policy.can(user, "forum.list") else []
    due = _outreach_due(user) if policy.can(user, "outreach.create") else ()
    return CommunityHome(tuple(page.items), page.total, tuple(forums), due)


def _outreach_due(user: User, limit: int = 10) -> tuple[OutreachDue, ...]:
    """The group's open cases it has not reached in OUTREACH_DAYS, never reached first, then the longest since: one
    statement whatever the caseload."""
    now = utcnow()
    last = sa.func.max(OutreachContact.contacted_at).label("last")
    query = policy.scope(user, (
        sa.select(Participant.id, Participant.first_name, Participant.last_name, last)
        # likely(): each person's contacts are read off their own index, not the organization's every contact
        .outerjoin(OutreachContact, sa.and_(OutreachContact.participant_id == Participant.id,
                                            Likely(OutreachContact.organization_id == user.organization_id)))
        .where(Participant.state != State.CLOSED)
        .group_by(Participant.id, Participant.first_name, Participant.last_name)
        .having(sa.or_(last.is_(None), last < now - timedelta(days=OUTREACH_DAYS)))
        .order_by(last.is_not(None), last, Participant.last_name, Participant.id)
        .limit(limit)
    ))
    return tuple(
        OutreachDue(pid, f"{first} {last_name}", when, _days(when, now) if when is not None else None)
        for pid, first, last_name, when in db.session.execute(query)
    )


# Supervisors


def supervisor(user: User) -> SupervisorHome:
    """The pipeline at a glance (issue #10): the participants in each state now, as the list's tabs read them (kept
    counts), and the funnel with its conversion rates over the whole history, the pipeline report's (read off the
    kept counts of stages, models.stage_counts); the days between steps are in the report, a link away."""
    counts = read.state_counts(user)
    report = reports.pipeline_funnel(user)
    waiting = policy.referral_query(user).where(waiting_on_provider())
    horizon = program_today() + timedelta(days=REVIEW_HORIZON_DAYS)
    return SupervisorHome(counts, _waiting(user, waiting, "updated_at", 10),
                          retention_read.review_page(user, 1, 10, due_before=horizon, detail=True),
                          retention_read.removal_queue(user, 1, 10),
                          funnel=tuple(report["funnel"]), conversion=report["conversion"])


# The provider inbox


S = ReferralStatus
# Its tabs, in the order of a referral's life: which statuses each holds, and what its rows are ordered by.
INBOX_TABS: dict[str, tuple[tuple[ReferralStatus, ...], Any]] = {
    "new": ((S.SENT,), Referral.sent_at),
    "accepted": ((S.ACCEPTED,), Referral.updated_at),
    "enrolled": ((S.ENROLLED,), Referral.updated_at),
    "closed": ((S.DECLINED, S.COMPLETED, S.DROPPED, S.WITHDRAWN), Referral.updated_at.desc()),
}


@dataclass(frozen=True)
class Inbox:
    tab: str
    counts: dict[str, int]
    page: Page[Waiting]


def inbox(user: User, tab: str, page: int, per_page: int) -> Inbox:
    """The referrals to the user's organization in one tab (new ones waiting longest first), with each tab's count.
    Days are counted from when a referral was sent while it is new, from its last change after that."""
    policy.require(user, "referral.inbox")
    if tab not in INBOX_TABS:
        tab = "new"
    base = policy.referral_query(user)
    by_status = dict(db.session.execute(
        base.with_only_columns(Referral.status, sa.func.count(Referral.id)).group_by(Referral.status)
    ).all())
    counts = {name: sum(by_status.get(s, 0) for s in statuses) for name, (statuses, _) in INBOX_TABS.items()}
    statuses, order = INBOX_TABS[tab]
    # likely(): the organization's services' referrals are read, not every referral of the tab's statuses (SQLite)
    query = base.where(Likely(Referral.status.in_([s.value for s in statuses]))).order_by(order, Referral.id)
    stamp = "sent_at" if tab == "new" else "updated_at"
    now = utcnow()

    def build(rows: list[Referral]) -> list[Waiting]:
        return [Waiting(r, _days(getattr(r, stamp), now)) for r in read.referral_records(user, rows)]

    return Inbox(tab, counts, read.paginate(query, page, per_page, build, clamp=True))


HOMES = {
    Role.CASEWORKER: caseworker,
    Role.PROVIDER: provider,
    Role.POLICE: police,
    Role.COMMUNITY: community,
    Role.SUPERVISOR: supervisor,
}


def home(user: User) -> Any:
    """The role's home, or None for a role that has none of its own (admins: the admin area)."""
    build = HOMES.get(user.role)
    return build(user) if build else None
