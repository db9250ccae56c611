"""Who sees what (DESIGN.md §4), as data. Views, the API, exports and reports all ask this module.

FIELD_GROUPS names the participant fields of each group; ACCESS says, per group and role, whether the role
sees the whole group (FULL) or only some of its fields. SCOPES says which participants a role may see at
all: out of scope answers 404. ACTIONS lists who may perform each non-pipeline action (403 otherwise);
pipeline events are authorised by ceasefire.pipeline's own table.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from typing import Any

import sqlalchemy as sa
from flask import current_app

from ceasefire import pipeline
from ceasefire.errors import Forbidden, NotFound
from ceasefire.extensions import db
from ceasefire.models import Consent, Forum, Group, Participant, Referral, Service, User
from ceasefire.models.base import Likely, today, utcnow
from ceasefire.models.enums import OPEN_REFERRAL_STATUSES, NoteVisibility, OutcomeType, Role

CW, POLICE, PROVIDER, COMMUNITY, SUP, ADMIN = (
    Role.CASEWORKER, Role.POLICE, Role.PROVIDER, Role.COMMUNITY, Role.SUPERVISOR, Role.ADMIN,
)
FULL = "full"

FIELD_GROUPS: dict[str, tuple[str, ...]] = {
    "identity": ("first_name", "last_name", "aliases", "date_of_birth"),
    "contact": ("phone", "address"),
    "pipeline": ("state", "history"),
    "supervision": ("supervision_status", "supervising_agency", "caseworker_id", "community_org_id"),
    "intelligence": ("group_id", "group_name", "identification_basis", "identifying_org_id", "identified_on"),
    "enforcement": ("enforcement_dates", "enforcement_actions"),
    "services": ("services_offered", "consent_to_share", "referrals"),
    "outreach": ("outreach_contacts",),
    "due_process": ("review_due_on", "criteria"),
}

ACCESS: dict[str, dict[Role, Any]] = {
    "identity": {CW: FULL, POLICE: FULL, PROVIDER: FULL, COMMUNITY: FULL, SUP: FULL},
    "contact": {CW: FULL, POLICE: FULL, PROVIDER: ("phone",), SUP: FULL},
    "pipeline": {CW: FULL, POLICE: FULL, COMMUNITY: ("state",), SUP: FULL},
    "supervision": {CW: FULL, POLICE: FULL, SUP: FULL},
    "intelligence": {CW: ("group_id", "group_name"), POLICE: FULL, SUP: FULL},
    # a caseworker learns that enforcement happened and when, not what it was
    "enforcement": {CW: ("enforcement_dates",), POLICE: FULL, SUP: FULL},
    "services": {CW: FULL, POLICE: ("services_offered",), PROVIDER: FULL, SUP: FULL},
    "outreach": {CW: FULL, COMMUNITY: FULL, SUP: FULL},
    # §4 "due process": caseworkers the review date, police the review date and criteria, supervisors all.
    "due_process": {CW: ("review_due_on",), POLICE: FULL, SUP: FULL},
}

# Which fields of a forum invitation each role sees (API.md, Forums), for the invitations of participants in its
# scope. How a person was invited can reveal probation or parole, and check-in times say where they were: community
# users learn only that an assigned participant attended; providers see no invitation at all.
INVITATION_FIELDS: dict[Role, tuple[str, ...]] = {
    CW: ("participant_id", "method", "attended", "checked_in_at"),
    POLICE: ("participant_id", "method", "attended", "checked_in_at"),
    SUP: ("participant_id", "method", "attended", "checked_in_at"),
    COMMUNITY: ("participant_id", "attended"),
}

# Which participants a role sees at all. Admins manage the system and see none (403, not an empty list).
SCOPES: dict[Role, str | None] = {
    CW: "all", POLICE: "all", SUP: "all", PROVIDER: "own_referrals", COMMUNITY: "assigned", ADMIN: None,
}

EVERYONE = frozenset(Role)
CASE_ROLES = frozenset({CW, POLICE, PROVIDER, COMMUNITY, SUP})
ACTIONS: dict[str, frozenset[Role]] = {
    "participant.list": CASE_ROLES,
    "participant.view": CASE_ROLES,
    "participant.create": frozenset({CW, POLICE, SUP}),
    "participant.update": frozenset({CW, POLICE, SUP}),
    "forum.list": CASE_ROLES,
    "forum.create": frozenset({CW, SUP}),
    "referral.list": frozenset({CW, PROVIDER, SUP}),
    "referral.create": frozenset({CW, SUP}),
    "referral.status": frozenset({CW, PROVIDER, SUP}),
    # The provider inbox: the referrals to the user's organization, by where they stand, with the buttons.
    "referral.inbox": frozenset({PROVIDER}),
    "group.list": frozenset({CW, POLICE, SUP}),
    "group.create": frozenset({POLICE, SUP}),
    # The group pages: whoever lists groups opens one (seeing GROUP_FIELDS of it); police and supervisors edit them.
    "group.view": frozenset({CW, POLICE, SUP}),
    "group.update": frozenset({POLICE, SUP}),
    "organization.list": EVERYONE,
    "organization.create": frozenset({ADMIN}),
    "service.list": EVERYONE,
    "service.create": frozenset({ADMIN}),
    "user.create": frozenset({ADMIN}),
    # The admin pages (issue #10): users, organizations and services are administered by admins alone.
    "user.list": frozenset({ADMIN}),
    "user.update": frozenset({ADMIN}),
    "organization.update": frozenset({ADMIN}),
    "service.update": frozenset({ADMIN}),
    "audit.view": frozenset({SUP}),
    "forum.update": frozenset({CW, SUP}),
    # Outcomes (§4 row "outcomes"): which types each role sees and records is OUTCOME_TYPES below.
    "outcome.view": frozenset({CW, POLICE, SUP}),
    "outcome.create": frozenset({CW, POLICE, SUP}),
    # Reports (§4 row "reports"): aggregates only; community users' small cells are suppressed
    # (REPORT_SUPPRESSED), a provider's referral statistics are its own organization's alone.
    "report.pipeline": frozenset({CW, POLICE, COMMUNITY, SUP}),
    "report.cohorts": frozenset({CW, POLICE, COMMUNITY, SUP}),
    "report.identification": frozenset({CW, POLICE, COMMUNITY, SUP}),
    "report.referrals": frozenset({CW, PROVIDER, SUP}),
    # Due process (§4 row "due process"; API.md "Due process and retention"): supervisors review and decide;
    # caseworkers file removal requests and see them without their grounds (REMOVAL_REQUEST_FIELDS).
    "review.list": frozenset({SUP}),
    "review.decide": frozenset({SUP}),
    "removal_request.list": frozenset({CW, SUP}),
    "removal_request.create": frozenset({CW, SUP}),
    "removal_request.decide": frozenset({SUP}),
    "criterion.manage": frozenset({SUP}),
    # The printable notice to a participant that they have been identified, and how to ask to be removed.
    "participant.notice": frozenset({CW, SUP}),
    # Street groups are intelligence community users do not see (§4), so the groups report is not theirs.
    "report.groups": frozenset({CW, POLICE, SUP}),
    "report.activity": frozenset({CW, POLICE, COMMUNITY, SUP}),
    "report.funder": frozenset({CW, POLICE, COMMUNITY, SUP}),
}

# Fields of a removal request each role sees (API.md: caseworkers see them without grounds).
REMOVAL_REQUEST_FIELDS: dict[Role, tuple[str, ...]] = {
    CW: ("id", "participant_id", "received_on", "requested_by", "due_on", "status", "overdue"),
    SUP: ("id", "participant_id", "received_on", "requested_by", "grounds", "due_on", "status", "overdue"),
}

# Outcome types each role sees and records; a role absent here sees no outcome at all.
_POLICE_OUTCOMES = frozenset({
    OutcomeType.ARRESTED, OutcomeType.ARRESTED_VIOLENT, OutcomeType.INCARCERATED, OutcomeType.SHOT, OutcomeType.KILLED,
})
OUTCOME_TYPES: dict[Role, frozenset[OutcomeType]] = {
    CW: frozenset(OutcomeType), POLICE: _POLICE_OUTCOMES, SUP: frozenset(OutcomeType),
}

# Roles whose reports replace every count from 1 to 4 with "<5" (§4: "cells under 5 suppressed").
REPORT_SUPPRESSED: frozenset[Role] = frozenset({COMMUNITY})
# Roles that see only their own organization's rows in the referral report.
REPORT_OWN_ORGANIZATION: frozenset[Role] = frozenset({PROVIDER})

# Kinds of record a role never sees, whatever the id: such a role gets 403 before any lookup, so its answers do
# not tell which ids exist (require_kind). Everything under /participants/{id}/ is of the kind "participant".
NEVER_SEES: dict[str, frozenset[Role]] = {
    "participant": frozenset(role for role, rule in SCOPES.items() if rule is None),
    "referral": EVERYONE - ACTIONS["referral.list"],
    "forum": EVERYONE - ACTIONS["forum.list"],
    "outcome": EVERYONE - ACTIONS["outcome.view"],
    "removal_request": EVERYONE - ACTIONS["removal_request.list"],
    "review": EVERYONE - ACTIONS["review.list"],
    "group": EVERYONE - ACTIONS["group.list"],
}

# Notes (§4 row "notes"): each note is written as all staff, police only or services team; the visibilities a role
# reads are those it may choose when it writes one. A role absent here reads and writes no note.
NOTE_VISIBILITY: dict[Role, frozenset[NoteVisibility]] = {
    CW: frozenset({NoteVisibility.ALL_STAFF, NoteVisibility.SERVICES_TEAM}),
    POLICE: frozenset({NoteVisibility.ALL_STAFF, NoteVisibility.POLICE_ONLY}),
    SUP: frozenset(NoteVisibility),
}
ACTIONS["note.view"] = ACTIONS["note.create"] = frozenset(NOTE_VISIBILITY)
# Outreach contacts (§4 row "outreach contacts"): community users log them on their assigned participants.
ACTIONS["outreach.create"] = frozenset({COMMUNITY})
# Custom notifications (§4 row "custom notifications"): home and street visits, recorded by program staff and police.
ACTIONS["custom_notification.view"] = frozenset({CW, POLICE, COMMUNITY, SUP})
ACTIONS["custom_notification.create"] = frozenset({CW, POLICE, SUP})
NEVER_SEES["custom_notification"] = EVERYONE - ACTIONS["custom_notification.view"]
# Roles that see only the rows their own organization took part in: a community user reads its own group's
# outreach contacts, and the custom notifications its group went on.
OWN_ORGANIZATION_ONLY: dict[str, frozenset[Role]] = {
    "outreach": frozenset({COMMUNITY}),
    "custom_notification": frozenset({COMMUNITY}),
}

# Fields of a group record each role sees (GET /groups, the group pages). The pages' own: `members` (who is in the
# group, their state and last enforcement, and how many they are) and `enforcement_history` (the actions recorded
# against the group); the API's records carry the first four alone.
GROUP_FIELDS: dict[Role, tuple[str, ...]] = {
    POLICE: ("id", "name", "aliases", "area", "members", "enforcement_history"),
    SUP: ("id", "name", "aliases", "area", "members", "enforcement_history"),
    CW: ("id", "name"),
}


def can(user: User, action: str) -> bool:
    return user.role in ACTIONS[action]


def require(user: User, action: str) -> None:
    if not can(user, action):
        raise Forbidden("Your role may not do this.")


def outcome_types(user: User) -> frozenset[OutcomeType]:
    return OUTCOME_TYPES.get(user.role, frozenset())


def require_outcome_type(user: User, outcome_type: OutcomeType) -> None:
    if outcome_type not in outcome_types(user):
        raise Forbidden(
            "Your role may not record this type of outcome.", {"type": "Your role may not record this type."}
        )


def note_visibilities(user: User) -> frozenset[NoteVisibility]:
    return NOTE_VISIBILITY.get(user.role, frozenset())


def own_organization_only(user: User, kind: str) -> bool:
    return user.role in OWN_ORGANIZATION_ONLY[kind]


@cache
def visible_fields(role: Role) -> frozenset[str]:
    """Every participant field the role may see (id and version are always there); worked out once per role, as the
    tables above do not change while the app runs (every list and record asks, many times a request)."""
    fields: set[str] = {"id", "version"}
    for group, by_role in ACCESS.items():
        access = by_role.get(role)
        if access == FULL:
            fields.update(FIELD_GROUPS[group])
        elif access:
            fields.update(access)
    return frozenset(fields)


def sees(role: Role, field: str) -> bool:
    return field in visible_fields(role)


def invitation_fields(role: Role) -> tuple[str, ...]:
    """The invitation fields the role sees; empty when it sees no invitation."""
    return INVITATION_FIELDS.get(role, ())


def filter_fields(role: Role, record: dict[str, Any]) -> dict[str, Any]:
    """Drop what the role may not see: such fields are absent, not null."""
    allowed = visible_fields(role)
    return {k: v for k, v in record.items() if k in allowed}


def provider_window_start():
    return utcnow() - timedelta(days=current_app.config["PROVIDER_CLOSED_REFERRAL_DAYS"])


def own_referral_clause(user: User):
    """Referrals a provider user may see: to their organization, open or closed within the window."""
    return sa.and_(
        Service.organization_id == user.organization_id,
        sa.or_(
            Referral.status.in_([s.value for s in OPEN_REFERRAL_STATUSES]),
            Referral.closed_at >= provider_window_start(),
        ),
    )


def consent_in_force_clause():
    return (
        sa.select(Consent.id)
        .where(Consent.participant_id == Participant.id, Consent.in_force_clause(today()))
        .exists()
    )


def scope(user: User, query: sa.Select) -> sa.Select:
    """Narrow a select over Participant to what the user may see."""
    rule = SCOPES[user.role]
    if rule is None:
        raise Forbidden("Your role does not see participants.")
    query = query.where(Likely(Participant.purged_at.is_(None)))  # a purged participant is no one's to see
    if rule == "all":
        return query
    if rule == "assigned":
        return query.where(Participant.community_org_id == user.organization_id)
    # The people of the provider's referrals as a list, read off its services' referrals: an EXISTS was checked
    # person by person down the name order on SQLite (every participant read for the 60 a provider sees at 150,000).
    own = Participant.id.in_(
        sa.select(Referral.participant_id).join(Service, Referral.service_id == Service.id)
        .where(own_referral_clause(user))
    )
    return query.where(own, consent_in_force_clause())


def require_kind(user: User, kind: str) -> None:
    """403 for a role that never sees this kind of record, before any lookup: whether the id exists is not told."""
    if user.role in NEVER_SEES[kind]:
        raise Forbidden(f"Your role does not see {kind.replace('_', ' ')}s.")


def get_forum(user: User, forum_id: int, action: str = "forum.list") -> Forum:
    """Load one forum: 403 for a role that never sees forums, 404 when missing, then 403 unless `action` is allowed."""
    require_kind(user, "forum")
    forum = db.session.get(Forum, forum_id)
    if forum is None:
        raise NotFound("No such forum.")
    require(user, action)
    return forum


def get_group(user: User, group_id: int, action: str = "group.view") -> Group:
    """Load one street group: 403 for a role that never sees groups, 404 when missing, then 403 unless `action` is
    allowed."""
    require_kind(user, "group")
    group = db.session.get(Group, group_id)
    if group is None:
        raise NotFound("No such group.")
    require(user, action)
    return group


def group_fields(role: Role) -> frozenset[str]:
    return frozenset(GROUP_FIELDS.get(role, ()))


def get_participant(user: User, participant_id: int, action: str = "participant.view") -> Participant:
    """Load one participant: 403 for a role that sees none, 404 when missing or out of scope, then 403 when the
    role may not do `action`."""
    require_kind(user, "participant")
    participant = db.session.get(Participant, participant_id)
    if participant is None or participant.purged_at is not None:
        raise NotFound("No such participant.")
    if SCOPES[user.role] is not None:
        in_scope = db.session.scalar(scope(user, sa.select(Participant.id).where(Participant.id == participant_id)))
        if in_scope is None:
            raise NotFound("No such participant.")
    require(user, action)
    return participant


def referral_query(user: User) -> sa.Select:
    """The referrals a user may see: all for caseworkers and supervisors, their own for a provider."""
    require(user, "referral.list")
    query = (
        sa.select(Referral).join(Service, Referral.service_id == Service.id)
        .join(Participant, Referral.participant_id == Participant.id).where(Likely(Participant.purged_at.is_(None)))
    )
    if not sees_every_referral(user):
        query = query.where(own_referral_clause(user), consent_in_force_clause())
    return query


def sees_every_referral(user: User) -> bool:
    """Caseworkers and supervisors see every referral (of a participant not purged); a provider its own."""
    return user.role != PROVIDER


def get_referral(user: User, referral_id: int) -> Referral:
    require_kind(user, "referral")
    referral = db.session.get(Referral, referral_id)
    if referral is None or referral.participant.purged_at is not None:
        raise NotFound("No such referral.")
    if user.role == PROVIDER:
        visible = db.session.scalar(
            referral_query(user).where(Referral.id == referral_id).with_only_columns(Referral.id)
        )
        if visible is None:
            raise NotFound("No such referral.")
    require(user, "referral.status")
    return referral


def referral_record_clause(user: User) -> sa.ColumnElement[bool] | None:
    """referral_visible_in_record as SQL, over a select joining Referral to its Service; None where the user sees
    every referral of a record they see."""
    return own_referral_clause(user) if user.role == PROVIDER else None


def referral_visible_in_record(user: User, referral: Referral) -> bool:
    """Within a participant record, a provider sees only their own organization's referrals, open or closed
    within the window: the same rule as own_referral_clause."""
    if user.role != PROVIDER:
        return True
    return referral.service.organization_id == user.organization_id and (
        referral.status in OPEN_REFERRAL_STATUSES
        or (referral.closed_at is not None and referral.closed_at >= provider_window_start())
    )


# Whoever sees the pipeline history in full may read it through the history endpoint.
ACTIONS["participant.history"] = frozenset(r for r in Role if sees(r, "history"))
# Whoever may fire at least one pipeline event (ceasefire.pipeline's table) may post to the events endpoint.
ACTIONS["participant.event"] = frozenset().union(*(event.roles for event in pipeline.EVENTS))
# Whoever may fire the enforce event records enforcement against a whole group (each member's action is that event,
# or a further action on someone already enforced, by the same roles).
ACTIONS["group.enforce"] = pipeline.EVENTS_BY_NAME["enforce"].roles
# The forum pages (issue #9): the roster and its printout for whoever sees invitations; the door for whoever checks
# people in; the close-out (no-shows, then held) for whoever marks no-shows and updates forums.
ACTIONS["forum.roster"] = frozenset(INVITATION_FIELDS)
ACTIONS["forum.door"] = pipeline.EVENTS_BY_NAME["attend"].roles
ACTIONS["forum.invite"] = pipeline.EVENTS_BY_NAME["invite"].roles
ACTIONS["forum.close_out"] = pipeline.EVENTS_BY_NAME["no_show"].roles & ACTIONS["forum.update"]

# Whoever sees a participant's outreach contacts may read them; whoever sees and may change consent records it.
ACTIONS["outreach.view"] = frozenset(r for r in Role if sees(r, "outreach_contacts"))
ACTIONS["consent.change"] = frozenset(r for r in ACTIONS["participant.update"] if sees(r, "consent_to_share"))
