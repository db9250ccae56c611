"""Organizations, services, groups and forums: the records the pipeline refers to."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import sqlalchemy as sa

from ceasefire import limits, policy
from ceasefire.errors import InvalidTransition, ValidationFailed
from ceasefire.extensions import db
from ceasefire.models import EnforcementAction, Forum, Group, Organization, Participant, Service, User
from ceasefire.models.enums import LAW_ENFORCEMENT_KINDS, ForumStatus, OrgKind, ServiceCategory
from ceasefire.services import audit
from ceasefire.services.accounts import ROLE_ORG_KINDS


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    """Strings stripped, blanks to None; enum members (also str) kept as they are."""
    return {k: (v.strip() or None) if isinstance(v, str) and not isinstance(v, Enum) else v for k, v in data.items()}


def create_organization(actor: User, data: dict[str, Any]) -> Organization:
    policy.require(actor, "organization.create")
    data = _clean(data)
    if problems := _check_text(data):
        raise ValidationFailed("Some fields need attention.", problems)
    org = Organization(**data)
    db.session.add(org)
    db.session.flush()
    audit.record(actor, "create", "organization", org.id)
    return org


def create_service(actor: User, data: dict[str, Any]) -> Service:
    policy.require(actor, "service.create")
    org = db.session.get(Organization, data["organization_id"])
    if org is None or org.kind != OrgKind.PROVIDER:
        raise ValidationFailed("No such provider.", {"organization_id": "Must be a provider organization."})
    data = _clean(data)
    if problems := _check_text(data):
        raise ValidationFailed("Some fields need attention.", problems)
    service = Service(**data)
    db.session.add(service)
    db.session.flush()
    audit.record(actor, "create", "service", service.id)
    return service


ORGANIZATION_FIELDS = ("name", "kind", "description", "email", "phone", "url")
SERVICE_FIELDS = ("organization_id", "name", "category", "description", "eligibility", "capacity", "active")
_LONGEST = {"name": limits.NAME, "description": limits.TEXT, "email": limits.EMAIL, "phone": limits.PHONE,
            "url": limits.URL, "eligibility": limits.TEXT}


def _check_text(data: dict[str, Any]) -> dict[str, str]:
    problems = {}
    if "name" in data and not data["name"]:
        problems["name"] = "This field is required."
    for name, longest in _LONGEST.items():
        if isinstance(data.get(name), str) and len(data[name]) > longest:
            problems[name] = f"At most {longest:,} characters."
    if data.get("email") and "@" not in data["email"].strip("@"):
        problems["email"] = "Give an email address."
    return problems


def _apply(actor: User, record: Organization | Service, kind: str, data: dict[str, Any]) -> list[str]:
    changed = [field for field, value in data.items() if getattr(record, field) != value]
    for field in changed:
        setattr(record, field, data[field])
    db.session.flush()
    audit.record(actor, "update", kind, record.id, ",".join(changed) or "no change")
    return changed


def update_organization(actor: User, org: Organization, data: dict[str, Any]) -> list[str]:
    """New HSDS fields for an organization; its kind may change only while nothing depends on it (a provider's
    services, users whose role needs that kind). The fields changed."""
    policy.require(actor, "organization.update")
    data = _clean({k: v for k, v in data.items() if k in ORGANIZATION_FIELDS})
    problems = _check_text(data)
    if "kind" in data:
        try:
            data["kind"] = OrgKind(data["kind"])
        except ValueError:
            problems["kind"] = "Must be one of: " + ", ".join(OrgKind) + "."
    if problems:
        raise ValidationFailed("Some fields need attention.", problems)
    if data.get("kind", org.kind) != org.kind:
        users = db.session.scalars(db.select(User).where(User.organization_id == org.id))
        if any((kinds := ROLE_ORG_KINDS[u.role]) is not None and data["kind"] not in kinds for u in users):
            raise ValidationFailed("The organization's users need its kind.",
                                   {"kind": "Some of its users' roles need this kind; change their roles first."})
        if org.kind == OrgKind.PROVIDER and db.session.scalar(
            db.select(Service.id).where(Service.organization_id == org.id).limit(1)
        ):
            raise ValidationFailed("The organization offers services.",
                                   {"kind": "It offers services, so it stays a provider."})
        if _named_in_case_records(org):
            raise ValidationFailed("Case records name the organization.",
                                   {"kind": f"Case records name it as a {org.kind.value} organization; it stays one."})
    return _apply(actor, org, "organization", data)


def _named_in_case_records(org: Organization) -> bool:
    """Whether participants (assigned to it, identified by it) or enforcement actions (its agency) name it."""
    named = sa.or_(
        sa.exists().where(sa.or_(Participant.community_org_id == org.id, Participant.identifying_org_id == org.id)),
        sa.exists().where(EnforcementAction.agency_id == org.id),
    )
    return bool(db.session.scalar(sa.select(named)))


def update_service(actor: User, service: Service, data: dict[str, Any]) -> list[str]:
    """New HSDS fields for a service; an inactive service takes no new referrals. The fields changed."""
    policy.require(actor, "service.update")
    data = _clean({k: v for k, v in data.items() if k in SERVICE_FIELDS})
    problems = _check_text(data)
    if "category" in data:
        try:
            data["category"] = ServiceCategory(data["category"])
        except ValueError:
            problems["category"] = "Must be one of: " + ", ".join(ServiceCategory) + "."
    if data.get("capacity") is not None and not 0 <= data["capacity"] <= limits.ID_MAX:
        problems["capacity"] = "A number of places, 0 or more."
    if "organization_id" in data:
        org = db.session.get(Organization, data["organization_id"] or 0)
        if org is None or org.kind != OrgKind.PROVIDER:
            problems["organization_id"] = "Must be a provider organization."
    if problems:
        raise ValidationFailed("Some fields need attention.", problems)
    return _apply(actor, service, "service", data)


def law_enforcement_agencies() -> list[Organization]:
    """The agencies an enforcement action may name (police, probation, parole, prosecutor), by name."""
    return list(db.session.scalars(
        sa.select(Organization)
        .where(Organization.kind.in_([k.value for k in LAW_ENFORCEMENT_KINDS]))
        .order_by(Organization.name)
    ))


def create_group(actor: User, data: dict[str, Any]) -> Group:
    policy.require(actor, "group.create")
    data = _clean(data)
    if db.session.scalar(db.select(Group.id).where(db.func.lower(Group.name) == data["name"].lower())):
        raise ValidationFailed("That group exists.", {"name": "A group with this name exists."})
    group = Group(**data)
    db.session.add(group)
    db.session.flush()
    audit.record(actor, "create", "group", group.id)
    return group


def create_forum(actor: User, title: str, scheduled_at: datetime, location: str | None = None,
                 speakers: str | None = None, notes: str | None = None) -> Forum:
    policy.require(actor, "forum.create")
    forum = Forum(**_clean({"title": title, "location": location, "speakers": speakers, "notes": notes}),
                  scheduled_at=scheduled_at, created_by_id=actor.id)
    if not forum.title:
        raise ValidationFailed("Give the forum a title.", {"title": "This field is required."})
    db.session.add(forum)
    db.session.flush()
    audit.record(actor, "create", "forum", forum.id)
    return forum


# A forum is planned until it is held or cancelled; both are final.
FORUM_STEPS: dict[ForumStatus, frozenset[ForumStatus]] = {
    ForumStatus.PLANNED: frozenset({ForumStatus.HELD, ForumStatus.CANCELLED}),
    ForumStatus.HELD: frozenset(),
    ForumStatus.CANCELLED: frozenset(),
}
FORUM_FIELDS = ("title", "scheduled_at", "location", "speakers", "notes", "status")


def update_forum(actor: User, forum: Forum, data: dict[str, Any]) -> Forum:
    """Change a forum's details or move its status on (planned -> held | cancelled); the same status is no change."""
    policy.require(actor, "forum.update")
    unknown = sorted(set(data) - set(FORUM_FIELDS))
    if unknown:
        raise ValidationFailed("Unknown fields.", dict.fromkeys(unknown, "Unknown field."))
    data = _clean({k: v for k, v in data.items() if k != "status"}) | (
        {"status": data["status"]} if "status" in data else {}
    )
    problems = {}
    if "title" in data and not data["title"]:
        problems["title"] = "This field is required."
    if "scheduled_at" in data and data["scheduled_at"] is None:
        problems["scheduled_at"] = "This field is required."
    status = data.get("status", forum.status)
    if status is None or status not in set(ForumStatus):
        allowed = ", ".join(s.value for s in ForumStatus)
        problems["status"] = f"Must be one of: {allowed}."
    if problems:
        raise ValidationFailed("Some fields need attention.", problems)
    status = ForumStatus(status)
    if status != forum.status and status not in FORUM_STEPS[forum.status]:
        raise InvalidTransition(
            f"A forum that is {forum.status.value} cannot become {status.value}.",
            {"status": f"A {forum.status.value} forum cannot become {status.value}."},
        )
    changed = []
    for field in FORUM_FIELDS:
        if field not in data:
            continue
        value = status if field == "status" else data[field]
        if getattr(forum, field) != value:
            setattr(forum, field, value)
            changed.append(field)
    db.session.flush()
    audit.record(actor, "update", "forum", forum.id, ",".join(changed) or "no change")
    return forum
