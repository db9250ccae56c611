"""Outcomes: recording what happened to a participant after the fact, and reading them as the policy allows."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from ceasefire import policy
from ceasefire.errors import ValidationFailed
from ceasefire.extensions import db
from ceasefire.models import Outcome, Participant, User
from ceasefire.models.enums import OutcomeType
from ceasefire.services import audit
from ceasefire.services.clock import program_today


def record_outcome(
    actor: User, participant: Participant, type: OutcomeType, occurred_on: date, note: str | None = None
) -> Outcome:
    policy.require(actor, "outcome.create")
    try:
        type = OutcomeType(type)
    except ValueError:
        allowed = ", ".join(t.value for t in OutcomeType)
        raise ValidationFailed("Unknown outcome type.", {"type": f"Must be one of: {allowed}."}) from None
    policy.require_outcome_type(actor, type)
    if not isinstance(occurred_on, date):
        raise ValidationFailed("Not a date.", {"occurred_on": "Must be a date, YYYY-MM-DD."})
    if occurred_on > program_today():
        raise ValidationFailed("The date is in the future.", {"occurred_on": "The date is in the future."})
    outcome = Outcome(
        participant_id=participant.id, type=type, occurred_on=occurred_on,
        note=(note or "").strip() or None, recorded_by_id=actor.id,
    )
    db.session.add(outcome)
    db.session.flush()
    audit.record(actor, "create", "outcome", outcome.id, type.value, participant_id=participant.id)
    return outcome


def outcomes_for(actor: User, participant: Participant) -> list[Outcome]:
    """The participant's outcomes of the types the actor's role sees, newest occurred_on first; noted as a view."""
    policy.require(actor, "outcome.view")
    types = [t.value for t in policy.outcome_types(actor)]
    rows = list(db.session.scalars(
        sa.select(Outcome)
        .where(Outcome.participant_id == participant.id, Outcome.type.in_(types))
        .order_by(Outcome.occurred_on.desc(), Outcome.id.desc())
    ))
    audit.record(actor, "view", "participant", participant.id, "outcomes")
    return rows
