"""Organizations, services, groups and forums: the records the pipeline refers to."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from ceasefire import policy
from ceasefire.errors import InvalidTransition, ValidationFailed
from ceasefire.extensions import db
from ceasefire.models import Forum, Group, Organization, Service, User
from ceasefire.models.enums import ForumStatus, OrgKind
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
