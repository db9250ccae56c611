"""Creating and changing participants, and firing pipeline events with what each brings."""

from __future__ import annotations

from datetime import date
from enum import Enum
from typing import Any

import sqlalchemy as sa

from ceasefire import pipeline, policy
from ceasefire.errors import Forbidden, StaleVersion, ValidationFailed
from ceasefire.extensions import db
from ceasefire.models import Consent, EnforcementAction, Forum, Group, Invitation, Organization, Participant, User
from ceasefire.models.base import today, utcnow
from ceasefire.models.enums import (
    LAW_ENFORCEMENT_KINDS,
    ActionType,
    CloseReason,
    DeliveryMethod,
    OrgKind,
    Role,
)
from ceasefire.services import audit

EDITABLE = (
    "first_name", "last_name", "aliases", "date_of_birth", "phone", "address", "group_id", "supervision_status",
    "supervising_agency", "identification_basis", "caseworker_id", "community_org_id", "consent_to_share",
)


def check_settable(actor: User, fields: set[str] | list[str]) -> None:
    """403 for a field the actor's role may not see (and so may not set)."""
    visible = policy.visible_fields(actor.role)
    hidden = sorted(f for f in fields if f in EDITABLE and f not in visible)
    if hidden:
        raise Forbidden(
            "Your role may not set: " + ", ".join(hidden) + ".",
            dict.fromkeys(hidden, "Your role may not set this field."),
        )


def check_version(participant: Participant, version: int) -> None:
    if version != participant.version:
        raise StaleVersion(
            f"This participant was changed by someone else (version {participant.version}, you sent {version}). "
            "Reload and try again."
        )


def _check_references(data: dict[str, Any]) -> None:
    problems: dict[str, str] = {}
    if data.get("group_id") is not None and db.session.get(Group, data["group_id"]) is None:
        problems["group_id"] = "No such group."
    if data.get("caseworker_id") is not None:
        cw = db.session.get(User, data["caseworker_id"])
        if cw is None or cw.role not in (Role.CASEWORKER, Role.SUPERVISOR):
            problems["caseworker_id"] = "No such caseworker."
    if data.get("community_org_id") is not None:
        org = db.session.get(Organization, data["community_org_id"])
        if org is None or org.kind != OrgKind.COMMUNITY:
            problems["community_org_id"] = "No such community group."
    for field in ("first_name", "last_name"):
        if field in data and not (data[field] or "").strip():
            problems[field] = "This field is required."
    if data.get("date_of_birth") is not None and data["date_of_birth"] > today():
        problems["date_of_birth"] = "The date of birth is in the future."
    if problems:
        raise ValidationFailed("Some fields need attention.", problems)


def _set_consent(participant: Participant, given: bool, actor: User) -> None:
    current = participant.consent_in_force()
    if given and current is None:
        participant.consents.append(Consent(given_on=today(), recorded_by_id=actor.id))
    elif not given and current is not None:
        current.revoked_on = today()


def _apply(participant: Participant, data: dict[str, Any], actor: User) -> list[str]:
    changed = []
    for field, value in data.items():
        if field == "consent_to_share":
            before = participant.consent_in_force() is not None
            _set_consent(participant, bool(value), actor)
            if before != bool(value):
                changed.append(field)
            continue
        if isinstance(value, str) and not isinstance(value, Enum):  # an enum member is a str too: keep it
            value = value.strip() or None
        if getattr(participant, field) != value:
            setattr(participant, field, value)
            changed.append(field)
    return changed


