"""The access policy (DESIGN.md §4) as a matrix generated from ceasefire.policy's tables: which participant fields
each role sees, which API routes each role may use (every /api/v1 route in the app's url_map, so a new route
fails here until it has a recipe), and the scope rules (own referrals with a consent in force and the 90-day
window for providers, the assigned participants for community groups, nothing for admins)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from helpers import Program

from ceasefire import create_app, pipeline, policy
from ceasefire.extensions import db
from ceasefire.models import (
    Group,
    IdentificationCriterion,
    Invitation,
    Organization,
    Participant,
    Referral,
    Service,
    User,
)
from ceasefire.models.base import today, utcnow
from ceasefire.models.enums import OrgKind, ReferralStatus, Role, State
from ceasefire.services import referrals as referral_service
from ceasefire.services import retention

# Pseudo-fields of the policy that are not keys of the participant record but endpoints of their own.
ENDPOINT_FIELDS = {"history": "/participants/{id}/history"}
# Fields of the table that no service can fill yet (DESIGN.md's OutreachContact is not built): always empty.
NOTHING_RECORDS_YET = {"outreach_contacts"}

SEEING_ROLES = [role for role in Role if policy.SCOPES[role] is not None]
NON_SEEING_ROLES = [role for role in Role if policy.SCOPES[role] is None]


def granted(role: Role, group: str) -> set[str]:
    """The fields of `group` the table gives `role`, read straight from ACCESS (not through policy's helpers)."""
    access = policy.ACCESS[group].get(role)
    if access == policy.FULL:
        return set(policy.FIELD_GROUPS[group])
    return set(access or ())


def record_fields(role: Role) -> set[str]:
    fields = {"id", "version"}
    for group in policy.FIELD_GROUPS:
        fields |= granted(role, group)
    return fields - set(ENDPOINT_FIELDS)


def test_the_tables_are_consistent():
    assert set(policy.ACCESS) == set(policy.FIELD_GROUPS)
    assert set(policy.SCOPES) == set(Role)
    for group, by_role in policy.ACCESS.items():
        assert set(by_role) <= set(Role) - set(NON_SEEING_ROLES), f"{group}: a role that sees no participant"
        for role, access in by_role.items():
            assert access == policy.FULL or set(access) < set(policy.FIELD_GROUPS[group]), (group, role)
    every = [f for fields in policy.FIELD_GROUPS.values() for f in fields]
    assert len(every) == len(set(every)), "a field in two groups"
    for action, roles in policy.ACTIONS.items():
        assert roles <= set(Role), action


def test_the_table_is_the_design():
    """DESIGN.md §4, written out once, against the module (only the rows the record carries)."""
    design = {
        Role.CASEWORKER: {"identity", "contact", "pipeline", "supervision", "group_id", "group_name",
                          "enforcement_dates", "services", "outreach", "review_due_on"},
        Role.POLICE: {"identity", "contact", "pipeline", "supervision", "intelligence", "enforcement",
                      "services_offered", "due_process"},
        Role.PROVIDER: {"identity", "phone", "services"},
        Role.COMMUNITY: {"identity", "state", "outreach"},
        Role.SUPERVISOR: set(policy.FIELD_GROUPS),
    }
    for role, items in design.items():
        expected: set[str] = set()
        for item in items:
            expected |= set(policy.FIELD_GROUPS.get(item, (item,)))
        assert expected | {"id", "version"} == policy.visible_fields(role), role
    assert policy.visible_fields(Role.ADMIN) == {"id", "version"}
    assert policy.SCOPES[Role.ADMIN] is None


# A world in which one participant is in every role's scope, with something in every field group.


@dataclass
class World:
    users: dict[str, User]
    program: Program
    participant: Participant
    own_referral: Referral
    other_referral: Referral
    group: Group
    provider_org: Organization
    other_provider_org: Organization
    outsider: Participant
    outsider_referral: Referral
    reference: dict[str, Any] = field(default_factory=dict)


@pytest.fixture
def world(users, api_as) -> World:
    sup = users["supervisor"]
    program = Program.build(sup, users["provider"].organization)
    with program.batch():
        w = _populate(users, program)
    status, w.reference = api_as(sup).get(f"/participants/{w.participant.id}")
    assert status == 200
    return w


def _populate(users: dict[str, User], program: Program) -> World:
    provider_org = users["provider"].organization
    other_provider_org = Organization(name="Westside Behavioral Health", kind=OrgKind.PROVIDER)
    group = Group(name="Four Corner Hustlers", aliases="4CH", area="West Humboldt")
    db.session.add_all([other_provider_org, group])
    db.session.flush()
    other_service = Service(organization_id=other_provider_org.id, name="Counselling", category="mental_health")
    criterion = IdentificationCriterion(name="Involved in a shooting in the last 12 months")
    db.session.add_all([other_service, criterion])
    db.session.flush()
    participant = program.create(
        users["police"], criteria=[criterion.id],
        aliases="Smoke", date_of_birth=today().replace(year=today().year - 20, month=3, day=1),
        phone="(312) 555-0101", address="100 Oak St", group_id=group.id, supervision_status="probation",
        supervising_agency="County Adult Probation", identification_basis="Named in a shooting review.",
        caseworker_id=users["caseworker"].id, community_org_id=users["community"].organization_id,
    )
    own_referral = program.refer(participant)
    other_referral = program.refer(participant, other_service)
    program.fire(participant, "enforce", **_enforce(program))
    # Someone in nobody's narrow scope: referred only to the other provider, assigned to no community group.
    outsider = program.create(first_name="Andre", last_name="Walker")
    outsider_referral = program.refer(outsider, other_service)
    return World(users, program, participant, own_referral, other_referral, group, provider_org,
                 other_provider_org, outsider, outsider_referral)


def _enforce(program: Program) -> dict[str, Any]:
    data = program.event_data("enforce")
    data["occurred_on"] = today()
    return data


# Fields: per role and group, the record and the list show exactly what the table grants.

FIELD_CASES = [
    pytest.param(role, group, id=f"{role}-{group}") for role in SEEING_ROLES for group in policy.FIELD_GROUPS
]


@pytest.mark.parametrize(("role", "group"), FIELD_CASES)
def test_field_group_visibility(world, api_as, role, group):
    api = api_as(world.users[role])
    pid = world.participant.id
    status, record = api.get(f"/participants/{pid}")
    assert status == 200, record
    status, listing = api.get("/participants")
    assert status == 200, listing
    [listed] = [item for item in listing["items"] if item["id"] == pid]
    allowed = granted(role, group)
    for name in policy.FIELD_GROUPS[group]:
        if name in ENDPOINT_FIELDS:
            status, body = api.get(ENDPOINT_FIELDS[name].format(id=pid))
            assert status == (200 if name in allowed else 403), (name, body)
            continue
        for shown in (record, listed):
            assert (name in shown) is (name in allowed), f"{role} and {name}"
            if name in allowed and name != "referrals":
                assert shown[name] == world.reference[name], name
                if name not in NOTHING_RECORDS_YET:
                    assert shown[name] not in (None, [], ""), f"{name} should carry data in this world"


@pytest.mark.parametrize("role", SEEING_ROLES)
def test_record_has_exactly_the_granted_fields(world, api_as, role):
    api = api_as(world.users[role])
    status, record = api.get(f"/participants/{world.participant.id}")
    assert status == 200
    assert set(record) == record_fields(role)
    status, listing = api.get("/participants")
    assert {frozenset(item) for item in listing["items"]} == {frozenset(record_fields(role))}


@pytest.mark.parametrize("role", NON_SEEING_ROLES)
def test_admin_sees_no_participant(world, api_as, role):
    api = api_as(world.users[role])
    for path in (f"/participants/{world.participant.id}", "/participants",
                 f"/participants/{world.participant.id}/history"):
        status, body = api.get(path)
        assert (status, body["error"]["code"]) == (403, "forbidden"), path


def test_provider_sees_only_referrals_to_their_organization(world, api_as):
    api = api_as(world.users["provider"])
    status, record = api.get(f"/participants/{world.participant.id}")
    assert status == 200
    assert [r["id"] for r in record["referrals"]] == [world.own_referral.id]
    assert {r["organization_id"] for r in world.reference["referrals"]} == {
        world.provider_org.id, world.other_provider_org.id
    }
    status, listing = api.get("/referrals")
    assert [r["id"] for r in listing["items"]] == [world.own_referral.id]


# Routes: every /api/v1 route x every role, the status the policy gives.


def _api_routes() -> list[tuple[str, str]]:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "route-listing-only"})
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                routes.add((method, rule.rule.removeprefix("/api/v1")))
    return sorted(routes)


