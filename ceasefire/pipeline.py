"""The call-in pipeline: the only code that changes Participant.state.

The table below is the whole of the rules: which event leads from which states to which, who may fire
it, and the guard that must hold. `transitions` drives the state change itself; every change writes one
StatusChange row in the same transaction. Callers (ceasefire.services.participants) add the records an
event brings with it (an invitation, an enforcement action) before calling fire().
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from transitions import Machine, MachineError

from ceasefire.errors import Forbidden, InvalidTransition, ValidationFailed
from ceasefire.extensions import db
from ceasefire.models import Participant, Referral, StatusChange, User
from ceasefire.models.enums import ReferralStatus, Role, State

CW, POLICE, SUP = Role.CASEWORKER, Role.POLICE, Role.SUPERVISOR
ALL_OPEN = (State.IDENTIFIED, State.INVITED, State.ATTENDED, State.SERVICES_OFFERED, State.ENFORCED)

Guard = Callable[[Participant, dict[str, Any]], dict[str, str] | None]


@dataclass(frozen=True)
class Event:
    name: str
    sources: tuple[State, ...]
    dest: State
    roles: frozenset[Role]
    label: str
    guard: Guard | None = field(default=None, compare=False)


def _forum_planned(participant: Participant, ctx: dict[str, Any]) -> dict[str, str] | None:
    from ceasefire.models.enums import ForumStatus

    forum = ctx.get("forum")
    if forum is None or forum.status != ForumStatus.PLANNED:
        return {"forum_id": "Participants can only be invited to a forum that is still planned."}
    return None


def has_sent_referral(participant: Participant) -> bool:
    """Services were offered once a referral was sent and not withdrawn: the rule of the offer_services guard."""
    return db.session.execute(
        sa.select(sa.func.count(Referral.id)).where(
            Referral.participant_id == participant.id, Referral.status != ReferralStatus.WITHDRAWN
        )
    ).scalar_one() > 0


def _referral_sent(participant: Participant, ctx: dict[str, Any]) -> dict[str, str] | None:
    if participant.consent_in_force() is None:
        return {"consent_to_share": "The participant has no consent to share in force."}
    if not has_sent_referral(participant):
        return {"referral": "Send at least one referral before recording that services were offered."}
    return None


def _open_invitation(participant: Participant, ctx: dict[str, Any]) -> dict[str, str] | None:
    if ctx.get("invitation") is None:
        return {"invitation": "The participant has no open invitation."}
    return None


def program_date(moment: datetime | None = None) -> date:
    """The day in the program's time zone (the TIMEZONE setting) of `moment`, or of now."""
    zone = ZoneInfo(current_app.config.get("TIMEZONE") or "UTC")
    return (moment or datetime.now(UTC)).astimezone(zone).date()


def forum_day_has_come(scheduled_at: datetime) -> bool:
    """Whether the forum's day (program time zone) is today or past: check-in opens on the day, and stays open after
    it so that a program can enter its history."""
    return program_date(scheduled_at) <= program_date()


def _forum_day_come(participant: Participant, ctx: dict[str, Any]) -> dict[str, str] | None:
    problems = _open_invitation(participant, ctx)
    if problems:
        return problems
    from ceasefire.models.enums import ForumStatus

    forum = ctx["invitation"].forum
    if forum.status != ForumStatus.PLANNED:
        return {"forum": f"Check-in needs a planned forum; this one is {forum.status}. "
                         "Enter a past forum's roster before marking it held."}
    if not forum_day_has_come(forum.scheduled_at):
        return {"forum": f"Check-in opens on the forum's day, {program_date(forum.scheduled_at).isoformat()}: "
                         "a person cannot attend a forum that has not happened."}
    return None


EVENTS: tuple[Event, ...] = (
    Event("invite", (State.IDENTIFIED,), State.INVITED, frozenset({CW, SUP}), "Invite to a forum",
          _forum_planned),
    Event("no_show", (State.INVITED,), State.IDENTIFIED, frozenset({CW, SUP}), "Mark as no-show",
          _open_invitation),
    Event("attend", (State.INVITED,), State.ATTENDED, frozenset({CW, POLICE, SUP}), "Check in at the forum",
          _forum_day_come),
    Event("offer_services", (State.ATTENDED,), State.SERVICES_OFFERED, frozenset({CW, SUP}),
          "Record services offered", _referral_sent),
    Event("enforce", (State.IDENTIFIED, State.INVITED, State.ATTENDED, State.SERVICES_OFFERED), State.ENFORCED,
          frozenset({POLICE, SUP}), "Record enforcement"),
    Event("close", ALL_OPEN, State.CLOSED, frozenset({CW, SUP}), "Close the case"),
    Event("reopen", (State.CLOSED, State.ENFORCED), State.IDENTIFIED, frozenset({SUP}), "Reopen"),
)
EVENTS_BY_NAME: dict[str, Event] = {e.name: e for e in EVENTS}

