"""Field work on a participant: notes, community outreach contacts and custom notifications (home or street visits).

The verbs take the actor, validate, add the row and its audit row, and flush; the reads return records
(ceasefire.services.records) with what ceasefire.policy lets the actor see, loaded in a fixed number of queries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ceasefire import limits, policy
from ceasefire.errors import Forbidden, ValidationFailed
from ceasefire.extensions import db
from ceasefire.models import CustomNotification, Note, Organization, OutreachContact, Participant, User
from ceasefire.models.base import utcnow
from ceasefire.models.enums import LAW_ENFORCEMENT_KINDS, NoteVisibility, OrgKind, OutreachKind, Role
from ceasefire.models.fieldwork import custom_notification_organizations
from ceasefire.services import audit, columns
from ceasefire.services.records import CustomNotificationRecord, NoteRecord, OutreachRecord

# Who may go on a custom notification: police and community partners, and the program's own staff.
TEAM_ROLES = frozenset({Role.POLICE, Role.COMMUNITY, Role.CASEWORKER, Role.SUPERVISOR})
TEAM_ORG_KINDS = frozenset({*LAW_ENFORCEMENT_KINDS, OrgKind.COMMUNITY})


def _text(value: Any, name: str, limit: int, required: bool, problems: dict[str, str]) -> str | None:
    if value is not None and not isinstance(value, str):
        problems[name] = "Must be text."
        return None
    text = (value or "").strip()
    if required and not text:
        problems[name] = "This field is required."
    elif len(text) > limit:
        problems[name] = f"At most {limit} characters."
    return text or None


def _moment(value: Any, name: str, problems: dict[str, str]) -> datetime | None:
    if not isinstance(value, datetime) or value.tzinfo is None:
        problems[name] = "Must be a date and time."
        return None
    if value > utcnow():
        problems[name] = "The time is in the future."
    return value


def _choice(enum_cls: Any, value: Any, name: str, problems: dict[str, str]) -> Any:
    try:
        return enum_cls(value)
    except ValueError:
        problems[name] = "Must be one of: " + ", ".join(m.value for m in enum_cls) + "."
        return None


def _refuse(problems: dict[str, str]) -> None:
    if problems:
        raise ValidationFailed("Some fields need attention.", problems)


# Notes


def write_note(actor: User, participant: Participant, body: Any, visibility: Any) -> Note:
    """A note, readable by the roles its visibility names; a writer chooses among the visibilities it reads."""
    policy.require(actor, "note.create")
    problems: dict[str, str] = {}
    text = _text(body, "body", limits.TEXT, True, problems)
    chosen = _choice(NoteVisibility, visibility, "visibility", problems)
    if chosen is not None and chosen not in policy.note_visibilities(actor):
        raise Forbidden("Your role may not write a note others of your role could not read.",
                        {"visibility": "Choose a visibility your role reads."})
    _refuse(problems)
    note = Note(participant_id=participant.id, author_id=actor.id, body=text, visibility=chosen)
    db.session.add(note)
    db.session.flush()
    audit.record(actor, "create", "note", note.id, chosen.value, participant_id=participant.id)
    return note


def note_records(actor: User, participant_ids: Sequence[int]) -> dict[int, list[NoteRecord]]:
    """The notes the actor's role reads, per participant, newest first (two queries)."""
    found: dict[int, list[NoteRecord]] = {i: [] for i in participant_ids}
    shown = [v.value for v in policy.note_visibilities(actor)]
    if not shown or not participant_ids:
        return found
    rows = list(db.session.scalars(
        sa.select(Note).where(Note.participant_id.in_(participant_ids), Note.visibility.in_(shown))
        .order_by(Note.created_at.desc(), Note.id.desc())
    ))
    names = _names(User, (n.author_id for n in rows))
    for n in rows:
        found[n.participant_id].append(NoteRecord(
            n.id, n.participant_id, n.body, n.visibility, n.author_id, n.created_at, names.get(n.author_id or 0)
        ))
    return found


