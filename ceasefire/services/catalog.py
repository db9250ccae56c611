"""Organizations, services, groups and forums: the records the pipeline refers to."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from ceasefire import policy
from ceasefire.errors import ValidationFailed
from ceasefire.extensions import db
from ceasefire.models import Forum, Group, Organization, Service, User
from ceasefire.models.enums import OrgKind
from ceasefire.services import audit


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    """Strings stripped, blanks to None; enum members (also str) kept as they are."""
    return {k: (v.strip() or None) if isinstance(v, str) and not isinstance(v, Enum) else v for k, v in data.items()}


def create_organization(actor: User, data: dict[str, Any]) -> Organization:
    policy.require(actor, "organization.create")
    org = Organization(**_clean(data))
    db.session.add(org)
    db.session.flush()
    audit.record(actor, "create", "organization", org.id)
    return org


def create_service(actor: User, data: dict[str, Any]) -> Service:
    policy.require(actor, "service.create")
    org = db.session.get(Organization, data["organization_id"])
    if org is None or org.kind != OrgKind.PROVIDER:
        raise ValidationFailed("No such provider.", {"organization_id": "Must be a provider organization."})
    service = Service(**_clean(data))
    db.session.add(service)
    db.session.flush()
    audit.record(actor, "create", "service", service.id)
    return service


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
