"""One timeline of a participant, newest first: pipeline history, invitations, referrals and their status changes,
consent, custom notifications, notes, outreach, enforcement and outcomes, each only where ceasefire.policy lets
the user see it. A fixed number of queries, whatever the number of rows: one (or two) per kind of record, and one
for the names of the people in it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa

from ceasefire import policy
from ceasefire.extensions import db
from ceasefire.models import (
    Consent,
    Forum,
    Invitation,
    Organization,
    Outcome,
    Participant,
    Referral,
    ReferralEvent,
    Service,
    StatusChange,
    User,
)
from ceasefire.models.enums import ConsentMethod
from ceasefire.services import fieldwork
from ceasefire.services import participants as participant_service
from ceasefire.services.clock import zone
from ceasefire.services.records import TimelineEntry


def say(value: Any) -> str:
    """An enum value as people say it: services_offered -> services offered."""
    return str(getattr(value, "value", value)).replace("_", " ")


def _sort_key(entry: TimelineEntry) -> datetime:
    at = entry.at
    if isinstance(at, datetime):
        return at
    return datetime.combine(at, time(0), tzinfo=zone())  # a day's events sit at its start, in the program's zone


@dataclass(frozen=True)
class _Draft:
    """An entry before the names: who is a user id, looked up with all the others at the end, or a name."""

    at: datetime | date
    kind: str
    title: str
    detail: str | None = None
    actor_id: int | None = None
    who: str | None = None


def _pipeline(user: User, p: Participant) -> Iterator[_Draft]:
    if not policy.sees(user.role, "history"):
        return
    for c in db.session.scalars(sa.select(StatusChange).where(StatusChange.participant_id == p.id)):
        moved = f"{say(c.from_state)} → {say(c.to_state)}" if c.from_state else say(c.to_state)
        yield _Draft(c.at, "pipeline", f"{say(c.event).capitalize()}: {moved}", c.reason, c.actor_id)


def _invitations(user: User, p: Participant) -> Iterator[_Draft]:
    shown = policy.invitation_fields(user.role)
    if not shown:
        return
    rows = db.session.execute(
        sa.select(Invitation, Forum).join(Forum, Invitation.forum_id == Forum.id)
        .where(Invitation.participant_id == p.id)
    ).all()
    for inv, forum in rows:
        if "method" not in shown:  # community users learn only that an assigned participant attended
            if inv.attended:
                yield _Draft(forum.scheduled_at, "invitation", f"Attended {forum.title}")
            continue
        yield _Draft(inv.delivered_at, "invitation", f"Invited to {forum.title}", f"By {say(inv.method)}",
                     inv.delivered_by_id)
        if inv.attended:
            yield _Draft(inv.checked_in_at or forum.scheduled_at, "invitation", f"Checked in at {forum.title}",
                         actor_id=inv.checked_in_by_id)
        elif inv.attended is False:
            yield _Draft(forum.scheduled_at, "invitation", f"No-show at {forum.title}")


def _referrals(user: User, p: Participant) -> Iterator[_Draft]:
    if not policy.sees(user.role, "referrals"):
        return
    referrals = {
        r.id: (s, o) for r, s, o in db.session.execute(
            sa.select(Referral, Service, Organization)
            .join(Service, Referral.service_id == Service.id)
            .join(Organization, Service.organization_id == Organization.id)
            .where(Referral.participant_id == p.id)
        ).all()
        if policy.referral_visible_in_record(user, r)
    }
    if not referrals:
        return
    for e in db.session.scalars(sa.select(ReferralEvent).where(ReferralEvent.referral_id.in_(list(referrals)))):
        service, org = referrals[e.referral_id]
        yield _Draft(e.at, "referral", f"Referral to {service.name} ({org.name}): {say(e.to_status)}", e.reason,
                     e.actor_id)


def _consent_detail(c: Consent) -> str:
    parts = []
    if c.method == ConsentMethod.WRITTEN:
        parts.append("In writing")
    elif c.method == ConsentMethod.VERBAL:
        parts.append(f"Spoken, witnessed by {c.witness_name}")
    parts.append(f"to share: {c.scope}")
    if c.expires_on:
        parts.append(f"until {c.expires_on.isoformat()}")
    return "; ".join(parts)


def _consents(user: User, p: Participant) -> Iterator[_Draft]:
    if not policy.sees(user.role, "consent_to_share"):
        return
    for c in db.session.scalars(sa.select(Consent).where(Consent.participant_id == p.id)):
        yield _Draft(c.created_at, "consent", "Consent to share given", _consent_detail(c), c.recorded_by_id)
        if c.revoked_on is not None:
            yield _Draft(c.revoked_at or c.revoked_on, "consent", "Consent to share revoked: providers lost access",
                         actor_id=c.revoked_by_id)


def _custom_notifications(user: User, p: Participant) -> Iterator[_Draft]:
    for r in fieldwork.custom_notification_records(user, [p.id])[p.id]:
        detail = f"Message: {r.message or ''}" + (f" Response: {r.response}" if r.response else "")
        yield _Draft(r.delivered_at, "custom_notification", f"Custom notification at {r.place or ''}", detail,
                     who=", ".join(r.team_names) or None)


def _notes(user: User, p: Participant) -> Iterator[_Draft]:
    for r in fieldwork.note_records(user, [p.id])[p.id]:
        yield _Draft(r.created_at, "note", f"Note ({say(r.visibility)})", r.body, who=r.author_name)


def _outreach(user: User, p: Participant) -> Iterator[_Draft]:
    for r in fieldwork.outreach_records(user, [p.id])[p.id]:
        who = f"{r.user_name} ({r.organization_name})" if r.user_name else r.organization_name
        yield _Draft(r.contacted_at, "outreach", f"Outreach {say(r.kind)}", r.outcome, who=who)


def _enforcement(user: User, p: Participant) -> Iterator[_Draft]:
    full = policy.sees(user.role, "enforcement_actions")
    if not (full or policy.sees(user.role, "enforcement_dates")):
        return
    actions = participant_service.enforcement_actions_for([p])[p.id]
    if not full:  # that it happened, and when
        for day in sorted({a.occurred_on for a in actions}):
            yield _Draft(day, "enforcement", "Enforcement recorded")
        return
    agencies = dict(db.session.execute(
        sa.select(Organization.id, Organization.name).where(Organization.id.in_({a.agency_id for a in actions}))
    ).all()) if actions else {}
    for a in actions:
        title = f"Enforcement: {say(a.action_type)}" + (" (whole group)" if a.group_id else "")
        detail = " — ".join(x for x in (a.incident_ref, a.description) if x) or None
        yield _Draft(a.occurred_on, "enforcement", title, detail, who=agencies.get(a.agency_id))


def _outcomes(user: User, p: Participant) -> Iterator[_Draft]:
    types = [t.value for t in policy.outcome_types(user)]
    if not types:
        return
    for o in db.session.scalars(sa.select(Outcome).where(Outcome.participant_id == p.id, Outcome.type.in_(types))):
        yield _Draft(o.occurred_on, "outcome", f"Outcome: {say(o.type)}", o.note, o.recorded_by_id)


SOURCES: tuple[Callable[[User, Participant], Iterator[_Draft]], ...] = (
    _pipeline, _invitations, _referrals, _consents, _custom_notifications, _notes, _outreach, _enforcement, _outcomes,
)


def timeline(user: User, p: Participant) -> tuple[TimelineEntry, ...]:
    """Everything the user may see of the participant's story, newest first (the caller loaded p in scope)."""
    drafts = [draft for source in SOURCES for draft in source(user, p)]
    ids = {d.actor_id for d in drafts if d.actor_id is not None}
    names = dict(db.session.execute(sa.select(User.id, User.name).where(User.id.in_(ids))).all()) if ids else {}
    entries = [
        TimelineEntry(d.at, d.kind, d.title, d.who or names.get(d.actor_id or 0), d.detail) for d in drafts
    ]
    return tuple(sorted(entries, key=_sort_key, reverse=True))