# Outreach contacts


def log_outreach(actor: User, participant: Participant, contacted_at: Any, kind: Any, outcome: Any) -> OutreachContact:
    """A community user's contact with a participant assigned to their group (the caller loaded it in scope)."""
    policy.require(actor, "outreach.create")
    if actor.organization_id is None or participant.community_org_id != actor.organization_id:
        raise Forbidden("Only the community group assigned to this participant logs outreach contacts.")
    problems: dict[str, str] = {}
    when = _moment(contacted_at, "contacted_at", problems)
    chosen = _choice(OutreachKind, kind, "kind", problems)
    text = _text(outcome, "outcome", limits.TEXT, True, problems)
    _refuse(problems)
    contact = OutreachContact(participant_id=participant.id, organization_id=actor.organization_id,
                              user_id=actor.id, contacted_at=when, kind=chosen, outcome=text)
    db.session.add(contact)
    db.session.flush()
    audit.record(actor, "create", "outreach_contact", contact.id, chosen.value, participant_id=participant.id)
    return contact


# The outreach contacts of some participants, newest first: the columns alone, with the names of the organization
# and the user that made each (in the same statement: a list page loads every row's contacts).
_OUTREACH = (
    sa.select(
        OutreachContact.id, OutreachContact.participant_id, OutreachContact.organization_id, OutreachContact.user_id,
        OutreachContact.contacted_at, OutreachContact.kind, OutreachContact.outcome,
        Organization.name.label("organization_name"), User.name.label("user_name"),
    )
    .outerjoin(Organization, Organization.id == OutreachContact.organization_id)
    .outerjoin(User, User.id == OutreachContact.user_id)
    .where(columns.among(OutreachContact.participant_id))
    .order_by(OutreachContact.contacted_at.desc(), OutreachContact.id.desc())
)


def outreach_records(actor: User, participant_ids: Sequence[int]) -> dict[int, list[OutreachRecord]]:
    """The outreach contacts the actor sees (a community user: its own group's), per participant, newest first."""
    found: dict[int, list[OutreachRecord]] = {i: [] for i in participant_ids}
    if not policy.can(actor, "outreach.view") or not participant_ids:
        return found
    query = _OUTREACH
    if policy.own_organization_only(actor, "outreach"):
        query = query.where(OutreachContact.organization_id == actor.organization_id)
    for c in columns.rows(query, ids=list(participant_ids)):
        found[c.participant_id].append(OutreachRecord(
            c.id, c.organization_id, c.user_id, c.contacted_at, c.kind, c.outcome,
            organization_name=c.organization_name or "", user_name=c.user_name,
        ))
    return found


# Custom notifications


def _team(
    user_ids: Iterable[Any], org_ids: Iterable[Any], problems: dict[str, str]
) -> tuple[list[User], list[Organization]]:
    wanted_users = {i for i in user_ids if i is not None}
    wanted_orgs = {i for i in org_ids if i is not None}
    if any(not isinstance(i, int) or isinstance(i, bool) for i in wanted_users | wanted_orgs):
        problems["team"] = "Team members and organizations are given by their ids."
        return [], []
    users = list(db.session.scalars(
        sa.select(User).where(User.id.in_(wanted_users), User.active.is_(True), User.role.in_(TEAM_ROLES))
        .order_by(User.id)
    )) if wanted_users else []
    if len(users) != len(wanted_users):
        missing = sorted(wanted_users - {u.id for u in users})
        problems["team_user_ids"] = "No such police, community or program team member: " + ", ".join(map(str, missing))
    wanted_orgs |= {u.organization_id for u in users if u.organization_id is not None}
    orgs = list(db.session.scalars(
        sa.select(Organization).where(Organization.id.in_(wanted_orgs)).order_by(Organization.id)
    )) if wanted_orgs else []
    known = {o.id for o in orgs}
    wrong = sorted((wanted_orgs - known) | {o.id for o in orgs if o.kind not in TEAM_ORG_KINDS}
                   - {u.organization_id for u in users})
    if wrong:
        problems["team_organization_ids"] = "No such police or community organization: " + ", ".join(map(str, wrong))
    if not users and not orgs and "team" not in problems:
        problems["team"] = "Name who went: at least one team member or organization."
    # An organization a team member belongs to takes part through them, whatever its kind (the program's own).
    return users, [o for o in orgs if o.kind in TEAM_ORG_KINDS or o.id in {u.organization_id for u in users}]