ROUTES = _api_routes()


def _by_action(action: str) -> Callable[[Role], bool]:
    return lambda role: role in policy.ACTIONS[action]


def _event_for(role: Role, state: State) -> pipeline.Event | None:
    return next((e for e in pipeline.EVENTS if role in e.roles and state in e.sources), None)


def _event_body(w: World, p: Participant, r: Referral, role: Role) -> dict[str, Any]:
    ev = _event_for(role, State(p.state)) or pipeline.EVENTS_BY_NAME["close"]
    return {"event": ev.name, "version": p.version} | w.program.event_data(ev.name)


def _status_for(role: Role) -> ReferralStatus:
    legal = referral_service.NEXT_STATUSES[ReferralStatus.SENT]
    return next((s for s in sorted(legal) if role in referral_service.STATUS_ROLES[s]), ReferralStatus.ACCEPTED)


@dataclass(frozen=True)
class Recipe:
    path: Callable[[World, Participant, Referral], str]
    allowed: Callable[[Role], bool]
    body: Callable[[World, Participant, Referral, Role], dict[str, Any]] | None = None
    success: int = 200


def _p(suffix: str = "") -> Callable[[World, Participant, Referral], str]:
    return lambda w, p, r: f"/participants/{p.id}{suffix}"


def _fixed(path: str) -> Callable[[World, Participant, Referral], str]:
    return lambda w, p, r: path


