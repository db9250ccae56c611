"""Records as the caller may see them. Participant fields pass through ceasefire.policy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from ceasefire import policy
from ceasefire.extensions import db
from ceasefire.models import (
    Consent,
    EnforcementAction,
    Forum,
    Group,
    Invitation,
    Organization,
    Participant,
    Referral,
    Service,
    StatusChange,
    User,
)
from ceasefire.models.enums import ReferralStatus
from ceasefire.services import participants as participant_service


def iso(value: date | datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"  # years < 1000 too
    return value.isoformat()


@dataclass
class Related:
    """What a page of participant records needs from other tables, loaded in a few queries, not per record."""

    referrals: dict[int, list[Referral]] = field(default_factory=dict)
    enforcement: dict[int, list[EnforcementAction]] = field(default_factory=dict)

    @classmethod
    def load(cls, user: User, participants: list[Participant]) -> Related:
        visible = policy.visible_fields(user.role)
        ids = [p.id for p in participants]
        related = cls()
        if visible & {"consent_to_share"}:
            consents: dict[int, list[Consent]] = {i: [] for i in ids}
            for consent in db.session.scalars(
                sa.select(Consent).where(Consent.participant_id.in_(ids)).order_by(Consent.id)
            ):
                consents[consent.participant_id].append(consent)
            for p in participants:
                set_committed_value(p, "consents", consents[p.id])
        if visible & {"referrals", "services_offered"}:
            related.referrals = {i: [] for i in ids}
            for referral in db.session.scalars(
                sa.select(Referral).options(selectinload(Referral.service))
                .where(Referral.participant_id.in_(ids)).order_by(Referral.id)
            ):
                related.referrals[referral.participant_id].append(referral)
        if visible & {"enforcement_dates", "enforcement_actions"}:
            related.enforcement = participant_service.enforcement_actions_for(participants)
        return related


def _referrals(user: User, p: Participant, related: Related) -> list[dict[str, Any]]:
    return [
        {
            "id": r.id,
            "service_id": r.service_id,
            "service_name": r.service.name,
            "organization_id": r.service.organization_id,
            "status": r.status.value,
            "sent_at": iso(r.sent_at),
        }
        for r in related.referrals[p.id]
        if policy.referral_visible_in_record(user, r)
    ]


def _enforcement(p: Participant, related: Related) -> list[dict[str, Any]]:
    return [
        {
            "id": a.id,
            "action_type": a.action_type.value,
            "occurred_on": iso(a.occurred_on),
            "agency_id": a.agency_id,
            "group_id": a.group_id,
            "incident_ref": a.incident_ref,
            "description": a.description,
        }
        for a in related.enforcement[p.id]
    ]


PARTICIPANT_FIELDS: dict[str, Callable[[User, Participant, Related], Any]] = {
    "id": lambda u, p, r: p.id,
    "version": lambda u, p, r: p.version,
    "first_name": lambda u, p, r: p.first_name,
    "last_name": lambda u, p, r: p.last_name,
    "aliases": lambda u, p, r: p.aliases,
    "date_of_birth": lambda u, p, r: iso(p.date_of_birth),
    "phone": lambda u, p, r: p.phone,
    "address": lambda u, p, r: p.address,
    "state": lambda u, p, r: p.state.value if p.state else None,
    "supervision_status": lambda u, p, r: p.supervision_status.value if p.supervision_status else None,
    "supervising_agency": lambda u, p, r: p.supervising_agency,
    "caseworker_id": lambda u, p, r: p.caseworker_id,
    "community_org_id": lambda u, p, r: p.community_org_id,
    "group_id": lambda u, p, r: p.group_id,
    "group_name": lambda u, p, r: p.group.name if p.group else None,
    "identification_basis": lambda u, p, r: p.identification_basis,
    "identifying_org_id": lambda u, p, r: p.identifying_org_id,
    "identified_on": lambda u, p, r: iso(p.identified_on),
    "enforcement_dates": lambda u, p, r: sorted({iso(a.occurred_on) for a in r.enforcement[p.id]}),
    "enforcement_actions": lambda u, p, r: _enforcement(p, r),
    # services.referrals.has_sent_referral's rule, over the referrals already loaded that the caller may see (a
    # provider learns nothing of other providers' referrals)
    "services_offered": lambda u, p, r: any(
        x.status != ReferralStatus.WITHDRAWN and policy.referral_visible_in_record(u, x) for x in r.referrals[p.id]
    ),
    "consent_to_share": lambda u, p, r: p.consent_in_force() is not None,
    "referrals": _referrals,
    # DESIGN.md §3 has OutreachContact, but nothing records one yet: the roles §4 grants see an empty list.
    "outreach_contacts": lambda u, p, r: [],
}


def participants(user: User, rows: list[Participant]) -> list[dict[str, Any]]:
    visible = policy.visible_fields(user.role)
    getters = [(name, get) for name, get in PARTICIPANT_FIELDS.items() if name in visible]
    related = Related.load(user, rows)
    return [{name: get(user, p, related) for name, get in getters} for p in rows]


def participant(user: User, p: Participant) -> dict[str, Any]:
    return participants(user, [p])[0]


def history_row(change: StatusChange) -> dict[str, Any]:
    return {
        "event": change.event,
        "from_state": change.from_state.value if change.from_state else None,
        "to_state": change.to_state.value,
        "actor_id": change.actor_id,
        "at": iso(change.at),
        "reason": change.reason,
    }


def forum(f: Forum) -> dict[str, Any]:
    return {
        "id": f.id,
        "title": f.title,
        "scheduled_at": iso(f.scheduled_at),
        "location": f.location,
        "status": f.status.value,
        "speakers": f.speakers,
        "notes": f.notes,
    }


def forum_with_invitations(user: User, f: Forum) -> dict[str, Any]:
    record = forum(f)
    record["invitations"] = []
    if not policy.sees(user.role, "state"):
        return record
    visible_ids = set(db.session.scalars(policy.scope(
        user,
        sa.select(Participant.id).join(Invitation, Invitation.participant_id == Participant.id)
        .where(Invitation.forum_id == f.id),
    )))
    record["invitations"] = [
        {
            "participant_id": inv.participant_id,
            "method": inv.method.value,
            "attended": inv.attended,
            "checked_in_at": iso(inv.checked_in_at),
        }
        for inv in f.invitations
        if inv.participant_id in visible_ids
    ]
    return record


def referral(r: Referral) -> dict[str, Any]:
    return {
        "id": r.id,
        "participant_id": r.participant_id,
        "service_id": r.service_id,
        "organization_id": r.service.organization_id,
        "status": r.status.value,
        "note": r.note,
        "reason": r.reason,
        "sent_at": iso(r.sent_at),
        "sent_by_id": r.sent_by_id,
        "updated_at": iso(r.updated_at),
        "events": [
            {
                "from_status": e.from_status.value if e.from_status else None,
                "to_status": e.to_status.value,
                "actor_id": e.actor_id,
                "at": iso(e.at),
                "reason": e.reason,
            }
            for e in r.events
        ],
    }


def user(u: User) -> dict[str, Any]:
    return {
        "id": u.id,
        "email": u.email,
        "name": u.name,
        "role": u.role.value,
        "organization_id": u.organization_id,
        "active": u.active,
    }


def organization(o: Organization) -> dict[str, Any]:
    return {
        "id": o.id, "name": o.name, "kind": o.kind.value, "description": o.description,
        "email": o.email, "phone": o.phone, "url": o.url,
    }


def service(s: Service) -> dict[str, Any]:
    return {
        "id": s.id, "organization_id": s.organization_id, "name": s.name, "category": s.category.value,
        "description": s.description, "eligibility": s.eligibility, "capacity": s.capacity, "active": s.active,
    }


def group(viewer: User, g: Group) -> dict[str, Any]:
    full = {"id": g.id, "name": g.name, "aliases": g.aliases, "area": g.area}
    return {k: v for k, v in full.items() if k in policy.GROUP_FIELDS[viewer.role]}


def audit_event(e) -> dict[str, Any]:
    return {
        "at": iso(e.at),
        "user_id": e.user_id,
        "action": e.action,
        "object_type": e.object_type,
        "object_id": e.object_id,
        "ip": e.ip,
        "detail": e.detail,
    }


def outcome(o) -> dict[str, Any]:
    return {
        "id": o.id,
        "participant_id": o.participant_id,
        "type": o.type.value,
        "occurred_on": iso(o.occurred_on),
        "note": o.note,
        "recorded_by": o.recorded_by_id,
        "recorded_at": iso(o.recorded_at),
    }
