"""Due process and retention (API.md "Due process and retention"; 28 CFR Part 23, California Penal Code 186.34):
the review date the system keeps, the identification criteria, retention reviews, purge that keeps the numbers,
and removal requests with their 30-day clock. Verbs take the actor, validate, write history and audit, and flush.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from ceasefire import pipeline, policy
from ceasefire.errors import InvalidTransition, ValidationFailed
from ceasefire.extensions import db
from ceasefire.models import (
    CustomNotification,
    EnforcementAction,
    IdentificationCriterion,
    Note,
    Outcome,
    OutreachContact,
    Participant,
    Referral,
    ReferralEvent,
    RemovalRequest,
    Review,
    StatusChange,
    User,
    counts,
)
from ceasefire.models.base import Likely, utcnow
from ceasefire.models.enums import RemovalStatus, RequestedBy, ReviewDecision, Role
from ceasefire.services import audit
from ceasefire.services.clock import program_today

REMOVAL_DAYS = 30  # California Penal Code 186.34: a written request is answered within 30 days of receipt
READ_ONLY = "review_due_on"  # computed by the system; no form or endpoint sets it


def review_period() -> timedelta:
    return timedelta(days=current_app.config["REVIEW_PERIOD_DAYS"])


def refuse_review_date(data: Iterable[str]) -> None:
    """The review date is the system's: setting it is 422 for every role, like `state`."""
    if READ_ONLY in data:
        raise ValidationFailed(
            "The review date is computed and cannot be set.",
            {READ_ONLY: "Set by the system: the date of identification, or of the last retain review, plus the "
                        "review period."},
        )


def keep_age_band(participant: Participant) -> None:
    """The age band at identification, kept beside the date of birth (a purge erases the date, not the band)."""
    participant.age_band = counts.age_band(participant.date_of_birth, participant.identified_on)


# Identification criteria


def active_criteria() -> list[IdentificationCriterion]:
    return list(db.session.scalars(
        sa.select(IdentificationCriterion).where(IdentificationCriterion.retired_on.is_(None))
        .order_by(IdentificationCriterion.id)
    ))


def all_criteria(actor: User) -> list[IdentificationCriterion]:
    policy.require(actor, "criterion.manage")
    return list(db.session.scalars(sa.select(IdentificationCriterion).order_by(IdentificationCriterion.id)))


def chosen_criteria(actor: User, ids: Iterable[Any] | None) -> list[IdentificationCriterion]:
    """The criteria ticked at identification: each from the active list; at least one from police while the program
    keeps a list."""
    wanted = list(dict.fromkeys(ids or ()))
    active = {c.id: c for c in active_criteria()}
    if any(not isinstance(i, int) or i not in active for i in wanted):
        raise ValidationFailed("Tick criteria from the program's list.", {"criteria": "No such active criterion."})
    if actor.role == Role.POLICE and active and not wanted:
        raise ValidationFailed(
            "Police must tick at least one identification criterion.",
            {"criteria": "Tick at least one criterion when police identify a participant."},
        )
    return [active[i] for i in wanted]


def on_identification(actor: User, participant: Participant, criteria_ids: Iterable[Any] | None) -> None:
    """What identifying a person adds: the criteria, the first review date and the age band."""
    participant.criteria = chosen_criteria(actor, criteria_ids)
    participant.review_due_on = participant.identified_on + review_period()
    keep_age_band(participant)


def add_criterion(actor: User, name: str) -> IdentificationCriterion:
    policy.require(actor, "criterion.manage")
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("Name the criterion.", {"name": "This field is required."})
    if db.session.scalar(sa.select(IdentificationCriterion.id).where(IdentificationCriterion.name == name)):
        raise ValidationFailed("That criterion is already on the list.", {"name": "Already on the list."})
    criterion = IdentificationCriterion(name=name)
    db.session.add(criterion)
    db.session.flush()
    audit.record(actor, "create", "criterion", criterion.id)
    return criterion


def retire_criterion(actor: User, criterion: IdentificationCriterion) -> None:
    """Off the list police tick from; participants identified by it keep it."""
    policy.require(actor, "criterion.manage")
    if criterion.retired_on is None:
        criterion.retired_on = program_today()
        db.session.flush()
        audit.record(actor, "update", "criterion", criterion.id, "retired")


# Reviews and purge


def reviews_query(actor: User, due_before: date | None = None) -> sa.Select:
    """Who falls due before `due_before` (today when left out), the most overdue first; never the purged."""
    policy.require(actor, "review.list")
    return (
        sa.select(Participant)
        .where(Likely(Participant.purged_at.is_(None)), Participant.review_due_on < (due_before or program_today()))
        .order_by(Participant.review_due_on, Participant.id)
    )


def history_since(participant: Participant) -> list[StatusChange]:
    """The pipeline history since identification or the last retain review, oldest first."""
    last = db.session.scalar(
        sa.select(sa.func.max(Review.at))
        .where(Review.participant_id == participant.id, Review.decision == ReviewDecision.RETAIN)
    )
    query = sa.select(StatusChange).where(StatusChange.participant_id == participant.id)
    if last is not None:
        query = query.where(StatusChange.at >= last)
    return list(db.session.scalars(query.order_by(StatusChange.id)))


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise ValidationFailed("Give the reason for the decision.", {"reason": "This field is required."})
    return text