# The world's participant is enforced: the event route asks for an event the role may fire from there.
RECIPES: dict[tuple[str, str], Recipe] = {
    ("GET", "/openapi.json"): Recipe(_fixed("/openapi.json"), lambda role: True),
    ("GET", "/participants"): Recipe(_fixed("/participants"), _by_action("participant.list")),
    ("POST", "/participants"): Recipe(
        _fixed("/participants"), _by_action("participant.create"),
        lambda w, p, r, role: {"first_name": "Ann", "last_name": "Lee"}
        | ({"identification_basis": "Seen with the group.", "criteria": [retention.active_criteria()[0].id]}
           if role == Role.POLICE else {}),
        201,
    ),
    ("GET", "/participants/<int:participant_id>"): Recipe(_p(), _by_action("participant.view")),
    ("PATCH", "/participants/<int:participant_id>"): Recipe(
        _p(), _by_action("participant.update"), lambda w, p, r, role: {"version": p.version, "phone": "555-0199"}
        if policy.sees(role, "phone") else {"version": p.version}
    ),
    ("POST", "/participants/<int:participant_id>/events"): Recipe(
        _p("/events"), lambda role: _event_for(role, State.ENFORCED) is not None, _event_body
    ),
    ("GET", "/participants/<int:participant_id>/history"): Recipe(_p("/history"), _by_action("participant.history")),
    ("GET", "/forums"): Recipe(_fixed("/forums"), _by_action("forum.list")),
    ("POST", "/forums"): Recipe(
        _fixed("/forums"), _by_action("forum.create"),
        lambda w, p, r, role: {"title": "Call-in, December", "scheduled_at": "2030-12-01T18:00:00Z"}, 201,
    ),
    ("GET", "/forums/<int:forum_id>"): Recipe(lambda w, p, r: f"/forums/{w.program.forum().id}",
                                              _by_action("forum.list")),
    ("GET", "/referrals"): Recipe(_fixed("/referrals"), _by_action("referral.list")),
    ("POST", "/referrals"): Recipe(
        _fixed("/referrals"), _by_action("referral.create"),
        lambda w, p, r, role: {"participant_id": p.id, "service_id": w.program.service.id}, 201,
    ),
    ("POST", "/referrals/<int:referral_id>/status"): Recipe(
        lambda w, p, r: f"/referrals/{r.id}/status", _by_action("referral.status"),
        lambda w, p, r, role: {"status": _status_for(role)}
        | ({"reason": "Full."} if _status_for(role) == ReferralStatus.DECLINED else {}),
    ),
    ("POST", "/users"): Recipe(
        _fixed("/users"), _by_action("user.create"),
        lambda w, p, r, role: {"email": "new.caseworker@example.org", "name": "New Caseworker",
                               "role": "caseworker", "password": "a long enough password"},
        201,
    ),
    ("GET", "/organizations"): Recipe(_fixed("/organizations"), _by_action("organization.list")),
    ("POST", "/organizations"): Recipe(
        _fixed("/organizations"), _by_action("organization.create"),
        lambda w, p, r, role: {"name": "Faith Leaders for Peace", "kind": "community"}, 201,
    ),
    ("GET", "/services"): Recipe(_fixed("/services"), _by_action("service.list")),
    ("POST", "/services"): Recipe(
        _fixed("/services"), _by_action("service.create"),
        lambda w, p, r, role: {"organization_id": w.provider_org.id, "name": "GED classes",
                               "category": "education"},
        201,
    ),
    ("GET", "/groups"): Recipe(_fixed("/groups"), _by_action("group.list")),
    ("POST", "/groups"): Recipe(
        _fixed("/groups"), _by_action("group.create"),
        lambda w, p, r, role: {"name": "Young Money Gang", "area": "Englewood"}, 201,
    ),
    ("GET", "/participants/<int:participant_id>/outcomes"): Recipe(_p("/outcomes"), _by_action("outcome.view")),
    ("POST", "/participants/<int:participant_id>/outcomes"): Recipe(
        _p("/outcomes"), _by_action("outcome.create"),
        lambda w, p, r, role: {"type": "arrested", "occurred_on": today().isoformat()}, 201,
    ),
    ("GET", "/participants/<int:participant_id>/custom-notifications"): Recipe(
        _p("/custom-notifications"), _by_action("custom_notification.view")
    ),
    ("POST", "/participants/<int:participant_id>/custom-notifications"): Recipe(
        _p("/custom-notifications"), _by_action("custom_notification.create"),
        lambda w, p, r, role: {"delivered_at": "2026-01-05T19:30:00Z", "place": "100 Oak St",
                               "message": "The violence must stop; help is on offer.",
                               "team_organization_ids": [w.program.police_org.id]},
        201,
    ),
    ("PATCH", "/forums/<int:forum_id>"): Recipe(
        lambda w, p, r: f"/forums/{w.program.forum().id}", _by_action("forum.update"),
        lambda w, p, r, role: {"location": "Union Hall"},
    ),
    ("GET", "/reports/pipeline"): Recipe(_fixed("/reports/pipeline"), _by_action("report.pipeline")),
    ("GET", "/reports/cohorts"): Recipe(_fixed("/reports/cohorts"), _by_action("report.cohorts")),
    ("GET", "/reports/referrals"): Recipe(_fixed("/reports/referrals"), _by_action("report.referrals")),
    ("GET", "/reports/identification"): Recipe(
        _fixed("/reports/identification"), _by_action("report.identification")
    ),
    ("GET", "/audit"): Recipe(_fixed("/audit"), _by_action("audit.view")),
    ("GET", "/reviews"): Recipe(_fixed("/reviews"), _by_action("review.list")),
    ("POST", "/participants/<int:participant_id>/review"): Recipe(
        _p("/review"), _by_action("review.decide"),
        lambda w, p, r, role: {"decision": "retain", "reason": "Shot at again in March; still at very high risk."},
    ),
    ("POST", "/participants/<int:participant_id>/removal-requests"): Recipe(
        _p("/removal-requests"), _by_action("removal_request.create"),
        lambda w, p, r, role: {"received_on": today().isoformat(), "requested_by": "self",
                               "grounds": "Has not been involved with any group for two years."},
        201,
    ),
    ("GET", "/removal-requests"): Recipe(_fixed("/removal-requests"), _by_action("removal_request.list")),
    ("POST", "/removal-requests/<int:removal_request_id>/decision"): Recipe(
        lambda w, p, r: f"/removal-requests/{_removal_request(w, p).id}/decision", _by_action("removal_request.decide"),
        lambda w, p, r, role: {"decision": "denied", "reason": "Two sources place him with the group in October."},
    ),
}


