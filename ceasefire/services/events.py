"""The pipeline's events as verbs named after what a person does: invite, check_in, mark_no_show,
offer_services, enforce, close, reopen, and recording or revoking consent.

Each takes the actor explicitly and checks, in the order of API.md's errors, the actor's role (403), its own
input (422), the version the person saw (409) and then, through ceasefire.pipeline, the state (409) and the
event's precondition (422). It writes the rows the event brings and its history in one flush; the caller commits.
Both faces and the command line call these; none fires the pipeline itself.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from ceasefire import pipeline
from ceasefire.errors import InvalidTransition, ValidationFailed
from ceasefire.extensions import db
from ceasefire.models import (
    Consent,
    EnforcementAction,
    Forum,
    GroupEnforcement,
    Invitation,
    Organization,
    Participant,
    User,
)
from ceasefire.models.base import utcnow
from ceasefire.models.enums import LAW_ENFORCEMENT_KINDS, ActionType, CloseReason, DeliveryMethod, State
from ceasefire.services import audit, participants
from ceasefire.services.clock import program_today


def open_invitation(participant: Participant) -> Invitation | None:
    """The invitation the participant has not yet attended or missed (the newest, should there be two)."""
    return db.session.scalar(
        sa.select(Invitation)
        .where(Invitation.participant_id == participant.id, Invitation.attended.is_(None))
        .order_by(Invitation.id.desc())
        .limit(1)
    )


def _choice(enum_cls: Any, value: Any, field: str) -> Any:
    try:
        return enum_cls(value)
    except ValueError:
        allowed = ", ".join(m.value for m in enum_cls)
        raise ValidationFailed("Unknown value.", {field: f"Must be one of: {allowed}."}) from None


def _required(**values: Any) -> None:
    missing = {name: "This field is required." for name, value in values.items() if value in (None, "")}
    if missing:
        raise ValidationFailed("Some fields are missing.", missing)


def _text(value: str | None) -> str | None:
    return (value or "").strip() or None


def _fire(step: pipeline.Step, participant: Participant, reason: str | None = None, **ctx: Any) -> None:
    """State (409) and precondition (422) through the pipeline, then the state change and its history row."""
    participant.updated_at = utcnow()
    pipeline.fire(step, participant, reason=reason, **ctx)


def _done(step: pipeline.Step, participant: Participant) -> None:
    """The one flush of an event: the state, its history row and the rows the event brought."""
    db.session.flush()
    audit.record(step.actor, "event", "participant", participant.id, step.event.name)


def invite(actor: User, participant: Participant, version: int, forum_id: int | None,
           method: DeliveryMethod | str | None) -> Invitation:
    """Invite to a forum that is still planned, by the given means of delivery."""
    step = pipeline.authorize("invite", actor)
    _required(forum_id=forum_id, method=method)
    forum = db.session.get(Forum, forum_id)
    if forum is None:
        raise ValidationFailed("No such forum.", {"forum_id": "No such forum."})
    chosen = _choice(DeliveryMethod, method, "method")
    participants.check_version(participant, version)
    _fire(step, participant, forum=forum)
    invitation = Invitation(forum=forum, participant=participant, method=chosen, delivered_by_id=actor.id)
    db.session.add(invitation)
    _done(step, participant)
    return invitation


def check_in(actor: User, participant: Participant, version: int) -> Invitation:
    """Check the participant in at the forum of their open invitation, once the forum's day has come (the pipeline's
    guard; past forums stay open)."""
    step = pipeline.authorize("attend", actor)
    participants.check_version(participant, version)
    invitation = open_invitation(participant)
    _fire(step, participant, invitation=invitation)
    assert invitation is not None  # noqa: S101 - the attend guard refuses without one
    invitation.attended = True
    invitation.checked_in_at = utcnow()
    invitation.checked_in_by_id = actor.id
    _done(step, participant)
    return invitation


def mark_no_show(actor: User, participant: Participant, version: int) -> Invitation:
    """The participant did not come: the invitation is settled and they go back to identified."""
    step = pipeline.authorize("no_show", actor)
    participants.check_version(participant, version)
    invitation = open_invitation(participant)
    _fire(step, participant, invitation=invitation)
    assert invitation is not None  # noqa: S101 - the no_show guard refuses without one
    invitation.attended = False
    _done(step, participant)
    return invitation


def offer_services(actor: User, participant: Participant, version: int) -> Participant:
    """Record that services were offered (a referral must have been sent, with consent in force)."""
    step = pipeline.authorize("offer_services", actor)
    participants.check_version(participant, version)
    _fire(step, participant)
    _done(step, participant)
    return participant


def _settle_open_invitation(participant: Participant) -> None:
    """Leaving the pipeline while invited: they did not come."""
    invitation = open_invitation(participant)
    if invitation is not None:
        invitation.attended = False


def enforcement_input(actor: User, action_type: ActionType | str | None, occurred_on: date | None,
                      agency_id: int | None) -> tuple[ActionType, Organization, date]:
    """The fields of an enforcement action (422 when one is missing or wrong): its type, the agency that acted (the
    actor's own when none is named) and the day."""
    _required(action_type=action_type, occurred_on=occurred_on)
    agency_id = agency_id or actor.organization_id
    if agency_id is None:
        raise ValidationFailed("Name the agency.", {"agency_id": "Required when you belong to no agency."})
    agency = db.session.get(Organization, agency_id)
    if agency is None or agency.kind not in LAW_ENFORCEMENT_KINDS:
        raise ValidationFailed(
            "No such agency.", {"agency_id": "Must be a police, probation, parole or prosecutor organization."}
        )
    if not isinstance(occurred_on, date):
        raise ValidationFailed("Not a date.", {"occurred_on": "Must be a date, YYYY-MM-DD."})
    if occurred_on > program_today():
        raise ValidationFailed("The date is in the future.", {"occurred_on": "The date is in the future."})
    return _choice(ActionType, action_type, "action_type"), agency, occurred_on


def _enforcement_action(actor: User, participant: Participant, kind: ActionType, agency: Organization,
                        occurred_on: date, description: str | None, incident_ref: str | None,
                        group_enforcement: GroupEnforcement | None) -> EnforcementAction:
    action = EnforcementAction(
        participant_id=participant.id,
        agency_id=agency.id,
        action_type=kind,
        occurred_on=occurred_on,
        description=_text(description),
        incident_ref=_text(incident_ref),
        recorded_by_id=actor.id,
        group_enforcement=group_enforcement,
    )
    db.session.add(action)
    return action


def enforce(actor: User, participant: Participant, version: int, action_type: ActionType | str | None,
            occurred_on: date | None, agency_id: int | None = None, description: str | None = None,
            incident_ref: str | None = None, group_enforcement: GroupEnforcement | None = None) -> EnforcementAction:
    """Record an enforcement action against the participant (by a police, probation, parole or prosecutor agency):
    the pipeline's enforce event. `group_enforcement` when it is part of an action against their whole group."""
    step = pipeline.authorize("enforce", actor)
    kind, agency, day = enforcement_input(actor, action_type, occurred_on, agency_id)
    participants.check_version(participant, version)
    _fire(step, participant)
    _settle_open_invitation(participant)
    action = _enforcement_action(actor, participant, kind, agency, day, description, incident_ref,
                                 group_enforcement)
    _done(step, participant)
    return action


# A participant already enforced may be enforced against again (a second arrest): the action is recorded, the state
# stays. The pipeline's enforce event does not lead from here, so this is a verb of its own.
FURTHER_ENFORCEMENT_FROM = frozenset({State.ENFORCED})


def may_add_enforcement(participant: Participant, actor: User) -> bool:
    """Whether add_enforcement is open to the actor for this participant now: the page's link asks this."""
    return actor.role in pipeline.EVENTS_BY_NAME["enforce"].roles and participant.state in FURTHER_ENFORCEMENT_FROM


def _already_enforced(participant: Participant) -> None:
    if participant.state not in FURTHER_ENFORCEMENT_FROM:
        raise InvalidTransition(
            f"A further enforcement action is for an enforced participant; this one is "
            f"{State(participant.state).value.replace('_', ' ')}."
        )


def check_add_enforcement(actor: User, participant: Participant) -> None:
    """Role (403) and state (409) of add_enforcement, changing nothing: for the page that offers its form."""
    pipeline.authorize("enforce", actor)
    _already_enforced(participant)


def add_enforcement(actor: User, participant: Participant, version: int, action_type: ActionType | str | None,
                    occurred_on: date | None, agency_id: int | None = None, description: str | None = None,
                    incident_ref: str | None = None,
                    group_enforcement: GroupEnforcement | None = None) -> EnforcementAction:
    """A further enforcement action on a participant already enforced, without a state change. The same roles (403)
    and fields (422) as enforce; 409 for a participant not enforced (the enforce event is theirs)."""
    pipeline.authorize("enforce", actor)
    kind, agency, day = enforcement_input(actor, action_type, occurred_on, agency_id)
    participants.check_version(participant, version)
    _already_enforced(participant)
    participant.updated_at = utcnow()  # the record changed: the version moves on, as with every change
    action = _enforcement_action(actor, participant, kind, agency, day, description, incident_ref,
                                 group_enforcement)
    db.session.flush()
    audit.record(actor, "create", "enforcement_action", action.id, participant_id=participant.id)
    return action


def may_be_enforced(participant: Participant) -> bool:
    """Whether an enforcement action can be recorded against the participant now, by enforce or add_enforcement."""
    return participant.state in pipeline.EVENTS_BY_NAME["enforce"].sources or \
        participant.state in FURTHER_ENFORCEMENT_FROM


def record_enforcement(actor: User, participant: Participant, version: int, action_type: ActionType | str | None,
                       occurred_on: date | None, agency_id: int | None = None, description: str | None = None,
                       incident_ref: str | None = None,
                       group_enforcement: GroupEnforcement | None = None) -> EnforcementAction:
    """An enforcement action whatever the participant's state allows: the enforce event, or a further action on
    someone already enforced (an action against a whole group touches both kinds of member)."""
    verb = add_enforcement if participant.state in FURTHER_ENFORCEMENT_FROM else enforce
    return verb(actor, participant, version, action_type, occurred_on, agency_id, description, incident_ref,
                group_enforcement)


def close(actor: User, participant: Participant, version: int, reason: CloseReason | str | None) -> Participant:
    """Close the case for one of the known reasons."""
    step = pipeline.authorize("close", actor)
    _required(reason=reason)
    chosen = _choice(CloseReason, reason, "reason")
    participants.check_version(participant, version)
    _fire(step, participant, reason=chosen.value)
    _settle_open_invitation(participant)
    _done(step, participant)
    return participant


def reopen(actor: User, participant: Participant, version: int, reason: str | None) -> Participant:
    """Bring a closed or enforced case back to identified (supervisors), saying why."""
    step = pipeline.authorize("reopen", actor)
    text = _text(reason)
    if text is None:
        raise ValidationFailed("Give a reason.", {"reason": "A reason is required to reopen."})
    participants.check_version(participant, version)
    _fire(step, participant, reason=text)
    _done(step, participant)
    return participant


def record_consent(actor: User, participant: Participant, version: int) -> Consent:
    """Consent to share given today (the one in force stays when there is one): an update of the participant."""
    participants.update_participant(actor, participant, version, {"consent_to_share": True})
    consent = participant.consent_in_force()
    assert consent is not None  # noqa: S101 - just recorded
    return consent


def revoke_consent(actor: User, participant: Participant, version: int) -> Participant:
    """Revoke the consent in force: providers lose access at once."""
    return participants.update_participant(actor, participant, version, {"consent_to_share": False})


# The generic faces (POST /participants/{id}/events, the event form pages) name the event and send its fields under
# the API's keys; each name leads to its verb.
_BY_NAME: dict[str, Any] = {
    "invite": lambda a, p, v, d: invite(a, p, v, d.get("forum_id"), d.get("method")),
    "no_show": lambda a, p, v, d: mark_no_show(a, p, v),
    "attend": lambda a, p, v, d: check_in(a, p, v),
    "offer_services": lambda a, p, v, d: offer_services(a, p, v),
    "enforce": lambda a, p, v, d: enforce(a, p, v, d.get("action_type"), d.get("occurred_on"), d.get("agency_id"),
                                          d.get("description"), d.get("incident_ref")),
    "close": lambda a, p, v, d: close(a, p, v, d.get("reason")),
    "reopen": lambda a, p, v, d: reopen(a, p, v, d.get("reason")),
}


def perform(actor: User, participant: Participant, version: int, name: str, fields: dict[str, Any]) -> Participant:
    """The verb of the named event with the fields it takes; an unknown event is 422."""
    pipeline.event(name)
    _BY_NAME[name](actor, participant, version, fields)
    return participant
