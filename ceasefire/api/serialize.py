"""JSON from the read side's records (ceasefire.services.read), and from the catalogue rows no policy narrows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

from ceasefire import policy
from ceasefire.models import Group, Organization, Service, User
from ceasefire.services.records import ABSENT, Page, Record, in_json


def iso(value: date | datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"  # years < 1000 too
    return value.isoformat()


_PLAIN = frozenset({str, int, float, bool, type(None)})


def _same(value: Any) -> Any:
    return value


def _enum(value: Enum) -> Any:
    return value.value


def _sequence(value: tuple | list) -> list[Any]:
    return [v if type(v) in _PLAIN else encode(v) for v in value]


def _record(value: Record) -> dict[str, Any]:
    values = vars(value)  # a record is a plain dataclass: its fields are its instance's own attributes
    out = {}
    for name in _json_fields(type(value)):
        v = values[name]
        if v is not ABSENT:
            out[name] = v if type(v) in _PLAIN else encode(v)
    return out


_JSON_FIELDS: dict[type, tuple[str, ...]] = {}


def _json_fields(cls: type) -> tuple[str, ...]:
    """The names of a record class's JSON fields, worked out once per class (a list encodes thousands of values)."""
    names = _JSON_FIELDS.get(cls)
    if names is None:
        names = _JSON_FIELDS[cls] = tuple(f.name for f in fields(cls) if in_json(f))
    return names


def _encoder(cls: type) -> Callable[[Any], Any]:
    if cls in _PLAIN:
        return _same
    if issubclass(cls, Record):
        return _record
    if issubclass(cls, tuple | list):
        return _sequence
    if issubclass(cls, Enum):  # before str: an enum of strings is a str too
        return _enum
    if issubclass(cls, date):  # a datetime is a date too
        return iso
    return _same


_ENCODERS: dict[type, Callable[[Any], Any]] = {}


def encode(value: Any) -> Any:
    """A record of the read side (ceasefire.services.records) as JSON: every field the user may see, none of the
    pages' own; a field the role may not see is left out, not null. How each type is encoded is worked out once
    for the type (a list encodes thousands of values)."""
    encoder = _ENCODERS.get(type(value))
    if encoder is None:
        encoder = _ENCODERS[type(value)] = _encoder(type(value))
    return encoder(value)


def page(listing: Page) -> dict[str, Any]:
    """API.md's list shape."""
    return {"items": encode(listing.items), "total": listing.total, "page": listing.page,
            "per_page": listing.per_page}


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
