"""Referrals to providers and the statuses providers report."""

from __future__ import annotations

from ceasefire import policy
from ceasefire.errors import Forbidden, InvalidTransition, ValidationFailed
from ceasefire.extensions import db
from ceasefire.models import Participant, Referral, ReferralEvent, Service, User
from ceasefire.models.base import utcnow
from ceasefire.models.enums import OPEN_REFERRAL_STATUSES, ReferralStatus, Role
from ceasefire.pipeline import has_sent_referral  # noqa: F401 - the rule lives with the pipeline's guard

S = ReferralStatus
# The steps in the order they come, so that buttons follow the referral's life.
STEP_ORDER = (S.ACCEPTED, S.DECLINED, S.ENROLLED, S.COMPLETED, S.DROPPED, S.WITHDRAWN)
# The order of a referral's life (API.md); any open status may also be withdrawn.
NEXT_STATUSES: dict[ReferralStatus, frozenset[ReferralStatus]] = {
    S.SENT: frozenset({S.ACCEPTED, S.DECLINED, S.WITHDRAWN}),
    S.ACCEPTED: frozenset({S.ENROLLED, S.DROPPED, S.WITHDRAWN}),
    S.ENROLLED: frozenset({S.COMPLETED, S.DROPPED, S.WITHDRAWN}),
}
STATUS_ROLES: dict[ReferralStatus, frozenset[Role]] = {
    S.ACCEPTED: frozenset({Role.PROVIDER}),
    S.DECLINED: frozenset({Role.PROVIDER}),
    S.ENROLLED: frozenset({Role.PROVIDER}),
    S.COMPLETED: frozenset({Role.PROVIDER}),
    S.DROPPED: frozenset({Role.PROVIDER}),
    S.WITHDRAWN: frozenset({Role.CASEWORKER, Role.SUPERVISOR}),
}


def send_referral(actor: User, participant: Participant, service: Service, note: str | None) -> Referral:
    policy.require(actor, "referral.create")
    if not service.active:
        raise ValidationFailed("That service is not taking referrals.", {"service_id": "The service is inactive."})
    if participant.consent_in_force() is None:
        raise ValidationFailed(
            "Record the participant's consent to share before referring.",
            {"consent_to_share": "No consent to share is in force."},
        )
    referral = Referral(
        participant=participant, service=service, note=(note or "").strip() or None, sent_by_id=actor.id
    )
    referral.events.append(ReferralEvent(from_status=None, to_status=S.SENT, actor_id=actor.id))
    db.session.add(referral)
    db.session.flush()
    from ceasefire.services import audit

    audit.record(actor, "create", "referral", referral.id, participant_id=participant.id)
    return referral


def allowed_statuses(actor: User, referral: Referral) -> list[ReferralStatus]:
    """The statuses this actor may set now, for the buttons of a page."""
    return next_steps(actor, S(referral.status))


def next_steps(actor: User, status: ReferralStatus) -> list[ReferralStatus]:
    """The statuses this actor may set on a referral that is `status`, in the order of the steps."""
    legal = NEXT_STATUSES.get(status, frozenset())
    return [s for s in STEP_ORDER if s in legal and actor.role in STATUS_ROLES[s]]


def set_status(actor: User, referral: Referral, status: ReferralStatus | str, reason: str | None = None,
               note: str | None = None) -> Referral:
    """Move the referral on; `note`, when given, is kept beside the change in the referral's history."""
    try:
        status = S(status)
    except ValueError:
        allowed = ", ".join(STATUS_ROLES)
        raise ValidationFailed("Unknown status.", {"status": f"Must be one of: {allowed}."}) from None
    if status not in STATUS_ROLES:  # `sent` is where a referral starts, never a status one sets
        raise InvalidTransition(f"A referral cannot be set back to {status}.")
    if actor.role not in STATUS_ROLES[status]:
        raise Forbidden(f"A {actor.role} user may not mark a referral {status}.")
    reason = (reason or "").strip() or None
    note = (note or "").strip() or None
    if status == S.DECLINED and not reason and note:  # one box on the inbox: the note given with a decline is why
        reason, note = note, None
    if status == S.DECLINED and not reason:
        raise ValidationFailed("Say why the referral is declined.", {"reason": "Required when declining."})
    # Lock the row and read its status afresh (PostgreSQL), so two people clicking at once take turns and the
    # second is judged against what the first did.
    db.session.refresh(referral, ["status"], with_for_update=True)
    current = S(referral.status)
    if status not in NEXT_STATUSES.get(current, frozenset()):
        raise InvalidTransition(f"A referral that is {current} cannot become {status}.")
    now = utcnow()
    referral.events.append(ReferralEvent(
        from_status=current, to_status=status, actor_id=actor.id, reason=reason, note=note))
    referral.status = status
    referral.updated_at = now
    if status == S.DECLINED or status not in OPEN_REFERRAL_STATUSES:
        referral.closed_at = now
    if reason:
        referral.reason = reason
    db.session.flush()
    from ceasefire.services import audit

    audit.record(actor, "referral_status", "referral", referral.id, f"{current}->{status}",
                 participant_id=referral.participant_id)
    return referral
