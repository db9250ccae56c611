"""The staff and partners of a program at scale, for seed-demo's bulk copies (ceasefire.demo_bulk).

A statewide program of a million people is not run by the small demo's two caseworkers, six street groups and four
providers: every list filtered by caseworker, group or organization would hold hundreds of thousands. Here the
program grows with its size, in believable proportions (for N participants):

- a caseworker per PER_CASEWORKER participants (about 50 with an open case), and a supervisor per
  CASEWORKERS_PER_SUPERVISOR caseworkers;
- a police officer per PER_OFFICER participants, OFFICERS_PER_DIVISION officers to a police division;
- a community organization per PER_COMMUNITY participants, each with a user of its own;
- a street group per PER_GROUP participants;
- a set of four providers (employment, behavioural health, housing, education, with the demo's eight services and a
  user each) per PER_PROVIDER_SET participants.

The demo's own staff, groups and organizations are the first of each pool (a demo sign-in sees a caseload of the
same size as anyone's). The rows are written in bulk (one password hash for all: the demo's password). A copy's
history names its own staff and partners: `users`, `orgs` and `services` give, for each template's user,
organization and service, the SQL (over the copy's row `b` of bulk_clones) that names the copy's.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from ceasefire import demo
from ceasefire.models import Group, Organization, Service, User
from ceasefire.models.base import utcnow
from ceasefire.models.enums import OrgKind, Role
from ceasefire.services.accounts import hash_password

PER_CASEWORKER = 75
CASEWORKERS_PER_SUPERVISOR = 12
PER_OFFICER = 500
OFFICERS_PER_DIVISION = 50
PER_COMMUNITY = 500
PER_GROUP = 20
PER_PROVIDER_SET = 2000

STAFF_FIRST = ("Dana", "Sam", "Maria", "James", "Aisha", "Kim", "Robert", "Latoya", "Hector", "Grace", "Tanya",
               "Victor", "Ana", "Derrick", "Monique", "Paul", "Yolanda", "Chris", "Nadia", "Ruben", "Erin", "Marcus",
               "Lucia", "Dwayne", "Priya", "Omar", "Keisha", "Tom", "Rosa", "Andre")
AREAS = ("Florence-Firestone", "Manchester Square", "Vermont Knolls", "Vermont Square", "Central-Alameda", "Watts",
         "Westmont", "Hyde Park", "Leimert Park", "Baldwin Hills", "Exposition Park", "Harvard Park", "Chesterfield",
         "Green Meadows", "Broadway-Manchester", "Gramercy Park", "Jefferson Park", "West Adams", "Crenshaw",
         "Willowbrook", "Athens", "Compton", "Lynwood", "Inglewood", "Hawthorne", "Paramount", "Carson",
         "Boyle Heights", "El Sereno", "Lincoln Heights", "Pacoima", "Van Nuys", "Panorama City", "Wilmington",
         "San Pedro", "Long Beach", "Pomona", "Lancaster", "Palmdale", "Bellflower")
BASES = ("Florence", "Manchester", "Slauson", "Vermont", "Hoover", "Central", "Crenshaw", "Figueroa", "Normandie",
         "Western", "Harvard", "Budlong", "Denker", "Avalon", "Compton", "Watts", "Broadway", "San Pedro", "Hooper",
         "Grape Street", "Jefferson", "Adams", "Vernon", "Gage", "Imperial", "Century", "Athens", "Van Ness", "Raymond",
         "Halldale", "Dalton", "Wadsworth", "Towne", "Stanford", "Main Street", "Kansas", "Menlo", "Hobart",
         "Denver Lane", "Rosecrans")
SUFFIXES = ("Crew", "Boys", "Set", "Bloods", "Locs", "Young Gunz", "Knockaz", "Mob", "Gang", "Clique", "Posse",
            "Hustlers", "Family", "Block Boys", "Mafia", "Squad", "Gangsters", "Riders", "Youngsters", "Dukes")
PREFIXES = ("", "East ", "West ", "North ", "South ", "Lil ", "Young ", "Baby ")
PROVIDER_NOUNS = {  # by the demo's provider users, in order: employment, behavioural health, housing, education
    "provider": ("Employment Partners", "Workforce Center", "Jobs Program"),
    "provider2": ("Behavioral Health", "Counseling Center", "Wellness Clinic"),
    "provider3": ("Housing Services", "Shelter Network", "Housing Coalition"),
    "provider4": ("Learning Center", "GED Academy", "Adult School"),
}
COMMUNITY_NOUNS = ("Peacekeepers", "Mothers for Peace", "Clergy Council", "Violence Interrupters", "Block Club",
                   "Youth Outreach", "Neighbors United", "Street Outreach")
USER_CODES = {"caseworker": "b.caseworker_id", "caseworker2": "b.caseworker_id", "police": "b.police_id",
              "supervisor": "b.supervisor_id", "community": "b.community_user_id"}


@dataclass
class Staff:
    """Pools a copy draws its own people from, and the SQL mapping a template's user, organization or service."""

    caseworkers: list[int] = field(default_factory=list)
    supervisors: list[int] = field(default_factory=list)
    officers: list[tuple[int, int]] = field(default_factory=list)  # (user, police division)
    community: list[tuple[int, int]] = field(default_factory=list)  # (organization, its user)
    groups: list[int] = field(default_factory=list)
    provider_sets: int = 1
    users: dict[int, str] = field(default_factory=dict)
    orgs: dict[int, str] = field(default_factory=dict)
    services: dict[int, str] = field(default_factory=dict)