def _removal_request(w: World, p: Participant):
    request = retention.file_removal_request(w.program.supervisor, p, today(), "attorney", "Written by his lawyer.")
    db.session.commit()
    return request

ROUTE_CASES = [
    pytest.param(method, rule, role, id=f"{method} {rule} as {role}") for method, rule in ROUTES for role in Role
]


def test_every_api_route_has_a_recipe():
    assert ("GET", "/participants") in ROUTES
    missing = [route for route in ROUTES if route not in RECIPES]
    assert missing == [], "give each new /api/v1 route a recipe (and a policy entry)"


def _call(api, method: str, path: str, body: dict | None):
    if method == "GET":
        return api.get(path)
    return api.request(method, path, json=body if body is not None else {})


@pytest.mark.parametrize(("method", "rule", "role"), ROUTE_CASES)
def test_route_status_by_role(world, api_as, method, rule, role):
    recipe = RECIPES[(method, rule)]
    p, r = world.participant, world.own_referral
    body = recipe.body(world, p, r, role) if recipe.body else None
    status, answer = _call(api_as(world.users[role]), method, recipe.path(world, p, r), body)
    if recipe.allowed(role):
        assert status == recipe.success, answer
    else:
        assert status == 403, answer
        assert answer["error"]["code"] == "forbidden"


# API.md: a role that may never see a kind of record gets 403 whatever the id (outcomes: providers, community
# users and admins), so the answer does not tell which ids exist.
FORBIDDEN_WHATEVER_THE_ID = {
    "/participants/<int:participant_id>/outcomes": {Role.PROVIDER, Role.COMMUNITY, Role.ADMIN},
    "/participants/<int:participant_id>/custom-notifications": {Role.PROVIDER, Role.ADMIN},
    # Due process: every role but supervisor for reviews and removal-request decisions; removal requests are
    # filed by caseworkers and supervisors alone, and no other role ever sees one.
    "/participants/<int:participant_id>/review": set(Role) - {Role.SUPERVISOR},
    "/removal-requests/<int:removal_request_id>/decision": set(Role) - {Role.SUPERVISOR},
    "/participants/<int:participant_id>/removal-requests": {Role.POLICE, Role.PROVIDER, Role.COMMUNITY, Role.ADMIN},
}


# API.md: roles that never see a kind of record get 403 whatever the id, named by the route's id.
NEVER_SEES_BY_ID = {"participant_id": {Role.ADMIN}, "referral_id": {Role.POLICE, Role.COMMUNITY, Role.ADMIN},
                    "forum_id": {Role.ADMIN},
                    "removal_request_id": {Role.POLICE, Role.PROVIDER, Role.COMMUNITY, Role.ADMIN}}


def _forbidden_whatever_the_id(rule: str, role: Role) -> bool:
    if rule in FORBIDDEN_WHATEVER_THE_ID:
        return role in FORBIDDEN_WHATEVER_THE_ID[rule]
    arg = rule.split("<int:", 1)[1].split(">", 1)[0]
    return role in NEVER_SEES_BY_ID[arg]


SCOPED_ROUTES = [route for route in ROUTES if "<int:participant_id>" in route[1] or "<int:referral_id>" in route[1]]
ID_ROUTES = [route for route in ROUTES if "<int:" in route[1]]