def create_participant(actor: User, data: dict[str, Any]) -> Participant:
    policy.require(actor, "participant.create")
    check_settable(actor, data)
    _check_references(data)
    if actor.role == Role.POLICE and not (data.get("identification_basis") or "").strip():
        raise ValidationFailed(
            "Police must give the basis of identification.",
            {"identification_basis": "Required when police identify a participant."},
        )
    participant = Participant(version=1)
    if actor.role == Role.POLICE:
        participant.identifying_org_id = actor.organization_id
    participant.identified_on = today()
    _apply(participant, {k: v for k, v in data.items() if k != "consent_to_share"}, actor)
    db.session.add(participant)
    if data.get("consent_to_share"):
        _set_consent(participant, True, actor)
    pipeline.record_create(participant, actor)
    audit.record(actor, "create", "participant", participant.id)
    return participant


def update_participant(actor: User, participant: Participant, version: int, data: dict[str, Any]) -> Participant:
    """Every successful update adds one to the version, whatever it changed."""
    policy.require(actor, "participant.update")
    if "state" in data:
        raise ValidationFailed(
            "The state changes only through events.", {"state": "Use POST /participants/{id}/events."}
        )
    check_settable(actor, data)
    _check_references(data)
    check_version(participant, version)
    # No autoflush while applying: loading the consents midway would write the fields set so far as an UPDATE
    # of its own, and the version would move on twice.
    with db.session.no_autoflush:
        changed = _apply(participant, data, actor)
    participant.updated_at = utcnow()  # always an UPDATE, so the version moves on
    db.session.flush()
    audit.record(actor, "update", "participant", participant.id, ",".join(changed) or "no change")
    return participant


def open_invitation(participant: Participant) -> Invitation | None:
    return db.session.scalar(
        sa.select(Invitation)
        .where(Invitation.participant_id == participant.id, Invitation.attended.is_(None))
        .order_by(Invitation.id.desc())
        .limit(1)
    )


def _required(data: dict[str, Any], *fields: str) -> None:
    missing = {f: "This field is required." for f in fields if data.get(f) in (None, "")}
    if missing:
        raise ValidationFailed("Some fields are missing.", missing)


def _choice(enum_cls, data: dict[str, Any], field: str):
    try:
        return enum_cls(data[field])
    except ValueError:
        allowed = ", ".join(m.value for m in enum_cls)
        raise ValidationFailed("Unknown value.", {field: f"Must be one of: {allowed}."}) from None


def _validate_event_fields(actor: User, name: str, data: dict[str, Any]) -> dict[str, Any]:
    """The 422s of an event's own fields (shape and references), before version and state are looked at."""
    ctx: dict[str, Any] = {}
    if name == "invite":
        _required(data, "forum_id", "method")
        forum = db.session.get(Forum, data["forum_id"])
        if forum is None:
            raise ValidationFailed("No such forum.", {"forum_id": "No such forum."})
        ctx["forum"] = forum
        ctx["method"] = _choice(DeliveryMethod, data, "method")
    elif name == "enforce":
        _required(data, "action_type", "occurred_on")
        agency_id = data.get("agency_id") or actor.organization_id
        if agency_id is None:
            raise ValidationFailed("Name the agency.", {"agency_id": "Required when you belong to no agency."})
        agency = db.session.get(Organization, agency_id)
        if agency is None or agency.kind not in LAW_ENFORCEMENT_KINDS:
            raise ValidationFailed(
                "No such agency.", {"agency_id": "Must be a police, probation, parole or prosecutor organization."}
            )
        occurred_on = data["occurred_on"]
        if not isinstance(occurred_on, date):
            raise ValidationFailed("Not a date.", {"occurred_on": "Must be a date, YYYY-MM-DD."})
        if occurred_on > today():
            raise ValidationFailed("The date is in the future.", {"occurred_on": "The date is in the future."})
        ctx.update(agency=agency, action_type=_choice(ActionType, data, "action_type"), occurred_on=occurred_on)
    elif name == "close":
        _required(data, "reason")
        reasons = [r.value for r in CloseReason]
        if data["reason"] not in reasons:
            raise ValidationFailed("Unknown reason.", {"reason": "Must be one of: " + ", ".join(reasons) + "."})
        ctx["reason"] = data["reason"]
    elif name == "reopen":
        if not (data.get("reason") or "").strip():
            raise ValidationFailed("Give a reason.", {"reason": "A reason is required to reopen."})
        ctx["reason"] = data["reason"].strip()
    return ctx


