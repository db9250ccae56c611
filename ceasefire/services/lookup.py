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
from ceasefire.services.clock import zone
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
    choice: Choice | None = None  # the row, when resolved


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
    latest_first: bool = False  # `order` descending (the list's forum filter: the latest forums first)


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
    # The participant list's forum filter: every forum, the latest first, for the roles that see invitations; found
    # by its title or its place.
    "forum": Kind(
        "forum", Forum.title, lambda: sa.select(Forum.id, Forum.title, Forum.location, Forum.scheduled_at),
        lambda user: policy.can(user, "participant.list") and bool(policy.invitation_fields(user.role)),
        also=Forum.location, order=Forum.scheduled_at, latest_first=True,
    ),
    # The audit trail's user filter: anyone who ever acted, active or not.
    "user": Kind("user", User.name, lambda: sa.select(User.id, User.name, User.email, User.role),
                 lambda user: policy.can(user, "audit.view")),
}


def _choice(kind: str, row: Any) -> Choice:
    id_, name, detail, extra = row
    if kind in ("caseworker", "team_member", "user"):
        role = getattr(extra, "value", extra)
        return Choice(id_, f"{name} ({detail})", name if kind == "caseworker" else f"{name} ({role})")
    if kind == "forum":
        local = extra.astimezone(zone())
        return Choice(id_, f"{name} ({detail})" if detail else name, f"{name} ({local:%Y-%m-%d %H:%M %Z})")
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
    first = [kind.order.desc() if kind.latest_first else kind.order] if kind.order is not None else []
    return query.order_by(*first, sa.func.lower(kind.name), query.selected_columns[0])


def _sorted(k: Kind, rows: Any) -> list[Any]:
    """The order of _ordered, in Python: a list read without ORDER BY, or two lists merged (sorts are stable)."""
    ordered = sorted(rows, key=lambda r: ((r[1] or "").lower(), r[0]))
    if k.order is not None:
        ordered.sort(key=lambda r: r[3], reverse=k.latest_first)
    return ordered


def options(kind: str) -> list[Choice] | None:
    """Every row of a small table, for a select; None when there are more than THRESHOLD (a typed name then). Read
    unordered, so that a large table stops at THRESHOLD + 1 rows whatever its order's index (ordering 4,000 planned
    forums among 40,000 by day read every past one first)."""
    return offer(kind)[0]


def offer(kind: str, wanted: int | None = None, named: str | None = None
          ) -> tuple[list[Choice] | None, Choice | None, list[Choice] | None]:
    """options(kind), the row `wanted` (an id a list's filter was given) when the kind offers it, and the rows
    `named` so exactly (a name typed into a list's filter: what resolve() would read first; None when not read
    here), all read by one statement: a large program's list filtered from a link or by a typed name costs no
    statement more than a small one's."""
    k = KINDS[kind]
    first = k.rows().limit(THRESHOLD + 1)
    parts = [sa.select(sa.literal(0).label("part"), first.subquery())]
    if wanted is not None:
        every = k.rows().subquery()
        parts.append(sa.select(sa.literal(1).label("part"), every).where(every.c[0] == wanted))
    if named is not None:  # as _exact reads them: by the name, and by the second name (a forum's place)
        text = " ".join(named.split())
        for part, condition in ((2, _named(k, text)), (3, _also_named(k, text))):
            if condition is not None:
                query = _ordered(k, k.rows().where(condition)).limit(CANDIDATES + 1)
                parts.append(sa.select(sa.literal(part).label("part"), query.subquery()))
    found_rows = db.session.execute(parts[0] if len(parts) == 1 else sa.union_all(*parts)).all()
    by_part: dict[int, list[Any]] = {0: [], 1: [], 2: [], 3: []}
    for row in found_rows:
        by_part[row[0]].append(row[1:])
    rows, found = by_part[0], by_part[1]
    chosen = _choice(kind, found[0]) if found else None
    exact = None
    if named is not None:
        merged = _sorted(k, {r[0]: r for r in by_part[2] + by_part[3]}.values())
        exact = [_choice(kind, r) for r in merged[: CANDIDATES + 1]]
    return (None if len(rows) > THRESHOLD else [_choice(kind, r) for r in _sorted(k, rows)]), chosen, exact


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
        rows = _sorted(k, {r[0]: r for r in rows}.values())
    return [_choice(kind, r) for r in rows[:limit]]


def _named(k: Kind, text: str) -> sa.ColumnElement[bool]:
    """Named `text` exactly (case aside), or by the "Name (detail)" text."""
    lowered = text.lower()
    named = [sa.func.lower(k.name) == lowered]
    parts = _split(text)
    if parts:
        detail = k.rows().selected_columns[2]
        named.append(sa.and_(sa.func.lower(k.name) == parts[0].lower(), sa.func.lower(detail) == parts[1].lower()))
    return sa.or_(*named)


def _also_named(k: Kind, text: str) -> sa.ColumnElement[bool] | None:
    """Named `text` exactly by the second name (case aside), for a kind that has one."""
    return sa.func.lower(k.also) == text.lower() if k.also is not None else None


def _exact(kind: str, k: Kind, text: str) -> list[Choice]:
    """The rows named `text` exactly (case aside), or by their "Name (detail)" text, or by the second name."""
    return _matching(kind, k, _named(k, text), _also_named(k, text), CANDIDATES + 1)


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


def resolve(kind: str, text: str, pick: int | None = None, picked: Choice | None = None,
            exact: list[Choice] | None = None) -> Resolution:
    """A typed name as a row of `kind`: a pick among the candidates offered before (kept while the text still names
    it; `picked`: that row, read already), else the one row named so (`exact`: those rows, read already by
    offer()); several named so, or none, come back as a message with the rows it may mean."""
    k = KINDS[kind]
    text = " ".join(text.split())
    if picked is None and pick is not None:
        picked = next(iter(choices(kind, [pick])), None)
    if picked is not None and text.lower() in picked.text.lower():
        return Resolution(picked.id, choice=picked)
    if exact is None:
        exact = _exact(kind, k, text)
    if len(exact) == 1:
        return Resolution(exact[0].id, choice=exact[0])
    if exact:
        return Resolution(None, f"More than one {k.noun} is named “{text}”: choose one.", tuple(exact[:CANDIDATES]))
    near = suggest(kind, text)
    if near:
        return Resolution(None, f"No {k.noun} is named “{text}”: choose one of these, or type another name.",
                          tuple(near))
    return Resolution(None, f"No {k.noun} is named “{text}”, and no name starts so: check the spelling.")
