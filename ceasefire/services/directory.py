"""The admin pages' read side: users, organizations and services as plain records, a page at a time, with the names
an admin reads beside the ids (one query per related table, never one per row). Admins only; no participant here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ceasefire import policy
from ceasefire.extensions import db
from ceasefire.models import Organization, Service, User
from ceasefire.models.directory_counts import directory_counts
from ceasefire.models.enums import OrgKind, Role, ServiceCategory
from ceasefire.services.read import _names, paginate
from ceasefire.services.records import Page


@dataclass(frozen=True)
class UserRow:
    id: int
    name: str
    email: str
    role: Role
    organization_id: int | None
    organization_name: str | None
    active: bool
    must_change_password: bool
    has_second_factor: bool
    created_at: datetime


@dataclass(frozen=True)
class OrganizationRow:
    id: int
    name: str
    kind: OrgKind
    description: str | None
    email: str | None
    phone: str | None
    url: str | None
    users: int
    services: int


@dataclass(frozen=True)
class ServiceRow:
    id: int
    name: str
    category: ServiceCategory
    organization_id: int
    organization_name: str
    description: str | None
    eligibility: str | None
    capacity: int | None
    active: bool


def _user_rows(users: list[User]) -> list[UserRow]:
    orgs = _names(Organization, (u.organization_id for u in users))
    return [
        UserRow(u.id, u.name, u.email, u.role, u.organization_id, orgs.get(u.organization_id or 0), u.active,
                u.must_change_password, u.has_second_factor, u.created_at)
        for u in users
    ]


def _part_of(q: str) -> str:
    """A LIKE pattern for any part of the lowered text, the user's own % and _ taken as themselves."""
    escaped = q.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _matches(column: Any, q: str) -> Any:
    """Any part of the column, whatever its case: on PostgreSQL lower(column), which a trigram index serves
    (models.users.ADMIN_SEARCH_POSTGRESQL). On SQLite, for a `q` of ASCII letters alone, the column as it is: its
    LIKE ignores the case of ASCII letters, and no letter beyond ASCII lowers to one of them (lower() on every row
    tripled the scan: 1.8 -> 0.6 ms over the 3,000 users of a program of 150,000); for any other `q`
    lower(column), as on PostgreSQL."""
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    lowered = postgresql or not q.isascii()
    return (sa.func.lower(column) if lowered else column).like(_part_of(q), escape="\\")


# A search's page walks the name index when at least one user in SPARSE matches; fewer matches are sorted instead
# (the matches of a name cluster in the name order: a sparse walk reads every name before theirs).
SPARSE = 10


def user_page(actor: User, page: int, per_page: int, q: str | None = None, role: Role | None = None,
              active: bool | None = None) -> Page[UserRow]:
    """A page of the users by name. A search counts its matches beside how many users there are (one statement), and
    reads its page walking the name index when the matches are many, or sorting the matches the trigram indexes
    find when they are few."""
    policy.require(actor, "user.list")
    query = sa.select(User)
    searched = (q or "").strip()
    if searched:
        query = query.where(sa.or_(_matches(User.name, searched), _matches(User.email, searched)))
    if role:
        query = query.where(User.role == role)
    if active is not None:
        query = query.where(User.active.is_(active))
    by_name: Any = sa.func.lower(User.name)
    total = None
    if searched:
        matches = sa.select(sa.func.count()).select_from(query.with_only_columns(User.id).subquery())
        total, everyone = db.session.execute(
            sa.select(matches.scalar_subquery(), sa.select(sa.func.max(User.id)).scalar_subquery())).one()
        if total * SPARSE < (everyone or 0):  # the same order, but not the index's: the matches are sorted
            by_name = by_name.concat(sa.literal_column("''"))
    return paginate(query.order_by(by_name, User.id), page, per_page, _user_rows, clamp=True, total=total)


def user_row(actor: User, user: User) -> UserRow:
    policy.require(actor, "user.list")
    return _user_rows([user])[0]


def _organization_rows(orgs: list[Organization]) -> list[OrganizationRow]:
    ids = [o.id for o in orgs]
    users = dict(db.session.execute(
        sa.select(User.organization_id, sa.func.count(User.id)).where(User.organization_id.in_(ids))
        .group_by(User.organization_id)
    ).all()) if ids else {}
    services = dict(db.session.execute(
        sa.select(Service.organization_id, sa.func.count(Service.id)).where(Service.organization_id.in_(ids))
        .group_by(Service.organization_id)
    ).all()) if ids else {}
    return [
        OrganizationRow(o.id, o.name, o.kind, o.description, o.email, o.phone, o.url, users.get(o.id, 0),
                        services.get(o.id, 0))
        for o in orgs
    ]


def organization_page(actor: User, page: int, per_page: int, kind: OrgKind | None = None,
                      q: str | None = None) -> Page[OrganizationRow]:
    policy.require(actor, "organization.update")
    query = sa.select(Organization).order_by(sa.func.lower(Organization.name), Organization.id)
    if kind:
        query = query.where(Organization.kind == kind)
    if q and q.strip():
        query = query.where(_matches(Organization.name, q))
    return paginate(query, page, per_page, _organization_rows, clamp=True)


def _service_rows(services: list[Service]) -> list[ServiceRow]:
    orgs = _names(Organization, (s.organization_id for s in services))
    return [
        ServiceRow(s.id, s.name, s.category, s.organization_id, orgs.get(s.organization_id, ""), s.description,
                   s.eligibility, s.capacity, s.active)
        for s in services
    ]


def service_page(actor: User, page: int, per_page: int, organization_id: int | None = None,
                 q: str | None = None) -> Page[ServiceRow]:
    """The services by provider and name; `q`: part of the service's name or its provider's (each off its index)."""
    policy.require(actor, "service.update")
    query = (
        sa.select(Service).join(Organization, Service.organization_id == Organization.id)
        .order_by(sa.func.lower(Organization.name), sa.func.lower(Service.name), Service.id)
    )
    if organization_id:
        query = query.where(Service.organization_id == organization_id)
    if q and q.strip():
        query = query.where(Service.id.in_(sa.union(
            sa.select(Service.id).where(_matches(Service.name, q)),
            sa.select(Service.id).join(Organization, Service.organization_id == Organization.id)
            .where(_matches(Organization.name, q)),
        )))
    return paginate(query, page, per_page, _service_rows, clamp=True)


def organizations(kinds: frozenset[OrgKind] | None = None) -> list[tuple[int, str, OrgKind]]:
    """Every organization (of the kinds given), by name, for the pickers."""
    query = sa.select(Organization.id, Organization.name, Organization.kind).order_by(
        sa.func.lower(Organization.name), Organization.id
    )
    if kinds is not None:
        query = query.where(Organization.kind.in_([k.value for k in kinds]))
    return [(i, n, k) for i, n, k in db.session.execute(query).all()]


def counts(actor: User) -> dict[str, int]:
    """How many users (active), organizations and services there are, for the admin's home."""
    policy.require(actor, "user.list")
    kept = directory_counts(db.session)  # one statement, kept with every change (models.directory_counts)
    return {"users": kept["users_active"], "inactive": kept["users_inactive"],
            "organizations": kept["organizations"], "services": kept["services_active"]}