def review(actor: User, participant: Participant, decision: ReviewDecision | str, reason: str | None) -> Participant:
    """A retention review: retain restarts the clock from today; purge erases the person and keeps the numbers."""
    policy.require(actor, "review.decide")
    try:
        decision = ReviewDecision(decision)
    except ValueError:
        raise ValidationFailed("Unknown decision.", {"decision": "Must be one of: retain, purge."}) from None
    text = _reason(reason)
    db.session.add(Review(participant_id=participant.id, decision=decision, reason=text, actor_id=actor.id))
    pipeline.record_change(participant, "review", participant.state, actor, text)
    if decision == ReviewDecision.RETAIN:
        participant.review_due_on = program_today() + review_period()
    participant.updated_at = utcnow()
    db.session.flush()
    audit.record(actor, "review", "participant", participant.id, decision.value)
    if decision == ReviewDecision.PURGE:
        purge(actor, participant, "review")
    return participant


# The free text about a person that other modules keep: (model, column of the participant, columns to erase).
FREE_TEXT: list[tuple[Any, str, tuple[str, ...]]] = [
    (Note, "participant_id", ("body",)),
    (OutreachContact, "participant_id", ("outcome",)),
    (CustomNotification, "participant_id", ("place", "message", "response")),
    (Referral, "participant_id", ("note", "reason")),
    (EnforcementAction, "participant_id", ("description", "incident_ref")),
    (Outcome, "participant_id", ("note",)),
    (StatusChange, "participant_id", ("reason",)),
    (Review, "participant_id", ("reason",)),
    (RemovalRequest, "participant_id", ("grounds", "decision_reason")),
]

IDENTIFYING = ("aliases", "date_of_birth", "phone", "address", "supervising_agency", "identification_basis")


def purge(actor: User, participant: Participant, how: str) -> None:
    """Erase the person in place and keep the numbers: ids, state, history rows, invitations and attendance,
    referral statuses and dates, outcome types and dates, enforcement types and dates, supervision status, group,
    identifying agency, the date of identification and the age band stay. Nothing undoes it."""
    if participant.purged_at is not None:
        return
    if participant.age_band is None:
        keep_age_band(participant)
    participant.first_name = ""
    participant.last_name = ""
    for name in IDENTIFYING:
        setattr(participant, name, None)
    participant.purged_at = utcnow()
    participant.updated_at = participant.purged_at
    for model, key, columns in FREE_TEXT:
        db.session.execute(
            sa.update(model).where(getattr(model, key) == participant.id).values(dict.fromkeys(columns))
            .execution_options(synchronize_session="fetch")
        )
    referral_ids = sa.select(Referral.id).where(Referral.participant_id == participant.id).scalar_subquery()
    db.session.execute(
        sa.update(ReferralEvent).where(ReferralEvent.referral_id.in_(referral_ids)).values(reason=None, note=None)
        .execution_options(synchronize_session="fetch")
    )
    db.session.flush()
    audit.record(actor, "purge", "participant", participant.id, how)


# Removal requests


def file_removal_request(actor: User, participant: Participant, received_on: date | None,
                         requested_by: RequestedBy | str | None, grounds: str | None) -> RemovalRequest:
    policy.require(actor, "removal_request.create")
    problems: dict[str, str] = {}
    if not isinstance(received_on, date):
        problems["received_on"] = "This field is required."
    elif received_on > program_today():
        problems["received_on"] = "The date is in the future."
    who = next((r for r in RequestedBy if r.value == requested_by), None)
    if who is None:
        problems["requested_by"] = "Must be one of: " + ", ".join(r.value for r in RequestedBy) + "."
    if not (grounds or "").strip():
        problems["grounds"] = "This field is required."
    if problems or not isinstance(received_on, date):
        raise ValidationFailed("Some fields need attention.", problems)
    request = RemovalRequest(
        participant_id=participant.id, received_on=received_on, requested_by=who,
        grounds=(grounds or "").strip(), due_on=received_on + timedelta(days=REMOVAL_DAYS),
        status=RemovalStatus.OPEN, recorded_by_id=actor.id,
    )
    db.session.add(request)
    db.session.flush()
    audit.record(actor, "create", "removal_request", request.id, participant_id=participant.id)
    return request


def removal_requests_query(actor: User, status: RemovalStatus | None = None) -> sa.Select:
    """The oldest first: the open ones by their due date, so the overdue lead."""
    policy.require(actor, "removal_request.list")
    query = sa.select(RemovalRequest)
    if status is not None:
        query = query.where(RemovalRequest.status == status)
    return query.order_by(RemovalRequest.received_on, RemovalRequest.id)


def get_removal_request(actor: User, request_id: int, action: str = "removal_request.list") -> RemovalRequest:
    from ceasefire.errors import NotFound

    policy.require_kind(actor, "removal_request")
    request = db.session.get(RemovalRequest, request_id)
    if request is None:
        raise NotFound("No such removal request.")
    policy.require(actor, action)
    return request


def decide(actor: User, request: RemovalRequest, decision: RemovalStatus | str, reason: str | None) -> RemovalRequest:
    """Granted or denied, with a reason, once. Granting purges the participant in the same transaction."""
    policy.require(actor, "removal_request.decide")
    try:
        decision = RemovalStatus(decision)
        if decision == RemovalStatus.OPEN:
            raise ValueError(decision)
    except ValueError:
        raise ValidationFailed("Unknown decision.", {"decision": "Must be one of: granted, denied."}) from None
    text = _reason(reason)
    if request.status != RemovalStatus.OPEN:
        raise InvalidTransition(f"This request was already decided ({request.status.value}); the decision is final.")
    request.status = decision
    request.decision_reason = text
    request.decided_by_id = actor.id
    request.decided_at = utcnow()
    db.session.flush()
    audit.record(actor, "review", "removal_request", request.id, decision.value, participant_id=request.participant_id)
    if decision == RemovalStatus.GRANTED:
        participant = db.session.get(Participant, request.participant_id)
        if participant is not None and participant.purged_at is None:
            purge(actor, participant, f"removal_request {request.id}")
    return request