def fire_event(actor: User, participant: Participant, version: int, name: str, data: dict[str, Any]) -> Participant:
    """One pipeline event with everything it brings, in the order of API.md's errors."""
    pipeline.authorize(name, actor)
    ctx = _validate_event_fields(actor, name, data)
    reason = ctx.pop("reason", None)
    check_version(participant, version)
    if name in ("no_show", "attend", "enforce", "close"):
        ctx["invitation"] = open_invitation(participant)
    pipeline.check(participant, name, actor, **ctx)

    invitation = ctx.get("invitation")
    if name == "invite":
        db.session.add(Invitation(
            forum=ctx["forum"], participant=participant, method=ctx["method"], delivered_by_id=actor.id
        ))
    elif name == "attend":
        invitation.attended = True
        invitation.checked_in_at = utcnow()
        invitation.checked_in_by_id = actor.id
    elif invitation is not None:  # a no-show, or leaving the pipeline while invited: they did not come
        invitation.attended = False
    if name == "enforce":
        db.session.add(EnforcementAction(
            participant_id=participant.id,
            agency_id=ctx["agency"].id,
            action_type=ctx["action_type"],
            occurred_on=ctx["occurred_on"],
            description=(data.get("description") or "").strip() or None,
            incident_ref=(data.get("incident_ref") or "").strip() or None,
            recorded_by_id=actor.id,
        ))
    participant.updated_at = utcnow()
    pipeline.fire(participant, name, actor, reason=reason, **ctx)
    audit.record(actor, "event", "participant", participant.id, name)
    return participant


def list_query(actor: User, state: str | None = None, group_id: int | None = None, q: str | None = None) -> sa.Select:
    policy.require(actor, "participant.list")
    query = policy.scope(actor, sa.select(Participant))
    if state:
        if not policy.sees(actor.role, "state"):
            raise Forbidden("Your role may not filter by state.", {"state": "Your role does not see the state."})
        query = query.where(Participant.state == state)
    if group_id is not None:
        if not policy.sees(actor.role, "group_id"):
            raise Forbidden("Your role may not filter by group.", {"group_id": "Your role does not see groups."})
        query = query.where(Participant.group_id == group_id)
    if q:
        escaped = q.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        like = f"%{escaped}%"
        query = query.where(sa.or_(
            sa.func.lower(Participant.first_name).like(like, escape="\\"),
            sa.func.lower(Participant.last_name).like(like, escape="\\"),
            sa.func.lower(Participant.aliases).like(like, escape="\\"),
            sa.func.lower(Participant.first_name + " " + Participant.last_name).like(like, escape="\\"),
        ))
    return query.order_by(Participant.last_name, Participant.first_name, Participant.id)


def enforcement_actions(participant: Participant) -> list[EnforcementAction]:
    """Actions against the participant and against their whole group, oldest first."""
    return enforcement_actions_for([participant])[participant.id]


def enforcement_actions_for(participants: list[Participant]) -> dict[int, list[EnforcementAction]]:
    """enforcement_actions() for a page of participants, in one query."""
    ids = [p.id for p in participants]
    group_ids = {p.group_id for p in participants if p.group_id is not None}
    found: dict[int, list[EnforcementAction]] = {p.id: [] for p in participants}
    rows = db.session.scalars(
        sa.select(EnforcementAction)
        .where(sa.or_(EnforcementAction.participant_id.in_(ids), EnforcementAction.group_id.in_(group_ids)))
        .order_by(EnforcementAction.occurred_on, EnforcementAction.id)
    )
    for action in rows:
        for p in participants:
            if action.participant_id == p.id or (action.group_id is not None and action.group_id == p.group_id):
                found[p.id].append(action)
    return found