@pytest.mark.parametrize(
    ("method", "rule", "role"),
    [pytest.param(m, r, role, id=f"{m} {r} as {role}") for m, r in SCOPED_ROUTES for role in Role],
)
def test_route_out_of_scope(world, api_as, method, rule, role):
    """The outsider: referred only to another provider, assigned to no community group. Provider and community
    users are told it does not exist; the others get what they get for any participant."""
    recipe = RECIPES[(method, rule)]
    p, r = world.outsider, world.outsider_referral
    body = recipe.body(world, p, r, role) if recipe.body else None
    status, answer = _call(api_as(world.users[role]), method, recipe.path(world, p, r), body)
    hidden = (
        "<int:participant_id>" in rule and policy.SCOPES[role] not in ("all", None)
    ) or ("<int:referral_id>" in rule and role == Role.PROVIDER)
    if _forbidden_whatever_the_id(rule, role):
        assert (status, answer["error"]["code"]) == (403, "forbidden"), answer
    elif hidden:
        assert (status, answer["error"]["code"]) == (404, "not_found"), answer
    else:
        # The outsider is identified (not enforced): the event route's expectation follows its state.
        allowed = (_event_for(role, State.IDENTIFIED) is not None) if rule.endswith("/events") else recipe.allowed(role)
        assert status == (recipe.success if allowed else 403), answer


@pytest.mark.parametrize(
    ("method", "rule", "role"),
    [pytest.param(m, r, role, id=f"{m} {r} as {role}") for m, r in ID_ROUTES for role in Role],
)
def test_route_missing_record(world, api_as, method, rule, role):
    """No such record: 404 for everyone, admins included (404 is checked before 403), but for a role that never
    sees that kind of record (403 whatever the id)."""
    recipe = RECIPES[(method, rule)]
    path = rule.split("<", 1)[0] + "999999" + rule.split(">", 1)[1]
    body = {"event": "close", "version": 1, "reason": "moved"} if rule.endswith("/events") else (
        {"version": 1} if method == "PATCH" else {"status": "withdrawn"} if method == "POST" else None
    )
    assert recipe is not None
    status, answer = _call(api_as(world.users[role]), method, path, body)
    if _forbidden_whatever_the_id(rule, role):
        assert (status, answer["error"]["code"]) == (403, "forbidden"), answer
        return
    assert (status, answer["error"]["code"]) == (404, "not_found"), answer


# Scope: users outside a participant's scope get nothing.


def test_another_provider_another_community_group_and_admin_get_nothing(world, make_user, make_org, api_as):
    others = {
        "provider": make_user(Role.PROVIDER, make_org(OrgKind.PROVIDER)),
        "community": make_user(Role.COMMUNITY, make_org(OrgKind.COMMUNITY)),
        "admin": world.users["admin"],
    }
    pid = world.participant.id
    for role, user in others.items():
        api = api_as(user)
        record_status, listing_status = (403, 403) if role == "admin" else (404, 200)
        for path in (f"/participants/{pid}", f"/participants/{pid}/history"):
            status, body = api.get(path)
            assert status == record_status, (role, path, body)
        status, listing = api.get("/participants")
        assert status == listing_status, (role, listing)
        if status == 200:
            assert (listing["items"], listing["total"]) == ([], 0), role
        status, forum = api.get(f"/forums/{world.program.forum().id}")
        if status == 200:
            assert forum["invitations"] == []
    status, listing = api_as(others["provider"]).get("/referrals")
    assert (status, listing["items"]) == (200, [])


def test_community_user_sees_assigned_participants_only(world, api_as, make_org):
    api = api_as(world.users["community"])
    status, listing = api.get("/participants")
    assert [item["id"] for item in listing["items"]] == [world.participant.id]
    status, _ = api.get(f"/participants/{world.outsider.id}")
    assert status == 404


def _set_closed_at(referral: Referral, status: ReferralStatus, days_ago: float, actor: User) -> None:
    referral_service.set_status(actor, referral, status, "No places left." if status == "declined" else None)
    db.session.commit()
    db.session.execute(
        sa.update(Referral).where(Referral.id == referral.id).values(closed_at=utcnow() - timedelta(days=days_ago))
    )
    db.session.commit()


def _provider_sees(api, world: World) -> bool:
    pid = world.participant.id
    record_status, _ = api.get(f"/participants/{pid}")
    _, listing = api.get("/participants")
    _, referrals = api.get("/referrals")
    listed = [item["id"] for item in listing["items"]] == [pid]
    own = [r["id"] for r in referrals["items"]] == [world.own_referral.id]
    assert record_status in (200, 404)
    assert (record_status == 200) is listed is own, "the record, the list and /referrals disagree"
    return listed


@pytest.mark.parametrize(
    ("closed_status", "days_ago", "sees"),
    [
        (ReferralStatus.DECLINED, 1, True),
        (ReferralStatus.DECLINED, 89, True),
        (ReferralStatus.DECLINED, 91, False),
        (ReferralStatus.COMPLETED, 91, False),
        (ReferralStatus.DROPPED, 200, False),
    ],
)
def test_provider_window_after_a_referral_closes(world, api_as, app, closed_status, days_ago, sees):
    assert app.config["PROVIDER_CLOSED_REFERRAL_DAYS"] == 90
    provider = world.users["provider"]
    path = {
        ReferralStatus.DECLINED: [ReferralStatus.DECLINED],
        ReferralStatus.COMPLETED: [ReferralStatus.ACCEPTED, ReferralStatus.ENROLLED, ReferralStatus.COMPLETED],
        ReferralStatus.DROPPED: [ReferralStatus.ACCEPTED, ReferralStatus.DROPPED],
    }[closed_status]
    for status in path[:-1]:
        referral_service.set_status(provider, world.own_referral, status)
    db.session.commit()
    _set_closed_at(world.own_referral, path[-1], days_ago, provider)
    api = api_as(provider)
    assert _provider_sees(api, world) is sees
    status, _ = api.post(f"/referrals/{world.own_referral.id}/status", json={"status": "accepted"})
    assert status == (409 if sees else 404)


