"""Street groups: editing one, and recording an enforcement action against a whole group (creating one is
ceasefire.services.catalog.create_group, which the API calls too).

enforce_group is the per-person verb for each member the action touched, all in the caller's one transaction: every
member gets an individual EnforcementAction (the enforce event, or a further action on someone already enforced),
linked to one GroupEnforcement row. A member whose state allows neither is named in the refusal, before anything is
written, and so nobody is recorded.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import sqlalchemy as sa

from ceasefire import pipeline, policy
from ceasefire.errors import InvalidTransition, ValidationFailed
from ceasefire.extensions import db
from ceasefire.models import Group, GroupEnforcement, Participant, User
from ceasefire.models.enums import ActionType, State
from ceasefire.services import audit, events

EDITABLE = ("name", "aliases", "area")


def _text(value: str | None) -> str | None:
    """Stripped, or None when blank."""
    return (value or "").strip() or None


def _clean(data: dict[str, Any]) -> dict[str, str | None]:
    return {name: _text(value) for name, value in data.items()}


def update_group(actor: User, group: Group, data: dict[str, Any]) -> Group:
    """Change a group's name, aliases or area; the name stays required and unique (whatever its case)."""
    policy.require(actor, "group.update")
    values = _clean({k: v for k, v in data.items() if k in EDITABLE})
    if "name" in values:
        if not values["name"]:
            raise ValidationFailed("Give the group a name.", {"name": "This field is required."})
        taken = db.session.scalar(
            sa.select(Group.id).where(sa.func.lower(Group.name) == values["name"].lower(), Group.id != group.id)
        )
        if taken is not None:
            raise ValidationFailed("That group exists.", {"name": "A group with this name exists."})
    changed = sorted(name for name, value in values.items() if getattr(group, name) != value)
    for name in changed:
        setattr(group, name, values[name])
    db.session.flush()
    audit.record(actor, "update", "group", group.id, ", ".join(changed) or None)
    return group


def _chosen_members(group: Group, member_ids: Iterable[int | str] | None) -> list[Participant]:
    """The members named, each a member of this group (422 otherwise), ordered by name."""
    try:
        wanted = {int(i) for i in member_ids or ()}
    except (TypeError, ValueError):
        raise ValidationFailed("Choose members of the group.", {"members": "Not a participant id."}) from None
    if not wanted:
        raise ValidationFailed("Choose the members the action touched.",
                               {"members": "Choose at least one member of the group."})
    members = list(db.session.scalars(
        sa.select(Participant)
        .where(Participant.id.in_(wanted), Participant.group_id == group.id)
        .order_by(Participant.last_name, Participant.first_name, Participant.id)
    ))
    if len(members) != len(wanted):
        raise ValidationFailed("Some of those chosen are not members of this group.",
                               {"members": "Choose members of this group only."})
    return members


def _names(people: list[Participant]) -> str:
    named = [f"{p.full_name} ({State(p.state).value.replace('_', ' ')})" for p in people]
    return named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]


def enforce_group(actor: User, group: Group, member_ids: Iterable[int | str] | None,
                  action_type: ActionType | str | None, occurred_on: date | None, agency_id: int | None = None,
                  description: str | None = None, incident_ref: str | None = None) -> GroupEnforcement:
    """One enforcement action against the group, touching the chosen members: each gets their own action. Role
    (403), the action's fields (422), the members (422), then every member's state (409, naming each one refused):
    all are checked before anything is written, and the caller's one commit keeps all or, on any refusal, none."""
    pipeline.authorize("enforce", actor)
    policy.require(actor, "group.enforce")
    kind, agency, day = events.enforcement_input(actor, action_type, occurred_on, agency_id)
    members = _chosen_members(group, member_ids)
    refused = [p for p in members if not events.may_be_enforced(p)]
    if refused:
        message = f"Nothing was recorded: enforcement cannot be recorded against {_names(refused)}."
        raise InvalidTransition(message, {"members": message})
    record = GroupEnforcement(
        group_id=group.id, agency_id=agency.id, action_type=kind, occurred_on=day,
        incident_ref=_text(incident_ref), description=_text(description), recorded_by_id=actor.id,
    )
    db.session.add(record)
    db.session.flush()
    for member in members:
        events.record_enforcement(actor, member, member.version, kind, day, agency.id, description,
                                  incident_ref, group_enforcement=record)
    audit.record(actor, "create", "group_enforcement", record.id,
                 f"group {group.id}; participants {', '.join(str(p.id) for p in members)}")
    return record
