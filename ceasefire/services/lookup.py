"""Choosing a group, a caseworker, an organization or a service by name: the one look-up the forms and the pages'
suggestions share. A program's tables grow with it (at a million participants: 50,000 street groups, 14,000
caseworkers, 4,000 services), so a form offers a select only while a table holds a handful of rows (THRESHOLD);
beyond that the user types a name and `resolve` turns it into a row, or into up to CANDIDATES rows to choose from.

Each kind names the rows a user may choose (the same rows the selects offered) and who may look them up at all
(ceasefire.policy): a role never learns a name it could not have picked from a select. Every query is served by an
index on the lowered name (`ix_*_name_lower`), and reads at most CANDIDATES + 1 rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ceasefire import pipeline, policy
from ceasefire.extensions import db
from ceasefire.models import Forum, Group, Organization, Service, User
from ceasefire.models.enums import ForumStatus, OrgKind, Role
from ceasefire.services.fieldwork import TEAM_ORG_KINDS, TEAM_ROLES

THRESHOLD = 100  # beyond this many rows a form asks for a typed name instead of a select
CANDIDATES = 10  # the rows a look-up offers at most, to pick from or as suggestions


@dataclass(frozen=True)
class Choice:
    """A row as a form offers it: `text` is what a user types or reads to name it (unique enough to resolve),
    `label` what a select shows."""

    id: int
    text: str
    label: str


@dataclass(frozen=True)
class Resolution:
    """What a typed name came to: the row (`id`), or a message and the rows it may have meant."""

    id: int | None
    message: str | None = None
    candidates: tuple[Choice, ...] = ()


@dataclass(frozen=True)
class Kind:
    """One table a form chooses from: its rows in reach (`rows`: id, name, detail, and what a select shows), the
    noun for messages, and who may look it up."""

    noun: str
    name: Any  # an ORM column (a descriptor to mypy): the indexed column typed names are matched against
    rows: Callable[[], sa.Select]
    allowed: Callable[[User], bool]
    also: Any = None  # a second indexed name (a service's provider's)
    order: Any = None  # what comes first in a list of them, when not the name (a forum's day)


def _users(roles: frozenset[Role]) -> sa.Select:
    return sa.select(User.id, User.name, User.email, User.role).where(
        User.active.is_(True), User.role.in_([r.value for r in roles])
    )


def _organizations(kinds: frozenset[OrgKind]) -> sa.Select:
    return sa.select(Organization.id, Organization.name, sa.null(), Organization.kind).where(
        Organization.kind.in_([k.value for k in kinds])
    )


def _sees(field: str, action: str) -> Callable[[User], bool]:
    return lambda user: policy.sees(user.role, field) and policy.can(user, action)


def _sets(field: str) -> Callable[[User], bool]:
    """A participant field is looked up by whoever may set it: create or update participants, and see the field."""
    return lambda user: policy.sees(user.role, field) and (
        policy.can(user, "participant.create") or policy.can(user, "participant.update"))


KINDS: dict[str, Kind] = {
    "group": Kind("group", Group.name, lambda: sa.select(Group.id, Group.name, Group.area, sa.null()),
                  _sees("group_id", "group.list")),
    "caseworker": Kind("caseworker", User.name, lambda: _users(frozenset({Role.CASEWORKER, Role.SUPERVISOR})),
                       _sets("caseworker_id")),
    "community": Kind("community group", Organization.name, lambda: _organizations(frozenset({OrgKind.COMMUNITY})),
                      _sets("community_org_id")),
    "service": Kind(
        "service", Service.name,
        lambda: sa.select(Service.id, Service.name, Organization.name, sa.null())
        .join(Organization, Service.organization_id == Organization.id).where(Service.active.is_(True)),
        lambda user: policy.can(user, "referral.create"), also=Organization.name,
    ),
    # Inviting from a participant's page: a forum still planned, found by its place or its title (a statewide
    # program holds hundreds a week, and a place several).
    "planned_forum": Kind(
        "planned forum", Forum.location,
        lambda: sa.select(Forum.id, Forum.location, Forum.title, Forum.scheduled_at)
        .where(Forum.status == ForumStatus.PLANNED),
        lambda user: policy.can(user, "forum.list") and user.role in pipeline.EVENTS_BY_NAME["invite"].roles,
        also=Forum.title, order=Forum.scheduled_at,
    ),
    # The admin pages: a user's organization (any), a service's provider.
    "organization": Kind("organization", Organization.name, lambda: _organizations(frozenset(OrgKind)),
                         lambda user: policy.can(user, "user.update")),
    "provider": Kind("provider", Organization.name, lambda: _organizations(frozenset({OrgKind.PROVIDER})),
                     lambda user: policy.can(user, "service.update")),
    "team_member": Kind("team member", User.name, lambda: _users(TEAM_ROLES),
                        lambda user: policy.can(user, "custom_notification.create")),
    "team_organization": Kind("organization", Organization.name, lambda: _organizations(TEAM_ORG_KINDS),
                              lambda user: policy.can(user, "custom_notification.create")),
}


def _choice(kind: str, row: sa.Row) -> Choice:
    id_, name, detail, extra = row
    if kind in ("caseworker", "team_member"):
        role = getattr(extra, "value", extra)
        return Choice(id_, f"{name} ({detail})", name if kind == "caseworker" else f"{name} ({role})")
    if kind == "planned_forum":
        return Choice(id_, f"{name} ({detail})" if name else detail, f"{detail} — {name or 'place to be set'}")
    if kind in ("organization", "provider"):
        return Choice(id_, name, f"{name} ({getattr(extra, 'value', extra)})")
    if kind == "service":
        return Choice(id_, f"{name} ({detail})", f"{name} ({detail})")
    return Choice(id_, f"{name} ({detail})" if detail else name, name)


def may_look_up(user: User, kind: str) -> bool:
    return kind in KINDS and KINDS[kind].allowed(user)


def _ordered(kind: Kind, query: sa.Select) -> sa.Select:
    first = [kind.order] if kind.order is not None else []
    return query.order_by(*first, sa.func.lower(kind.name), query.selected_columns[0])


def _key(k: Kind) -> Callable[[sa.Row], tuple]:
    """The order of _ordered, in Python: a list read without ORDER BY, or two lists merged."""
    return lambda r: (r[3] if k.order is not None else 0, (r[1] or "").lower(), r[0])


def options(kind: str) -> list[Choice] | None:
    """Every row of a small table, for a select; None when there are more than THRESHOLD (a typed name then). Read
    unordered, so that a large table stops at THRESHOLD + 1 rows whatever its order's index (ordering 4,000 planned
    forums among 40,000 by day read every past one first)."""
    k = KINDS[kind]
    rows = db.session.execute(k.rows().limit(THRESHOLD + 1)).all()
    return None if len(rows) > THRESHOLD else [_choice(kind, r) for r in sorted(rows, key=_key(k))]


def choices(kind: str, ids: list[int]) -> list[Choice]:
    """The rows with these ids that the kind offers (a value being edited, a pick), in the order asked."""
    if not ids:
        return []
    k = KINDS[kind]
    query = k.rows()
    found = {r[0]: _choice(kind, r) for r in db.session.execute(query.where(query.selected_columns[0].in_(ids)))}
    return [found[i] for i in ids if i in found]


def _prefix(column: sa.orm.QueryableAttribute[str], text: str) -> sa.ColumnElement[bool]:
    """Names starting with `text` (lowered), as a range on the lowered-name index: both databases compare these
    by code point (SQLite's binary collation, PostgreSQL's C.UTF-8)."""
    lowered = sa.func.lower(column)
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return sa.and_(lowered >= text, lowered < text + "\U0010ffff", lowered.like(escaped + "%", escape="\\"))


def _split(text: str) -> tuple[str, str] | None:
    """A typed "Name (detail)", as a look-up's text shows a row: the name and the detail."""
    if text.endswith(")") and " (" in text:
        name, _, detail = text[:-1].rpartition(" (")
        return name.strip(), detail.strip()
    return None


