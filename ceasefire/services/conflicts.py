"""Conflicts that lose nothing: when someone else saved a participant first, who it was and what they did, and how
the user's edit lands on top of the new version.

A page keeps the values it was read with (`base`). Against the values saved now (`theirs`) and what the user typed
(`mine`), each field is settled: what only one side changed takes that side's value; what both changed differently
is a conflict, shown side by side, with the user's value kept for them to confirm or change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

import sqlalchemy as sa

from ceasefire import policy
from ceasefire.extensions import db
from ceasefire.models import AuditEvent, Participant, User

# What each kind of change did, in words, with {name} for the participant's first name.
DONE: dict[str, str] = {
    "update": "changed {name}'s record",
    "invite": "invited {name} to a forum",
    "attend": "checked {name} in",
    "no_show": "marked {name} as a no-show",
    "offer_services": "recorded services offered to {name}",
    "enforce": "recorded enforcement against {name}",
    "close": "closed {name}'s case",
    "reopen": "reopened {name}'s case",
}


@dataclass(frozen=True)
class LastChange:
    """The last change to a participant: who made it, when, and what it did ("checked Marcus in")."""

    who: str
    at: datetime
    what: str


@dataclass(frozen=True)
class FieldConflict:
    name: str
    theirs: str
    mine: str


def last_change(user: User, participant: Participant) -> LastChange | None:
    """Who last changed the participant and how, from the audit trail (edits and pipeline events alike)."""
    policy.require(user, "participant.view")
    row = db.session.execute(
        sa.select(AuditEvent.action, AuditEvent.detail, AuditEvent.at, User.name)
        .outerjoin(User, User.id == AuditEvent.user_id)
        .where(AuditEvent.object_type == "participant", AuditEvent.object_id == participant.id,
               AuditEvent.action.in_(["update", "event"]))
        .order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    if row is None:
        return None
    action, detail, at, who = row
    kind = detail if action == "event" and detail in DONE else "update"
    return LastChange(who or "Someone", at, DONE[kind].format(name=participant.first_name))


def as_text(value: Any) -> str:
    """A field's value as a form shows it, so values read, typed and saved compare alike."""
    if value is None:
        return ""
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value).strip()


def snapshot(participant: Participant, names: list[str]) -> str:
    """The values a page is read with, to send back with the form (its `base`)."""
    return json.dumps({name: as_text(getattr(participant, name)) for name in names}, sort_keys=True)


def read_base(text: str | None) -> dict[str, str]:
    """A page's `base`; nothing when it is missing or not what snapshot() wrote (every difference is then a
    conflict, and nothing is taken from either side unasked)."""
    try:
        base = json.loads(text or "")
    except ValueError:
        return {}
    if not isinstance(base, dict):
        return {}
    return {str(k): v for k, v in base.items() if isinstance(v, str)}


def settle(base: dict[str, str], mine: dict[str, Any],
           participant: Participant) -> tuple[set[str], list[FieldConflict]]:
    """Which fields take the saved value (the user left them as they were), and which conflict (both sides changed
    them, differently). The others keep what the user typed."""
    take_theirs: set[str] = set()
    conflicts = []
    for name, typed in mine.items():
        theirs, yours = as_text(getattr(participant, name)), as_text(typed)
        if theirs == yours:
            continue
        if name in base and base[name] == yours:
            take_theirs.add(name)
        elif name in base and base[name] == theirs:
            continue
        else:
            conflicts.append(FieldConflict(name, theirs, yours))
    return take_theirs, conflicts