class _Ids:
    """The next free ids of a table, handed out in order."""

    def __init__(self, conn: sa.Connection, table: sa.Table):
        self.next = (conn.scalar(sa.select(sa.func.max(table.c.id))) or 0) + 1

    def take(self) -> int:
        self.next += 1
        return self.next - 1


def build(conn: sa.Connection, count: int, rng: random.Random) -> Staff:
    """Add the staff, partners and groups a program of `count` participants has, and say how copies use them."""
    demo_users: dict[str, tuple[int, Any]] = {email.split("@")[0]: (i, org) for i, email, org in conn.execute(
        sa.select(User.id, User.email, User.organization_id).where(User.email.like("%@demo.ceasefire.test")))}
    orgs = {name: (i, kind) for i, name, kind in conn.execute(
        sa.select(Organization.id, Organization.name, Organization.kind).order_by(Organization.id))}
    now = utcnow()
    builder = _Builder(conn, rng, now, hash_password(demo.PASSWORD))
    staff = Staff()

    staff.caseworkers = [demo_users[k][0] for k in ("caseworker", "caseworker2")]
    staff.caseworkers += builder.users(Role.CASEWORKER, count // PER_CASEWORKER - 2)
    staff.supervisors = [demo_users["supervisor"][0]]
    staff.supervisors += builder.users(Role.SUPERVISOR, len(staff.caseworkers) // CASEWORKERS_PER_SUPERVISOR - 1)

    police_user, police_org = demo_users["police"]
    officers = max(1, count // PER_OFFICER)
    divisions = [police_org, *builder.orgs(
        OrgKind.POLICE, [f"{area} Police Division" for area in AREAS], officers // OFFICERS_PER_DIVISION - 1)]
    staff.officers = [(police_user, police_org)]
    for n in range(1, officers):
        division = divisions[n % len(divisions)]
        staff.officers.append((builder.users(Role.POLICE, 1, division, "Ofc. ")[0], division))

    community_user, community_org = demo_users["community"]
    demo_community = [i for i, kind in orgs.values() if kind == OrgKind.COMMUNITY]
    partners = demo_community + builder.orgs(
        OrgKind.COMMUNITY, [f"{area} {noun}" for noun in COMMUNITY_NOUNS for area in AREAS],
        count // PER_COMMUNITY - len(demo_community))
    for org in partners:
        user = community_user if org == community_org else builder.users(Role.COMMUNITY, 1, org)[0]
        staff.community.append((org, user))

    staff.groups = list(conn.execute(sa.select(Group.id).order_by(Group.id)).scalars())
    staff.groups += builder.groups(count // PER_GROUP - len(staff.groups))

    staff.provider_sets = max(1, count // PER_PROVIDER_SET)
    _providers(conn, builder, staff, demo_users)
    staff.users.update({demo_users[k][0]: code for k, code in USER_CODES.items()})
    staff.orgs[police_org] = "b.police_org_id"
    staff.orgs.update(dict.fromkeys(demo_community, "b.partner_org_id"))
    builder.flush()
    return staff


def _providers(conn: sa.Connection, builder: _Builder, staff: Staff, demo_users: dict[str, tuple[int, Any]]) -> None:
    """Sets of providers like the demo's four: set 0 is the demo's, each further set has organizations, services and
    a user of its own, laid out so that set s's copy of the k-th of P template rows is base + (s - 1) * P + k."""
    templates = [demo_users[key] for key in PROVIDER_NOUNS]
    services = list(conn.execute(sa.select(_t(Service)).where(
        Service.organization_id.in_([org for _user, org in templates])).order_by(Service.id)))
    order = [org for _user, org in templates]
    services.sort(key=lambda service: order.index(service.organization_id))  # stable: by id within each
    sets = staff.provider_sets - 1
    org_base, user_base, service_base = builder.org_ids.next, builder.user_ids.next, builder.service_ids.next
    names = _names(builder.rng, [f"{area} {noun}" for nouns in PROVIDER_NOUNS.values() for noun in nouns
                                 for area in AREAS], sets * len(templates))
    for s in range(sets):
        new_orgs = [builder.orgs(OrgKind.PROVIDER, [names[s * len(templates) + k]], 1)[0]
                    for k in range(len(templates))]
        for (_user, org), new_org in zip(templates, new_orgs, strict=True):
            builder.users(Role.PROVIDER, 1, new_org)
            for service in services:
                if service.organization_id == org:
                    builder.service(service, new_org)
    per_set_orgs, per_set_users = len(templates), len(templates)
    for k, (user, org) in enumerate(templates):
        staff.orgs[org] = _in_set(org, org_base + k, per_set_orgs)
        staff.users[user] = _in_set(user, user_base + k, per_set_users)
    for k, service in enumerate(services):
        staff.services[service.id] = _in_set(service.id, service_base + k, len(services))


def _in_set(template: int, first: int, stride: int) -> str:
    return f"CASE WHEN b.provider_set = 0 THEN {template} ELSE {first} + (b.provider_set - 1) * {stride} END"


class _Builder:
    """Rows of users, organizations, services and groups with ids handed out in order, written in bulk at flush."""

    def __init__(self, conn: sa.Connection, rng: random.Random, now: Any, password_hash: str):
        self.conn, self.rng, self.now, self.password_hash = conn, rng, now, password_hash
        self.user_ids, self.org_ids = _Ids(conn, _t(User)), _Ids(conn, _t(Organization))
        self.service_ids, self.group_ids = _Ids(conn, _t(Service)), _Ids(conn, _t(Group))
        self.rows: dict[Any, list[dict[str, Any]]] = {Organization: [], User: [], Service: [], Group: []}
        self.used_names: set[str] = set()

    def users(self, role: Role, n: int, org: int | None = None, title: str = "") -> list[int]:
        ids = []
        for _ in range(max(0, n)):
            i = self.user_ids.take()
            self.rows[User].append({
                "id": i, "email": f"{role.value}{i}@demo.ceasefire.test", "role": role, "organization_id": org,
                "name": f"{title}{self.rng.choice(STAFF_FIRST)} {self.rng.choice(demo.LAST)}",
                "password_hash": self.password_hash, "created_at": self.now,
            })
            ids.append(i)
        return ids

    def orgs(self, kind: OrgKind, names: list[str], n: int) -> list[int]:
        ids = []
        for name in _names(self.rng, names, max(0, n)):
            i = self.org_ids.take()
            self.rows[Organization].append({"id": i, "name": name, "kind": kind, "created_at": self.now})
            ids.append(i)
        return ids

    def service(self, template: Any, org: int) -> None:
        self.rows[Service].append({**template._asdict(), "id": self.service_ids.take(), "organization_id": org,
                                   "created_at": self.now})

    def groups(self, n: int) -> list[int]:
        taken = set(self.conn.execute(sa.select(Group.name)).scalars())
        combos = (f"{prefix}{base} {suffix}" for prefix, base, suffix in itertools.product(
            PREFIXES + tuple(f"{n}s " for n in range(10, 100)), BASES, SUFFIXES))
        names = [name for name in itertools.islice(combos, n + len(taken) + 1) if name not in taken][:max(0, n)]
        self.rng.shuffle(names)
        ids = []
        for name in names:
            i = self.group_ids.take()
            words = name.replace("Street", "").split()
            self.rows[Group].append({"id": i, "name": name, "aliases": "".join(w[0] for w in words).upper(),
                                     "area": self.rng.choice(AREAS), "created_at": self.now})
            ids.append(i)
        return ids

    def flush(self) -> None:
        for model in (Organization, User, Service, Group):
            if self.rows[model]:
                self.conn.execute(sa.insert(_t(model)), self.rows[model])


def _names(rng: random.Random, names: list[str], n: int) -> list[str]:
    """n names from the list in a shuffled order, numbered as branches (#2, #3...) once the list runs out."""
    shuffled = list(names)
    rng.shuffle(shuffled)
    return [shuffled[k % len(shuffled)] + (f" #{k // len(shuffled) + 1}" if k >= len(shuffled) else "")
            for k in range(n)]


def _t(model: Any) -> sa.Table:
    return model.__table__