def _matching(kind: str, k: Kind, by_name: sa.ColumnElement[bool], by_also: sa.ColumnElement[bool] | None,
              limit: int) -> list[Choice]:
    """The first `limit` rows that match by name or by the second name: one query for each (each served by its own
    index, where one query with an OR across the two tables would read them all), merged in the same order."""
    rows = list(db.session.execute(_ordered(k, k.rows().where(by_name)).limit(limit)).all())
    if by_also is not None:
        rows += db.session.execute(_ordered(k, k.rows().where(by_also)).limit(limit)).all()
        rows = sorted({r[0]: r for r in rows}.values(), key=_key(k))
    return [_choice(kind, r) for r in rows[:limit]]


def _exact(kind: str, k: Kind, text: str) -> list[Choice]:
    """The rows named `text` exactly (case aside), or by their "Name (detail)" text."""
    lowered = text.lower()
    named = [sa.func.lower(k.name) == lowered]
    parts = _split(text)
    if parts:
        detail = k.rows().selected_columns[2]
        named.append(sa.and_(sa.func.lower(k.name) == parts[0].lower(), sa.func.lower(detail) == parts[1].lower()))
    also = sa.func.lower(k.also) == lowered if k.also is not None else None
    return _matching(kind, k, sa.or_(*named), also, CANDIDATES + 1)


def suggest(kind: str, text: str, limit: int = CANDIDATES) -> list[Choice]:
    """Up to `limit` rows whose name (or, for a service, its provider's name) starts with `text`, by name."""
    k = KINDS[kind]
    lowered = " ".join(text.split()).lower()
    if not lowered:
        return []
    parts = _split(lowered)
    start = parts[0] if parts else lowered
    also = _prefix(k.also, start) if k.also is not None else None
    return _matching(kind, k, _prefix(k.name, start), also, limit)


def resolve(kind: str, text: str, pick: int | None = None) -> Resolution:
    """A typed name as a row of `kind`: a pick among the candidates offered before (kept while the text still names
    it), else the one row named so; several named so, or none, come back as a message with the rows it may mean."""
    k = KINDS[kind]
    text = " ".join(text.split())
    if pick is not None:
        picked = choices(kind, [pick])
        if picked and text.lower() in picked[0].text.lower():
            return Resolution(picked[0].id)
    exact = _exact(kind, k, text)
    if len(exact) == 1:
        return Resolution(exact[0].id)
    if exact:
        return Resolution(None, f"More than one {k.noun} is named “{text}”: choose one.", tuple(exact[:CANDIDATES]))
    near = suggest(kind, text)
    if near:
        return Resolution(None, f"No {k.noun} is named “{text}”: choose one of these, or type another name.",
                          tuple(near))
    return Resolution(None, f"No {k.noun} is named “{text}”, and no name starts so: check the spelling.")