def test_an_open_referral_keeps_access_however_old(world, api_as):
    db.session.execute(
        sa.update(Referral).where(Referral.id == world.own_referral.id).values(sent_at=utcnow() - timedelta(days=400))
    )
    db.session.commit()
    assert _provider_sees(api_as(world.users["provider"]), world) is True


def test_revoking_consent_ends_provider_access_at_once(world, api_as):
    provider_api = api_as(world.users["provider"])
    assert _provider_sees(provider_api, world) is True
    p = world.participant
    status, body = api_as(world.users["caseworker"]).patch(
        f"/participants/{p.id}", json={"version": p.version, "consent_to_share": False}
    )
    assert status == 200, body
    assert _provider_sees(provider_api, world) is False
    status, _ = provider_api.post(f"/referrals/{world.own_referral.id}/status", json={"status": "accepted"})
    assert status == 404


def test_an_expired_consent_ends_provider_access(world, api_as):
    consent = world.participant.consent_in_force()
    consent.given_on = today() - timedelta(days=30)
    consent.expires_on = today() - timedelta(days=1)
    db.session.commit()
    assert _provider_sees(api_as(world.users["provider"]), world) is False


@pytest.mark.parametrize(("method", "rule"), ROUTES)
def test_route_needs_a_token(world, client, method, rule):
    """Every route but the OpenAPI document answers 401 without a valid token, whatever else is wrong."""
    recipe = RECIPES[(method, rule)]
    path = "/api/v1" + recipe.path(world, world.participant, world.own_referral)
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic dXNlcjpwYXNz"}):
        response = client.open(path, method=method, json={}, headers=headers)
        if rule == "/openapi.json":
            assert response.status_code == 200
        else:
            assert response.status_code == 401, (headers, response.get_json())
            assert response.get_json()["error"]["code"] == "unauthorized"


def test_forum_invitations_leave_out_participants_the_caller_may_not_see(world, api_as):
    program = world.program
    forum = program.forum()
    with program.batch():
        assigned = program.create(first_name="Jamal", community_org_id=world.users["community"].organization_id)
        for p in (assigned, world.outsider):
            program.fire(p, "invite", forum_id=forum.id, method="letter")
    expected = {
        Role.CASEWORKER: {assigned.id, world.outsider.id},
        Role.POLICE: {assigned.id, world.outsider.id},
        Role.SUPERVISOR: {assigned.id, world.outsider.id},
        Role.COMMUNITY: {assigned.id},
        Role.PROVIDER: set(),  # providers do not see the pipeline, so no invitation at all
    }
    assert set(expected) == set(SEEING_ROLES)
    for role, ids in expected.items():
        status, body = api_as(world.users[role]).get(f"/forums/{forum.id}")
        assert status == 200, body
        assert {i["participant_id"] for i in body["invitations"]} == ids, role
    status, _ = api_as(world.users["admin"]).get(f"/forums/{forum.id}")
    assert status == 403


# Invitations (issue #6): GET /forums/{id}, the forum page and the participant page's invitation table show each role
# exactly the invitation fields policy.INVITATION_FIELDS grants, for the participants in its scope. How a person was
# invited can say they are on probation; community users learn only that an assigned participant attended.

ALL_INVITATION_FIELDS = {"participant_id", "method", "attended", "checked_in_at"}
INVITATION_DESIGN = {
    Role.CASEWORKER: ALL_INVITATION_FIELDS,
    Role.POLICE: ALL_INVITATION_FIELDS,
    Role.SUPERVISOR: ALL_INVITATION_FIELDS,
    Role.COMMUNITY: {"participant_id", "attended"},
    Role.PROVIDER: set(),
    Role.ADMIN: set(),
}


def test_the_invitation_table_is_the_design():
    """API.md (Forums), written out once, against the module."""
    for role in Role:
        assert set(policy.invitation_fields(role)) == INVITATION_DESIGN[role], role


@dataclass
class Roster:
    forum_id: int
    invited: Participant  # in every role's scope: assigned to the community group, referred to the provider
    outsider: Participant  # in nobody's narrow scope
    checked_in: str  # the check-in time, as the pages write it


@pytest.fixture
def roster(world, app) -> Roster:
    program = world.program
    forum = program.forum()
    with program.batch():
        invited = program.create(first_name="Darnell", last_name="Hayes",
                                 community_org_id=world.users["community"].organization_id)
        program.refer(invited)  # to the world's provider organization, with a consent in force
        program.fire(invited, "invite", forum_id=forum.id, method="probation_condition")
        program.fire(invited, "attend")
        program.fire(world.outsider, "invite", forum_id=forum.id, method="parole_condition")
    checked_in = db.session.scalar(
        sa.select(Invitation.checked_in_at).where(Invitation.participant_id == invited.id)
    ).astimezone(ZoneInfo(app.config["TIMEZONE"]))
    return Roster(forum.id, invited, world.outsider, f"{checked_in:%Y-%m-%d %H:%M}")