# Roles that may create a participant (the implicit first event).
CREATE_ROLES = frozenset({CW, POLICE, SUP})

_machine = Machine(
    model=[],
    states=[s.value for s in State],
    transitions=[
        {"trigger": e.name, "source": [s.value for s in e.sources], "dest": e.dest.value} for e in EVENTS
    ],
    initial=State.IDENTIFIED.value,
    auto_transitions=False,
    send_event=True,
)


def event(name: str) -> Event:
    try:
        return EVENTS_BY_NAME[name]
    except KeyError:
        known = ", ".join(EVENTS_BY_NAME)
        raise ValidationFailed("Unknown event.", {"event": f"Unknown event; expected one of: {known}."}) from None


@dataclass(frozen=True)
class Step:
    """An event an actor's role may fire: made by authorize() alone, so fire() never checks the role again."""

    event: Event
    actor: User


def authorize(name: str, actor: User) -> Step:
    """403 unless the actor's role may ever fire this event."""
    ev = event(name)
    if actor.role not in ev.roles:
        raise Forbidden(f"A {actor.role} user may not '{ev.label.lower()}'.")
    return Step(ev, actor)


def may(participant: Participant, name: str, actor: User) -> bool:
    """Whether the event is open to this actor from the participant's state now (guards aside)."""
    ev = EVENTS_BY_NAME[name]
    return actor.role in ev.roles and name in _machine.get_triggers(str(participant.state))


def available_events(participant: Participant, actor: User) -> list[Event]:
    """The events a page should offer: asked of the machine, so pages and rules cannot disagree."""
    triggers = set(_machine.get_triggers(str(participant.state)))
    return [e for e in EVENTS if e.name in triggers and actor.role in e.roles]


def _check_state_and_guard(step: Step, participant: Participant, ctx: dict[str, Any]) -> None:
    ev = step.event
    if ev.name not in _machine.get_triggers(str(participant.state)):
        raise InvalidTransition(
            f"'{ev.label}' is not possible while the participant is {State(participant.state).value}."
        )
    if ev.guard is not None:
        # A guard only reads: without autoflush its queries cannot write the caller's pending changes, which
        # would cost the participant a second version bump when the event flushes.
        with db.session.no_autoflush:
            problems = ev.guard(participant, ctx)
        if problems:
            raise ValidationFailed(next(iter(problems.values())), problems)


def check(participant: Participant, name: str, actor: User, **ctx: Any) -> Event:
    """Role (403), state (409) and guard (422), in that order, without changing anything: for a page that offers
    the event's form."""
    step = authorize(name, actor)
    _check_state_and_guard(step, participant, ctx)
    return step.event


def fire(step: Step, participant: Participant, reason: str | None = None, **ctx: Any) -> StatusChange:
    """State (409) and guard (422), each checked once, then the change through the machine and its history row.
    Adds, never flushes or commits: the service's verb flushes once with the rows the event brings."""
    _check_state_and_guard(step, participant, ctx)
    token = SimpleNamespace(state=str(participant.state))
    from_state = State(token.state)
    try:
        _machine.events[step.event.name].trigger(token)
    except MachineError as exc:  # the check above makes this unreachable unless the table is wrong
        raise InvalidTransition(str(exc.value)) from exc
    participant.state = State(token.state)
    return record_change(participant, step.event.name, from_state, step.actor, reason)


def record_create(participant: Participant, actor: User) -> StatusChange:
    """The first history row: event `create`, from nothing to identified."""
    participant.state = State.IDENTIFIED
    return record_change(participant, "create", None, actor, None)


def record_change(
    participant: Participant, name: str, from_state: State | None, actor: User, reason: str | None
) -> StatusChange:
    change = StatusChange(
        participant=participant,
        event=name,
        from_state=from_state,
        to_state=State(participant.state),
        actor_id=actor.id,
        reason=reason,
    )
    db.session.add(change)
    return change
