"""The read side of street groups: what a user may see of each group, for the group pages.

policy.GROUP_FIELDS says which fields a role sees: caseworkers a group's name alone; police and supervisors also
its aliases and area, its members (their state and last enforcement) and the enforcement recorded against it.
Every function loads what a page shows in a fixed number of queries, whatever the number of groups or members.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from ceasefire import policy
from ceasefire.extensions import db
from ceasefire.models import EnforcementAction, Group, GroupEnforcement, Organization, Participant, User
from ceasefire.models.enums import ActionType
from ceasefire.services import read
from ceasefire.services.records import ABSENT, Absent, EnforcementRecord, Page, ParticipantRecord, Record

# What a member's line shows; the last enforcement is the newest of their actions (their group's included).
MEMBER_FIELDS = ("first_name", "last_name", "aliases", "state", "enforcement_actions")


@dataclass(frozen=True)
class GroupMember(Record):
    participant: ParticipantRecord
    last_enforcement: EnforcementRecord | None


@dataclass(frozen=True)
class GroupActionRecord(Record):
    """One enforcement action against the group: a group action with the members it touched, or (whole_group) an
    action recorded against the group as a whole."""

    id: int
    action_type: ActionType
    occurred_on: date
    agency_name: str
    incident_ref: str | None
    description: str | None
    recorded_by_name: str | None
    recorded_at: datetime
    members: tuple[ParticipantRecord, ...] = ()
    whole_group: bool = False


@dataclass(frozen=True)
class GroupRecord(Record):
    id: int
    name: str
    aliases: str | Absent | None = ABSENT
    area: str | Absent | None = ABSENT
    member_count: int | Absent = ABSENT
    members: tuple[GroupMember, ...] | Absent = ABSENT
    enforcement_history: tuple[GroupActionRecord, ...] | Absent = ABSENT


def _names(model: Any, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return dict(db.session.execute(sa.select(model.id, model.name).where(model.id.in_(wanted))).all())


def _plain(user: User, groups: list[Group]) -> list[GroupRecord]:
    """The group's own fields the role sees, and how many members it has (for those who see its members)."""
    fields = policy.group_fields(user.role)
    counts: dict[int, int] = {}
    if "members" in fields and groups:
        counts = dict(db.session.execute(
            policy.scope(user, sa.select(Participant.group_id, sa.func.count(Participant.id)))
            .where(Participant.group_id.in_([g.id for g in groups]))
            .group_by(Participant.group_id)
        ).all())
    records = []
    for g in groups:
        values: dict[str, Any] = {name: getattr(g, name) for name in ("aliases", "area") if name in fields}
        if "members" in fields:
            values["member_count"] = counts.get(g.id, 0)
        records.append(GroupRecord(g.id, g.name, **values))
    return records


def group_page(user: User, page: int, per_page: int, clamp: bool = False) -> Page[GroupRecord]:
    policy.require(user, "group.list")
    query = sa.select(Group).order_by(Group.name, Group.id)
    return read.paginate(query, page, per_page, lambda rows: _plain(user, rows), clamp)


def members(user: User, group: Group) -> tuple[GroupMember, ...]:
    """The group's members, by name, with their state and last enforcement (police and supervisors)."""
    policy.require(user, "group.view")
    if "members" not in policy.group_fields(user.role):
        return ()
    rows = list(db.session.scalars(policy.scope(
        user,
        sa.select(Participant).where(Participant.group_id == group.id)
        .order_by(Participant.last_name, Participant.first_name, Participant.id),
    )))
    found = []
    for record in read.participant_records(user, rows, MEMBER_FIELDS):
        actions = record.enforcement_actions
        found.append(GroupMember(record, actions[-1] if isinstance(actions, tuple) and actions else None))
    return tuple(found)


def _history(user: User, group: Group) -> tuple[GroupActionRecord, ...]:
    """The group's enforcement, newest first: its group actions with the members each touched (those the user may
    see), and any action recorded against the group as a whole."""
    actions = list(db.session.scalars(sa.select(GroupEnforcement).where(GroupEnforcement.group_id == group.id)))
    whole = list(db.session.scalars(
        sa.select(EnforcementAction)
        .where(EnforcementAction.group_id == group.id, EnforcementAction.participant_id.is_(None))
    ))
    touched: dict[int, list[int]] = {a.id: [] for a in actions}
    if actions:
        for link in db.session.scalars(
            sa.select(EnforcementAction).where(EnforcementAction.group_enforcement_id.in_(list(touched)))
            .order_by(EnforcementAction.id)
        ):
            if link.group_enforcement_id is not None and link.participant_id is not None:
                touched[link.group_enforcement_id].append(link.participant_id)
    wanted = {pid for ids in touched.values() for pid in ids}
    people_rows = list(db.session.scalars(
        policy.scope(user, sa.select(Participant).where(Participant.id.in_(wanted)))
    )) if wanted else []
    people = {r.id: r for r in read.participant_records(user, people_rows, ("first_name", "last_name"))}
    rows: list[GroupEnforcement | EnforcementAction] = [*actions, *whole]
    agencies = _names(Organization, [a.agency_id for a in rows])
    recorders = _names(User, [a.recorded_by_id for a in rows])
    history = [
        GroupActionRecord(
            a.id, a.action_type, a.occurred_on, agencies.get(a.agency_id, ""), a.incident_ref, a.description,
            recorders.get(a.recorded_by_id) if a.recorded_by_id is not None else None, a.created_at,
            members=tuple(sorted((people[pid] for pid in touched[a.id] if pid in people),
                                 key=lambda r: (str(r.last_name).lower(), str(r.first_name).lower(), r.id))),
        )
        for a in actions
    ] + [
        GroupActionRecord(
            a.id, a.action_type, a.occurred_on, agencies.get(a.agency_id, ""), a.incident_ref, a.description,
            recorders.get(a.recorded_by_id) if a.recorded_by_id is not None else None, a.created_at,
            whole_group=True,
        )
        for a in whole
    ]
    history.sort(key=lambda h: (h.occurred_on, h.recorded_at), reverse=True)
    return tuple(history)


def group_record(user: User, group: Group) -> GroupRecord:
    """One group as its page shows it: with its members and its enforcement history for the roles that see them."""
    policy.require(user, "group.view")
    fields = policy.group_fields(user.role)
    [record] = _plain(user, [group])
    extra: dict[str, Any] = {}
    if "members" in fields:
        extra["members"] = members(user, group)
    if "enforcement_history" in fields:
        extra["enforcement_history"] = _history(user, group)
    return GroupRecord(**{**{name: getattr(record, name) for name in record.shown}, **extra})