def _in_scope(role: Role, roster: Roster) -> set[int]:
    return {roster.invited.id} | ({roster.outsider.id} if policy.SCOPES[role] == "all" else set())


@pytest.mark.parametrize("role", list(Role))
def test_forum_endpoint_invitation_fields_by_role(world, roster, api_as, role):
    status, body = api_as(world.users[role]).get(f"/forums/{roster.forum_id}")
    if policy.SCOPES[role] is None:
        assert (status, body["error"]["code"]) == (403, "forbidden")
        return
    assert status == 200, body
    granted = set(policy.invitation_fields(role))
    assert {i["participant_id"] for i in body["invitations"]} == (_in_scope(role, roster) if granted else set())
    assert all(set(i) == granted for i in body["invitations"]), body["invitations"]


def _section(html: str, heading_id: str) -> str:
    """The card a heading opens, or "" when the page has none."""
    start = html.find(f'aria-labelledby="{heading_id}"')
    return html[start:html.find("</section>", start)] if start >= 0 else ""


def _shows(html: str, roster: Roster) -> set[str]:
    """Which invitation fields of the invited participant a page's invitation table shows."""
    shown = set()
    if "Probation condition" in html:
        shown.add("method")
    if roster.checked_in in html:
        shown.add("checked_in_at")
    if "Checked in" in html or "Yes" in html:
        shown.add("attended")
    return shown


@pytest.mark.parametrize("role", SEEING_ROLES)
def test_forum_page_invitation_fields_by_role(world, roster, client, auth, role):
    auth.login(world.users[role])
    response = client.get(f"/forums/{roster.forum_id}")
    assert response.status_code == 200
    table = _section(response.get_data(as_text=True), "invited-h")
    granted = set(policy.invitation_fields(role))
    assert ("Hayes" in table) is bool(granted)
    assert ("Walker" in table) is (roster.outsider.id in _in_scope(role, roster) and bool(granted))
    assert _shows(table, roster) == granted - {"participant_id"}


@pytest.mark.parametrize("role", SEEING_ROLES)
def test_participant_page_invitation_table_by_role(world, roster, client, auth, role):
    auth.login(world.users[role])
    response = client.get(f"/participants/{roster.invited.id}")
    assert response.status_code == 200
    table = _section(response.get_data(as_text=True), "invitations-h")
    granted = set(policy.invitation_fields(role))
    assert bool(table) is bool(granted)
    assert _shows(table, roster) == granted - {"participant_id"}


def test_community_users_learn_only_that_an_assigned_participant_attended(world, roster, api_as, client, auth):
    """Issue #6: no delivery method (probation_condition says the person is on probation), no check-in time, on
    either face."""
    community = world.users["community"]
    status, body = api_as(community).get(f"/forums/{roster.forum_id}")
    assert (status, body["invitations"]) == (200, [{"participant_id": roster.invited.id, "attended": True}])
    auth.login(community)
    for path in (f"/forums/{roster.forum_id}", f"/participants/{roster.invited.id}"):
        html = client.get(path).get_data(as_text=True)
        assert "Hayes" in html, path
        assert "Probation condition" not in html, path
        assert "probation_condition" not in html, path
        assert roster.checked_in not in html, path


# Forum pages (issue #9): every page route under /forums/<id>, for every role, the status the design gives: the roster
# and its printout for the roles that see invitations, the door for those who check people in, inviting and the
# close-out for caseworkers and supervisors, editing, cancelling and holding for the roles of PATCH /forums/{id}.
_CW_SUP = {Role.CASEWORKER, Role.SUPERVISOR}
_DOOR = {Role.CASEWORKER, Role.POLICE, Role.SUPERVISOR}
FORUM_PAGES: dict[str, set[Role]] = {
    "/forums/<int:forum_id>": set(SEEING_ROLES),
    "/forums/<int:forum_id>/edit": _CW_SUP,
    "/forums/<int:forum_id>/cancel": _CW_SUP,
    "/forums/<int:forum_id>/held": _CW_SUP,
    "/forums/<int:forum_id>/print": _DOOR | {Role.COMMUNITY},
    "/forums/<int:forum_id>/invite": _CW_SUP,
    "/forums/<int:forum_id>/door": _DOOR,
    "/forums/<int:forum_id>/door/check-in": _DOOR,
    "/forums/<int:forum_id>/door/invite": _CW_SUP,
    "/forums/<int:forum_id>/close-out": _CW_SUP,
}


def _forum_page_rules() -> list[tuple[str, str]]:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "route-listing-only"})
    return sorted(
        (rule.rule, method) for rule in app.url_map.iter_rules() if rule.rule.startswith("/forums/<int:forum_id>")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    )


FORUM_PAGE_RULES = _forum_page_rules()


def test_every_forum_page_is_in_the_table():
    assert {rule for rule, _ in FORUM_PAGE_RULES} == set(FORUM_PAGES)


