"""Consent to share with providers, in full: how it was given (in writing, or spoken before a witness), its scope and
its expiry; and revoking it, which closes providers' access at once (policy.scope reads only consents in force)."""

from __future__ import annotations

from datetime import date
from typing import Any

from ceasefire import limits, policy
from ceasefire.errors import ValidationFailed
from ceasefire.extensions import db
from ceasefire.models import Consent, Participant, User
from ceasefire.models.base import utcnow
from ceasefire.models.enums import ConsentMethod
from ceasefire.services import audit
from ceasefire.services.clock import program_today
from ceasefire.services.participants import check_version


def _require(actor: User) -> None:
    policy.require(actor, "consent.change")


def record_consent(
    actor: User, participant: Participant, version: int, method: Any, scope: Any, expires_on: date | None = None,
    witness_name: Any = None,
) -> Consent:
    """A consent given today. A verbal consent names its witness; the expiry, when given, is after today."""
    _require(actor)
    check_version(participant, version)
    problems: dict[str, str] = {}
    try:
        chosen = ConsentMethod(method)
    except ValueError:
        chosen = None
        problems["method"] = "Say how the consent was given: written or verbal."
    witness = (witness_name or "").strip() if isinstance(witness_name, str) else ""
    if chosen == ConsentMethod.VERBAL and not witness:
        problems["witness_name"] = "A verbal consent names its witness."
    if len(witness) > limits.NAME:
        problems["witness_name"] = f"At most {limits.NAME} characters."
    text = (scope or "").strip() if isinstance(scope, str) else ""
    if not text:
        problems["scope"] = "Say what the participant agreed to share, and with whom."
    elif len(text) > limits.TITLE:
        problems["scope"] = f"At most {limits.TITLE} characters."
    if expires_on is not None and (not isinstance(expires_on, date) or expires_on <= program_today()):
        problems["expires_on"] = "The expiry must be a day after today."
    if problems:
        raise ValidationFailed("Some fields need attention.", problems)
    if participant.consent_in_force() is not None:
        raise ValidationFailed("A consent is already in force; revoke it before recording another.")
    consent = Consent(
        given_on=program_today(), expires_on=expires_on, scope=text, method=chosen,
        witness_name=witness if chosen == ConsentMethod.VERBAL else None, recorded_by_id=actor.id,
    )
    participant.consents.append(consent)
    participant.updated_at = utcnow()  # a change to the participant: the version moves on
    db.session.flush()
    audit.record(actor, "update", "participant", participant.id, "consent_to_share given")
    return consent


def revoke_consent(actor: User, participant: Participant, version: int) -> Consent:
    """Revoke the consent in force: from this moment no provider sees the participant or their referrals."""
    _require(actor)
    check_version(participant, version)
    consent = participant.consent_in_force()
    if consent is None:
        raise ValidationFailed("There is no consent in force to revoke.")
    consent.revoked_on = program_today()
    consent.revoked_at = utcnow()
    consent.revoked_by_id = actor.id
    participant.updated_at = utcnow()
    db.session.flush()
    audit.record(actor, "update", "participant", participant.id, "consent_to_share revoked")
    return consent