def record_custom_notification(
    actor: User, participant: Participant, delivered_at: Any, place: Any, message: Any, response: Any = None,
    team_user_ids: Iterable[Any] = (), team_organization_ids: Iterable[Any] = (),
) -> CustomNotification:
    """A home or street visit with its personal message; the organizations of the team members who went take
    part in it, so their community group sees it."""
    policy.require(actor, "custom_notification.create")
    problems: dict[str, str] = {}
    when = _moment(delivered_at, "delivered_at", problems)
    where = _text(place, "place", limits.TITLE, True, problems)
    said = _text(message, "message", limits.TEXT, True, problems)
    answered = _text(response, "response", limits.TEXT, False, problems)
    members, orgs = _team(team_user_ids, team_organization_ids, problems)
    _refuse(problems)
    notification = CustomNotification(
        participant_id=participant.id, delivered_at=when, place=where, message=said, response=answered,
        recorded_by_id=actor.id, team_members=members, team_organizations=orgs,
    )
    db.session.add(notification)
    db.session.flush()
    audit.record(actor, "create", "custom_notification", notification.id, participant_id=participant.id)
    return notification


def custom_notification_records(
    actor: User, participant_ids: Sequence[int]
) -> dict[int, list[CustomNotificationRecord]]:
    """The custom notifications the actor sees (a community user: those its group took part in), per participant,
    newest first, with their teams (three queries)."""
    found: dict[int, list[CustomNotificationRecord]] = {i: [] for i in participant_ids}
    if not policy.can(actor, "custom_notification.view") or not participant_ids:
        return found
    query = (
        sa.select(CustomNotification)
        .options(selectinload(CustomNotification.team_members), selectinload(CustomNotification.team_organizations))
        .where(CustomNotification.participant_id.in_(participant_ids))
    )
    if policy.own_organization_only(actor, "custom_notification"):
        took_part = sa.select(custom_notification_organizations.c.custom_notification_id).where(
            custom_notification_organizations.c.organization_id == actor.organization_id
        )
        query = query.where(CustomNotification.id.in_(took_part))
    rows = list(db.session.scalars(
        query.order_by(CustomNotification.delivered_at.desc(), CustomNotification.id.desc())
    ))
    for n in rows:
        found[n.participant_id].append(custom_notification_record(n))
    return found


def custom_notification_record(n: CustomNotification) -> CustomNotificationRecord:
    """A custom notification the caller chose for the user (custom_notification_records, or one just recorded)."""
    return CustomNotificationRecord(
        n.id, n.participant_id, n.delivered_at, n.place, n.message, n.response,
        tuple(u.id for u in n.team_members), tuple(o.id for o in n.team_organizations),
        n.recorded_by_id, n.recorded_at,
        team_names=tuple([u.name for u in n.team_members] + [o.name for o in n.team_organizations]),
    )


def custom_notifications_for(actor: User, participant: Participant) -> list[CustomNotificationRecord]:
    """One participant's custom notifications as the actor sees them; reading them is an audit row."""
    policy.require(actor, "custom_notification.view")
    rows = custom_notification_records(actor, [participant.id])[participant.id]
    audit.record(actor, "view", "participant", participant.id, "custom notifications")
    return rows


def _names(model: Any, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return dict(db.session.execute(sa.select(model.id, model.name).where(model.id.in_(wanted))).all())