@pytest.mark.parametrize("role", list(Role))
def test_forum_pages_by_role(users, make_forum, client, auth, role):
    auth.login(users[role.value])
    for rule, method in FORUM_PAGE_RULES:
        forum = make_forum()  # a fresh one each time: cancelling or holding one leaves it final
        response = client.open(rule.replace("<int:forum_id>", str(forum.id)), method=method, data={})
        status = response.status_code
        if role in FORUM_PAGES[rule]:
            assert status not in (403, 500), (method, rule, status)
            if method == "GET":
                assert status == 200, (method, rule, status)
        else:
            assert status == 403, (method, rule, status)


# Pages of issue #10 (the home page, the provider inbox): every role gets what the policy says.

PAGE_ROUTES: dict[str, Callable[[Role], int]] = {
    "/": lambda role: 302 if role == Role.ADMIN else 200,  # admins' home is the admin area (or their profile)
    "/referrals/inbox": lambda role: 200 if role in policy.ACTIONS["referral.inbox"] else 403,
    "/participants/?sort=changed&supervision_status=none": lambda role: 403 if role == Role.ADMIN else (
        422 if not policy.sees(role, "state") else 200),  # a provider or community user has no such order
}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("path", list(PAGE_ROUTES))
def test_page_status_by_role(world, client, auth, path, role):
    assert auth.login(world.users[role]).status_code == 302
    assert client.get(path).status_code == PAGE_ROUTES[path](role)


# The admin pages (issue #10): every page under /admin, read from the url_map, for every role. Admins get the page;
# every other role 403 whatever the id, so no page tells another role which users, organizations or services exist.

ADMIN_RULES = sorted(
    (rule.rule, method)
    for rule in create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "listing-only"})
    .url_map.iter_rules() if rule.endpoint.startswith("admin.")
    for method in rule.methods - {"HEAD", "OPTIONS"}
)


def _admin_path(rule: str, ids: dict[str, int]) -> str:
    for name, ident in ids.items():
        rule = rule.replace(f"<int:{name}>", str(ident))
    return rule


def test_the_admin_pages_are_swept():
    assert ("/admin/users/<int:user_id>", "POST") in ADMIN_RULES
    assert len(ADMIN_RULES) >= 15


@pytest.mark.parametrize("role", list(Role))
def test_admin_pages_by_role(client, auth, users, make_service, role):
    service = make_service()
    ids = {"user_id": users["caseworker"].id, "organization_id": service.organization_id, "service_id": service.id}
    auth.login(users[role])
    with db.engine.connect() as conn:
        before = conn.execute(sa.select(User.id, User.role, User.active, User.password_hash)).all()
    for rule, method in ADMIN_RULES:
        path = _admin_path(rule, ids)
        if method == "GET":
            status = client.get(path).status_code
            assert status == (200 if role == Role.ADMIN else 403), (role, path, status)
        elif role != Role.ADMIN:
            status = client.post(path, data={"role": "admin", "name": "X", "kind": "police"}).status_code
            assert status == 403, (role, path, status)
    with db.engine.connect() as conn:
        assert conn.execute(sa.select(User.id, User.role, User.active, User.password_hash)).all() == before


# The look-ups' suggestions (issue #12: /lookup/<kind>, a page's JSON helper): each kind answers the roles whose forms
# choose it (the participant form's fields to those who set them, services to those who refer, the visit team to
# those who record visits), and 403 to every other role, with no name in the answer.
_SETTERS = {Role.CASEWORKER, Role.POLICE, Role.SUPERVISOR}
LOOKUPS: dict[str, set[Role]] = {
    "group": _SETTERS,
    "caseworker": _SETTERS,
    "community": _SETTERS,
    "service": {Role.CASEWORKER, Role.SUPERVISOR},
    "planned_forum": {Role.CASEWORKER, Role.SUPERVISOR},  # who invites
    "team_member": _SETTERS,
    "team_organization": _SETTERS,
    "organization": {Role.ADMIN},  # a user's, on the admin pages
    "provider": {Role.ADMIN},  # a service's
    "forum": {Role.CASEWORKER, Role.POLICE, Role.SUPERVISOR, Role.COMMUNITY},  # the list's filter: who sees invitations
    "user": {Role.SUPERVISOR},  # the audit trail's filter
}


def test_every_lookup_is_in_the_table():
    from ceasefire.services import lookup

    assert set(lookup.KINDS) == set(LOOKUPS)


@pytest.mark.parametrize("role", list(Role))
def test_lookups_by_role(client, auth, users, make_service, make_org, make_forum, role):
    make_service(name="Test service")  # every kind has a row whose name starts with "test" (users' are "Test <role>")
    make_org(OrgKind.COMMUNITY, "Test community")
    make_org(OrgKind.PROVIDER, "Test provider")
    make_forum().location = "Test hall"
    db.session.add(Group(name="Test group"))
    db.session.commit()
    auth.login(users[role])
    for kind, roles in LOOKUPS.items():
        response = client.get(f"/lookup/{kind}?q=test")
        if role in roles:
            assert response.status_code == 200, (kind, role)
            assert response.get_json(), (kind, role)
        else:
            assert response.status_code == 403, (kind, role)
            assert "test" not in response.get_data(as_text=True).lower(), (kind, role)


def test_lookups_need_a_signed_in_user(client):
    assert client.get("/lookup/group?q=a").status_code == 302
