"""The read side: records (ceasefire.services.records) of what a user may see, for both faces.

Every function takes the user, asks ceasefire.policy, and returns records, never ORM rows. Lists go through one
paginator and load what their rows share in a fixed number of queries, whatever the number of rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.util import find_tables

from ceasefire import pipeline, policy
from ceasefire.extensions import db
from ceasefire.models import (
    AuditEvent,
    Consent,
    Forum,
    Group,
    IdentificationCriterion,
    Invitation,
    Organization,
    Participant,
    Referral,
    ReferralEvent,
    Service,
    StatusChange,
    User,
    counts,
    participant_criteria,
)
from ceasefire.models.audit import kept_total
from ceasefire.models.base import today
from ceasefire.models.enums import ForumStatus, ReferralStatus, State
from ceasefire.services import audit_trail, columns, fieldwork
from ceasefire.services import participants as participant_service
from ceasefire.services.records import (
    ABSENT,
    AuditRecord,
    ConsentRecord,
    CriterionRecord,
    EnforcementRecord,
    ForumRecord,
    HistoryRecord,
    InvitationRecord,
    Page,
    ParticipantRecord,
    ReferralEventRecord,
    ReferralRecord,
    ReferralSummary,
)

Row = TypeVar("Row")
T = TypeVar("T")


def paginate(query: sa.Select, page: int, per_page: int, build: Callable[[list[Any]], Sequence[T]],
             clamp: bool = False, total: int | None = None) -> Page[T]:
    """The one paginator: a count, the page's rows, and `build` turning the whole page into records at once.
    With `clamp` a page past the end shows the last one (the pages); without, it is empty (the API).

    Always the same statements, whatever the size: the count reads ids alone (off an index where one serves the
    filter); a deep page reads its ids off the index that serves the order (the offset skips index entries, not
    rows), then only the page's rows by id. A `total` the caller already counted (the list's tabs) is not counted
    again."""
    if total is None:
        total = _kept_total(query)
    if total is None:
        total = _count(query)
    if clamp:
        page = Page.shown(page, total, per_page)
    rows = _page_rows(query, page, per_page)
    return Page(tuple(build(rows)), total, page, per_page)


def _entity(query: sa.Select) -> Any:
    """The model a list query selects, when it selects one model with an id (every list but the API's own)."""
    described = query.column_descriptions
    entity = described[0].get("entity") if len(described) == 1 else None
    return entity if entity is not None and described[0].get("expr") is entity and hasattr(entity, "id") else None


def _page_rows(query: sa.Select, page: int, per_page: int) -> list[Any]:
    offset = (page - 1) * per_page
    entity = _entity(query)
    if entity is None or offset == 0:
        return list(db.session.scalars(query.limit(per_page).offset(offset)))
    ids = query.with_only_columns(entity.id).limit(per_page).offset(offset)
    order = list(query._order_by_clauses)
    tables = {table for clause in order for table in find_tables(clause, check_columns=True)} - {None}
    if all(table is entity.__table__ for table in tables):  # None: a literal in the order (search.by_name)
        # One statement: the page's ids in a subquery, then their rows, sorted again (a page's worth).
        found = ids.subquery()
        return list(db.session.scalars(sa.select(entity).join(found, entity.id == found.c.id).order_by(*order)))
    if all(isinstance(clause, sa.ColumnElement) and not isinstance(clause, sa.UnaryExpression) for clause in order):
        # An order on another table's columns, ascending (a search read off its postings): one statement, the
        # page's ids with the order's values in a subquery, then their rows sorted by those values.
        keyed = query.with_only_columns(entity.id, *(c.label(f"o{i}") for i, c in enumerate(order))) \
            .limit(per_page).offset(offset).subquery()
        return list(db.session.scalars(sa.select(entity).join(keyed, entity.id == keyed.c.id)
                                       .order_by(*(keyed.c[f"o{i}"] for i in range(len(order))))))
    # An order on another table's column (a join): the ids first, then their rows.
    page_ids = list(db.session.scalars(ids))
    rows = {row.id: row for row in db.session.scalars(sa.select(entity).where(entity.id.in_(page_ids)))}
    return [rows[i] for i in page_ids]


def _kept_total(query: sa.Select) -> int | None:
    """The rows of a whole table whose rows are kept counted (forums, groups: ceasefire.models.counts), read rather
    than counted; None for any other list, or a filtered one."""
    entity = _entity(query)
    if entity is None or entity.__tablename__ not in counts.KEPT_TABLES or query.whereclause is not None:
        return None
    if query.get_final_froms() != [entity.__table__] or query._distinct or query._group_by_clauses:
        return None  # a join, DISTINCT or GROUP BY: not the table's rows
    return counts.table_rows(db.session, entity)


def _count(query: sa.Select) -> int:
    entity = _entity(query)
    counted = query.with_only_columns(entity.id) if entity is not None else query
    return db.session.scalar(sa.select(sa.func.count()).select_from(counted.order_by(None).subquery())) or 0


_names = columns.names  # the name of each row of a model, by id (other read modules use it too)


# Participants


@dataclass
class _Related:
    """What a page of participants needs from other tables, loaded in one query per table, never per row, and as
    columns rather than ORM objects (a list reads hundreds of related rows, and the records carry only values)."""

    groups: dict[int, str] = field(default_factory=dict)
    referrals: dict[int, list[sa.Row]] = field(default_factory=dict)
    enforcement: dict[int, list[Any]] = field(default_factory=dict)
    outreach: dict[int, list[Any]] = field(default_factory=dict)
    names: dict[str, dict[int, str]] = field(default_factory=dict)
    criteria: dict[int, list[sa.Row]] = field(default_factory=dict)
    consented: set[int] = field(default_factory=set)  # who has a consent to share in force today

    @classmethod
    def load(cls, user: User, wanted: frozenset[str], rows: list[Participant], detail: bool) -> _Related:
        ids = [p.id for p in rows]
        related = cls()
        if wanted & {"group_name"}:
            related.groups = _names(Group, (p.group_id for p in rows))
        if wanted & {"consent_to_share"}:
            related.consented = _consented(rows, detail)
        if wanted & {"referrals", "services_offered"}:
            related.referrals = {i: [] for i in ids}
            for referral in columns.rows(_referrals_query(user), ids=ids):
                related.referrals[referral.participant_id].append(referral)
        if wanted & {"criteria"}:
            related.criteria = {i: [] for i in ids}
            for criterion in columns.rows(_CRITERIA, ids=ids):
                related.criteria[criterion.participant_id].append(criterion)
        if wanted & {"enforcement_dates", "enforcement_actions"}:
            related.enforcement = participant_service.enforcement_actions_for(rows)
        if wanted & {"outreach_contacts"}:
            related.outreach = fieldwork.outreach_records(user, ids)  # a community user: its own group's
        if detail:
            related.names = {
                "caseworker_id": _names(User, (p.caseworker_id for p in rows)),
                "community_org_id": _names(Organization, (p.community_org_id for p in rows)),
                "identifying_org_id": _names(Organization, (p.identifying_org_id for p in rows)),
            }
            if wanted & {"enforcement_actions"}:
                related.names["agency_id"] = _names(
                    Organization, (a.agency_id for actions in related.enforcement.values() for a in actions)
                )
        return related


# A referral as a record lists it, with its service's and organization's names: the columns alone.
_REFERRALS = (
    sa.select(Referral.id, Referral.participant_id, Referral.service_id, Referral.status, Referral.sent_at,
              Referral.reason, Service.name.label("service_name"), Service.organization_id,
              Organization.name.label("organization_name"))
    .join(Service, Referral.service_id == Service.id)
    .join(Organization, Service.organization_id == Organization.id)
    .where(columns.among(Referral.participant_id))
    .order_by(Referral.id)
)

_CRITERIA = (
    sa.select(participant_criteria.c.participant_id, IdentificationCriterion.id, IdentificationCriterion.name,
              IdentificationCriterion.retired_on)
    .join(IdentificationCriterion, IdentificationCriterion.id == participant_criteria.c.criterion_id)
    .where(columns.among(participant_criteria.c.participant_id)).order_by(IdentificationCriterion.id)
)

_CONSENTED = sa.select(Consent.participant_id).where(
    columns.among(Consent.participant_id), Consent.in_force_clause(sa.bindparam("today", type_=sa.Date))
).distinct()


def _referrals_query(user: User) -> sa.Select:
    """The referrals of a page that the user may see in a record (policy.referral_record_clause)."""
    narrowed = policy.referral_record_clause(user)
    return _REFERRALS if narrowed is None else _REFERRALS.where(narrowed)


def _consented(rows: list[Participant], detail: bool) -> set[int]:
    """The participants with a consent to share in force. For one participant's page their consents are loaded
    whole (the page shows the one in force); for a list, only the ids of those who have one."""
    ids = [p.id for p in rows]
    if not detail:
        return {i for i, in columns.rows(_CONSENTED, ids=ids, today=today())}
    consents: dict[int, list[Consent]] = {i: [] for i in ids}
    for consent in db.session.scalars(sa.select(Consent).where(Consent.participant_id.in_(ids)).order_by(Consent.id)):
        consents[consent.participant_id].append(consent)
    for p in rows:
        set_committed_value(p, "consents", consents[p.id])
    return {p.id for p in rows if p.consent_in_force() is not None}


def _enforcement(user: User, p: Participant, r: _Related) -> tuple[EnforcementRecord, ...]:
    agencies = r.names.get("agency_id", {})
    return tuple(
        EnforcementRecord(a.id, a.action_type, a.occurred_on, a.agency_id, a.group_id, a.incident_ref,
                          a.description, agency_name=agencies.get(a.agency_id, ""))
        for a in r.enforcement[p.id]
    )


def _referrals(user: User, p: Participant, r: _Related) -> tuple[ReferralSummary, ...]:
    """The referrals the user may see (policy.referral_record_clause chose them when they were loaded)."""
    return tuple(
        ReferralSummary(x.id, x.service_id, x.service_name, x.organization_id, ReferralStatus(x.status), x.sent_at,
                        organization_name=x.organization_name, reason=x.reason)
        for x in r.referrals[p.id]
    )


def _services_offered(user: User, p: Participant, r: _Related) -> bool:
    """services.referrals.has_sent_referral's rule, over the referrals the user may see (a provider learns nothing
    of other providers' referrals)."""
    return any(x.status != ReferralStatus.WITHDRAWN for x in r.referrals[p.id])


# The fields a record copies from the participant's own columns as they are, read all at once for each row.
COLUMNS = ("first_name", "last_name", "aliases", "date_of_birth", "phone", "address", "state", "supervising_agency",
           "caseworker_id", "community_org_id", "group_id", "identification_basis", "identifying_org_id",
           "identified_on", "review_due_on")

# The fields worked out from the participant and what the page loaded beside it (_Related).
FIELDS: dict[str, Callable[[User, Participant, _Related], Any]] = {
    "supervision_status": lambda u, p, r: p.supervision_status or None,
    "group_name": lambda u, p, r: r.groups.get(p.group_id) if p.group_id is not None else None,
    "enforcement_dates": lambda u, p, r: tuple(sorted({a.occurred_on for a in r.enforcement[p.id]})),
    "enforcement_actions": _enforcement,
    "services_offered": _services_offered,
    "consent_to_share": lambda u, p, r: p.id in r.consented,
    "referrals": _referrals,
    "outreach_contacts": lambda u, p, r: tuple(r.outreach[p.id]),
    "criteria": lambda u, p, r: tuple(
        CriterionRecord(c.id, c.name, retired=c.retired_on is not None) for c in r.criteria.get(p.id, ())
    ),
}


def participant_records(user: User, rows: list[Participant], only: Iterable[str] | None = None,
                        detail: bool = False) -> list[ParticipantRecord]:
    """Records of a page of participants, all fields the policy grants (or those of them in `only`). With
    `detail`, what the participant page adds: names beside the ids, consent, history and invitations."""
    wanted = policy.visible_fields(user.role)
    if only is not None:
        wanted &= frozenset(only)
    names = ("id", "version", *(name for name in COLUMNS if name in wanted))
    getters = [(name, get) for name, get in FIELDS.items() if name in wanted]
    related = _Related.load(user, wanted, rows, detail)
    records = []
    for p in rows:
        values = _columns(p, names)
        for name, get in getters:
            values[name] = get(user, p, related)
        if detail:
            values.update(_detail(user, p, wanted, related))
        records.append(ParticipantRecord(**values))
    return records


def _columns(p: Participant, names: tuple[str, ...]) -> dict[str, Any]:
    """The participant's values of these columns: read straight from the loaded row (a page reads a thousand), or
    through the attributes, which load what is not loaded yet (a row expired by a commit)."""
    loaded = vars(p)
    try:
        return {name: loaded[name] for name in names}
    except KeyError:
        return {name: getattr(p, name) for name in names}


def participant_record(user: User, p: Participant, detail: bool = False) -> ParticipantRecord:
    return participant_records(user, [p], detail=detail)[0]


def _detail(user: User, p: Participant, wanted: frozenset[str], r: _Related) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in ("caseworker", "community_org", "identifying_org"):
        if f"{name}_id" in wanted:
            values[f"{name}_name"] = r.names[f"{name}_id"].get(getattr(p, f"{name}_id"))
    if "consent_to_share" in wanted:
        consent = p.consent_in_force()
        values["consent"] = ConsentRecord(
            consent.given_on, consent.expires_on, consent.scope, consent.method, consent.witness_name
        ) if consent else None
    if "history" in wanted:
        values["history"] = history(user, p)
    if policy.invitation_fields(user.role):
        invitations = db.session.scalars(
            sa.select(Invitation).options(selectinload(Invitation.forum))
            .where(Invitation.participant_id == p.id).order_by(Invitation.id)
        )
        values["invitations"] = tuple(_invitation(user, inv, forum=forum_records([inv.forum])[0])
                                      for inv in invitations)
    return values


def history(user: User, p: Participant) -> tuple[HistoryRecord, ...]:
    """The participant's pipeline history, oldest first (the roles of policy's "participant.history")."""
    policy.require(user, "participant.history")
    changes = list(db.session.scalars(
        sa.select(StatusChange).where(StatusChange.participant_id == p.id).order_by(StatusChange.id)
    ))
    actors = _names(User, (c.actor_id for c in changes))
    return tuple(
        HistoryRecord(c.event, c.from_state, c.to_state, c.actor_id, c.at, c.reason,
                      actors.get(c.actor_id) if c.actor_id is not None else None)
        for c in changes
    )


def participant_page(user: User, page: int, per_page: int, clamp: bool = False, only: Iterable[str] | None = None,
                     tabs: dict[State, int] | None = None, **filters: Any) -> Page[ParticipantRecord]:
    """A page of the list; given the tabs' counts for the same filters (state_counts), its total is taken from them
    instead of counted again."""
    # Tabs given: the page has counted the matches of `q` already, so the search sorts them without counting again.
    counted = bool(tabs)
    total, found = None, None
    # A short `q` alone or within a state: its matches and everyone, kept (in the tabs' statement, if they read it).
    found = participant_service.search_kept(user, **filters)
    if found is not None:
        total = found[0]
    elif tabs is None:
        tabs = _kept_counts(user, filters)
    if found is None and not tabs:
        total = participant_service.search_total(user, **filters)
        if total is None:  # a search within a state: its total decides walking or sorting too
            found = participant_service.search_total_within(user, **filters)
            total = found[0] if found is not None else None
    if tabs and total is None:
        state = filters.get("state")
        total = sum(tabs.values()) if not state else tabs.get(state) if state in {s.value for s in State} else None
    query = participant_service.list_query(user, counted=counted, found=found, matches=total if counted else None,
                                           **filters)
    return paginate(query, page, per_page, lambda rows: participant_records(user, rows, only), clamp, total)


def state_counts(user: User, **filters: Any) -> dict[State, int]:
    """How many participants the list's filters find in each state (the list's tabs), in one statement; the state
    filter itself is left out. Empty for a role that does not see the state."""
    if not policy.sees(user.role, "state"):
        return {}
    filters.pop("state", None)
    filters.pop("sort", None)
    kept = _kept_counts(user, filters)
    if kept is None:  # a short name search: the kept counts of its piece
        kept = participant_service.search_tabs(user, **filters)
    if kept is not None:
        return kept
    query = participant_service.filtered_query(
        user, sa.select(Participant.state, sa.func.count(Participant.id)), **filters
    ).group_by(Participant.state)
    found = dict(db.session.execute(query).all())
    return {state: found.get(state, 0) for state in State}


def _kept_counts(user: User, filters: dict[str, Any]) -> dict[State, int] | None:
    """The counts kept per state (ceasefire.models.counts), for a viewer who sees every participant and a list
    filtered by state or supervision status alone; None otherwise, or when they are not kept, and the list is
    counted."""
    if any(value not in (None, "") for name, value in filters.items()
           if name not in ("state", "sort", "supervision_status")):
        return None
    policy.require(user, "participant.list")
    if policy.SCOPES[user.role] != "all" or not policy.sees(user.role, "state"):
        return None
    supervision = filters.get("supervision_status") or None
    if supervision is not None and not policy.sees(user.role, "supervision_status"):
        return None  # counted, which refuses the filter
    return counts.counted(db.session, supervision)


# Forums and invitations


def forum_records(rows: list[Forum]) -> list[ForumRecord]:
    return [
        ForumRecord(f.id, f.title, f.scheduled_at, f.location, ForumStatus(f.status), f.speakers, f.notes)
        for f in rows
    ]


def forum_page(user: User, page: int, per_page: int, clamp: bool = False) -> Page[ForumRecord]:
    policy.require(user, "forum.list")
    query = sa.select(Forum).order_by(Forum.scheduled_at.desc(), Forum.id.desc())
    return paginate(query, page, per_page, forum_records, clamp)


def _invitation(user: User, inv: Invitation, **extra: Any) -> InvitationRecord:
    values = {name: getattr(inv, name) for name in policy.invitation_fields(user.role)}
    return InvitationRecord(**values, **extra)


def forum_record(user: User, forum: Forum, roster: bool = False) -> ForumRecord:
    """The forum with the invitations of the participants the user may see, with the fields policy grants.
    With `roster` (the forum page), each invitation also says whom it is for and whether the user may check them
    in now; in a fixed number of queries, whatever the number of invitations."""
    policy.require(user, "forum.list")
    [record] = forum_records([forum])
    if not policy.invitation_fields(user.role):
        return replace(record, invitations=())
    rows = db.session.execute(policy.scope(
        user,
        sa.select(Invitation, Participant).join(Participant, Invitation.participant_id == Participant.id)
        .where(Invitation.forum_id == forum.id).order_by(Invitation.id),
    )).all()
    if not roster:
        return replace(record, invitations=tuple(_invitation(user, inv) for inv, _ in rows))
    people = {p.id: p for p in participant_records(user, [p for _, p in rows], ("first_name", "last_name", "aliases"))}
    open_now = _latest_open_invitations(user, [p for _, p in rows])
    invitations = [
        _invitation(
            user, inv, participant=people[p.id],
            may_check_in=inv.attended is None and open_now.get(p.id) == inv.id and pipeline.may(p, "attend", user),
        )
        for inv, p in rows
    ]
    invitations.sort(key=lambda i: (str(people[i.participant_id].last_name).lower(),
                                    str(people[i.participant_id].first_name).lower(), i.participant_id))
    return replace(record, invitations=tuple(invitations))


def _latest_open_invitations(user: User, participants: list[Participant]) -> dict[int, int]:
    """services.events.open_invitation for many participants at once: their latest unanswered invitation."""
    ids = [p.id for p in participants if pipeline.may(p, "attend", user)]
    if not ids:
        return {}
    return dict(db.session.execute(
        sa.select(Invitation.participant_id, sa.func.max(Invitation.id))
        .where(Invitation.participant_id.in_(ids), Invitation.attended.is_(None))
        .group_by(Invitation.participant_id)
    ).all())


# What a forum's roster (services.roster) builds its page with.
invitation_record = _invitation
latest_open_invitations = _latest_open_invitations


# Referrals


def referral_records(user: User, rows: list[Referral], detail: bool = False) -> list[ReferralRecord]:
    """Referrals the user may see (policy.referral_query or get_referral chose them). With `detail` (one referral's
    page) also who sent it and who changed it."""
    services = {s.id: s for s in db.session.scalars(
        sa.select(Service).options(selectinload(Service.organization))
        .where(Service.id.in_({r.service_id for r in rows}))
    )} if rows else {}
    events: dict[int, list[ReferralEvent]] = {r.id: [] for r in rows}
    if rows:
        for e in db.session.scalars(
            sa.select(ReferralEvent).where(ReferralEvent.referral_id.in_(list(events))).order_by(ReferralEvent.id)
        ):
            events[e.referral_id].append(e)
    people_rows = list(db.session.scalars(
        sa.select(Participant).where(Participant.id.in_({r.participant_id for r in rows}))
    )) if rows else []
    people = {p.id: p for p in participant_records(
        user, people_rows, ("first_name", "last_name", "phone", "date_of_birth")
    )}
    users = _names(User, [r.sent_by_id for r in rows] + [e.actor_id for es in events.values() for e in es]) \
        if detail else {}
    return [
        ReferralRecord(
            r.id, r.participant_id, r.service_id, services[r.service_id].organization_id, ReferralStatus(r.status),
            r.note, r.reason, r.sent_at, r.sent_by_id, r.updated_at,
            tuple(ReferralEventRecord(e.from_status, e.to_status, e.actor_id, e.at, e.reason,
                                      users.get(e.actor_id) if e.actor_id is not None else None, e.note)
                  for e in events[r.id]),
            participant=people.get(r.participant_id, ABSENT),
            service_name=services[r.service_id].name,
            organization_name=services[r.service_id].organization.name,
            sent_by_name=users.get(r.sent_by_id) if r.sent_by_id is not None else None,
        )
        for r in rows
    ]


def referral_record(user: User, referral: Referral, detail: bool = False) -> ReferralRecord:
    return referral_records(user, [referral], detail)[0]


def referral_page(user: User, page: int, per_page: int, clamp: bool = False,
                  status: ReferralStatus | None = None) -> Page[ReferralRecord]:
    query = policy.referral_query(user)  # 403 for the roles that work no referrals
    if status:
        query = query.where(Referral.status == status)
    query = query.order_by(Referral.sent_at.desc(), Referral.id.desc())
    total = None
    if policy.sees_every_referral(user):  # the counts kept per status, when kept
        kept = counts.referral_counts(db.session)
        total = None if kept is None else kept[status] if status else sum(kept.values())
    return paginate(query, page, per_page, lambda rows: referral_records(user, rows), clamp, total)


# The audit trail


# The kinds of record an audit row may name, and the column that names each.
_NAMED: dict[str, tuple[Any, Any]] = {
    "user": (User, User.name),
    "participant": (Participant, Participant.first_name + " " + Participant.last_name),
    "organization": (Organization, Organization.name),
    "service": (Service, Service.name),
    "group": (Group, Group.name),
    "forum": (Forum, Forum.title),
}


def _audit_names(rows: list[AuditEvent]) -> dict[tuple[str, int], str]:
    """The names of the users, participants and records a page of the trail mentions, in one query whatever the
    page holds (the trail is a supervisor's, who sees every participant)."""
    wanted: dict[str, set[int]] = {kind: set() for kind in _NAMED}
    for e in rows:
        if e.user_id is not None:
            wanted["user"].add(e.user_id)
        if e.participant_id is not None:
            wanted["participant"].add(e.participant_id)
        if e.object_type in wanted and e.object_id is not None:
            wanted[e.object_type].add(e.object_id)
    parts = [
        sa.select(sa.literal(kind).label("kind"), model.id.label("id"), sa.cast(column, sa.String).label("name"))
        .where(model.id.in_(wanted[kind]))
        for kind, (model, column) in _NAMED.items()
    ]
    return {(kind, ident): name for kind, ident, name in db.session.execute(sa.union_all(*parts)).all()}


def audit_records(rows: list[AuditEvent], names: bool = True) -> list[AuditRecord]:
    """The rows as records; for the pages (`names`) with the names beside the ids, which the API leaves out."""
    found = _audit_names(rows) if names and rows else {}
    return [
        AuditRecord(e.at, e.user_id, e.action, e.object_type, e.object_id, e.ip, e.detail, e.face, e.participant_id,
                    found.get(("user", e.user_id or 0)), found.get(("participant", e.participant_id or 0)),
                    found.get((e.object_type or "", e.object_id or 0)))
        for e in rows
    ]


def audit_stream(user: User, chunk: int = 1000, **filters: Any) -> Iterator[AuditRecord]:
    """Every row of the audit trail the filters select, newest first, read `chunk` rows at a time (an export
    streams them: never all in memory). The policy is asked now, not when the first row is read."""
    query = audit_trail.query(user, **filters)

    def rows() -> Iterator[AuditRecord]:
        result = db.session.execute(query.execution_options(yield_per=chunk)).scalars()
        for part in result.partitions():
            yield from audit_records(list(part))  # the session holds the rows weakly: each chunk is let go

    return rows()


def audit_page(user: User, page: int, per_page: int, clamp: bool = False, names: bool = False,
               **filters: Any) -> Page[AuditRecord]:
    """A page of the trail; unfiltered, its total is the kept one (models.audit), not a count of millions of rows."""
    query = audit_trail.query(user, **filters)  # asks the policy first
    total = kept_total(db.session) if all(v is None or v == "" for v in filters.values()) else None
    return paginate(query, page, per_page, lambda rows: audit_records(rows, names), clamp, total)
