"""/forums, /referrals, /users, /organizations, /services, /groups and /openapi.json through HTTP (API.md)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from api_support import assert_error, records

from ceasefire.extensions import db
from ceasefire.models import Referral, Service, User
from ceasefire.models.enums import OrgKind, Role
from ceasefire.services import events
from ceasefire.services import referrals as referral_service

ROLES = [r.value for r in Role]
FORUM_FIELDS = {"id", "title", "scheduled_at", "location", "status", "speakers", "notes"}
INVITATION_FIELDS = {"participant_id", "method", "attended", "checked_in_at"}
REFERRAL_FIELDS = {"id", "participant_id", "service_id", "organization_id", "status", "note", "reason", "sent_at",
                   "sent_by_id", "updated_at", "events"}
USER_FIELDS = {"id", "email", "name", "role", "organization_id", "active"}
ORGANIZATION_FIELDS = {"id", "name", "kind", "description", "email", "phone", "url"}
SERVICE_FIELDS = {"id", "organization_id", "name", "category", "description", "eligibility", "capacity", "active"}
LIST_KEYS = {"items", "total", "page", "per_page"}
UTC_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


# ---------------------------------------------------------------------------------------------------------------
# Forums


@pytest.mark.parametrize("role", ["caseworker", "supervisor"])
def test_a_forum_is_created_with_title_time_and_place(users, api_as, role):
    api = api_as(users[role])
    status, body = api.post("/forums", json={"title": "Spring call-in", "scheduled_at": "2027-03-01T17:00:00Z",
                                             "location": "Fieldhouse, 1200 W Oak St"})
    assert status == 201, body
    assert set(body) == FORUM_FIELDS | {"invitations"}
    assert (body["title"], body["scheduled_at"], body["location"], body["status"], body["invitations"]) == (
        "Spring call-in", "2027-03-01T17:00:00Z", "Fieldhouse, 1200 W Oak St", "planned", []
    )
    status, read = api.get(f"/forums/{body['id']}")
    assert (status, read) == (200, body)


@pytest.mark.parametrize(("sent", "stored"), [
    ("2027-03-01T12:00:00-05:00", "2027-03-01T17:00:00Z"),
    ("2027-03-01T18:30:00+01:30", "2027-03-01T17:00:00Z"),
    ("2027-03-01T17:00:00", "2027-03-01T17:00:00Z"),
    ("2027-03-01T17:00", "2027-03-01T17:00:00Z"),
    ("2027-03-01T17:00:00.250Z", "2027-03-01T17:00:00Z"),
    ("0999-03-01T17:00:00Z", "0999-03-01T17:00:00Z"),
])
def test_forum_times_are_answered_in_utc(users, api_as, sent, stored):
    status, body = api_as(users["caseworker"]).post("/forums", json={"title": "Call-in", "scheduled_at": sent})
    assert (status, body["scheduled_at"], body["location"]) == (201, stored, None), body


def test_only_caseworkers_and_supervisors_create_forums(users, api_as, subtests):
    before = records()
    for role in ("police", "provider", "community", "admin"):
        with subtests.test(role=role):
            status, body = api_as(users[role]).post("/forums", json={"title": "Call-in",
                                                                     "scheduled_at": "2027-03-01T17:00:00Z"})
            assert_error(status, body, 403, "forbidden")
    assert records() == before


def test_forums_are_listed_newest_first_for_every_case_role(users, api_as, make_forum, subtests):
    from datetime import UTC, datetime

    early = make_forum(when=datetime(2027, 1, 5, 17, tzinfo=UTC))
    late = make_forum(when=datetime(2027, 6, 5, 17, tzinfo=UTC))
    for role in ("caseworker", "police", "provider", "community", "supervisor"):
        with subtests.test(role=role):
            status, body = api_as(users[role]).get("/forums")
            assert status == 200, body
            assert set(body) == LIST_KEYS
            assert [f["id"] for f in body["items"]] == [late.id, early.id]
            assert all(set(f) == FORUM_FIELDS for f in body["items"])
            assert all(UTC_TIME.fullmatch(f["scheduled_at"]) for f in body["items"])
    assert_error(*api_as(users["admin"]).get("/forums"), 403, "forbidden")
    assert_error(*api_as(users["admin"]).get(f"/forums/{early.id}"), 403, "forbidden")
    assert_error(*api_as(users["caseworker"]).get("/forums/424242"), 404, "not_found")


def test_a_forum_lists_only_the_invitations_of_participants_the_caller_sees(users, api_as, make_participant,
                                                                           make_forum, make_service):
    supervisor = users["supervisor"]
    forum = make_forum(actor=supervisor)
    assigned = make_participant(supervisor, community_org_id=users["community"].organization_id)
    referred = make_participant(supervisor, consent_to_share=True)
    referral_service.send_referral(supervisor, referred, make_service(users["provider"].organization), None)
    other = make_participant(supervisor)
    for participant, method in ((assigned, "outreach"), (referred, "letter"), (other, "parole_condition")):
        events.perform(supervisor, participant, participant.version, "invite",
                                       {"forum_id": forum.id, "method": method})
    events.perform(supervisor, other, other.version, "attend", {})
    db.session.commit()

    def invitations(role: str) -> dict[int, dict]:
        status, body = api_as(users[role]).get(f"/forums/{forum.id}")
        assert status == 200, body
        # How a person was invited can reveal probation or parole: community users learn only that they attended.
        fields = {"participant_id", "attended"} if role == "community" else INVITATION_FIELDS
        assert all(set(i) == fields for i in body["invitations"])
        return {i["participant_id"]: i for i in body["invitations"]}

    for role in ("caseworker", "police", "supervisor"):
        seen = invitations(role)
        assert set(seen) == {assigned.id, referred.id, other.id}
        assert (seen[other.id]["method"], seen[other.id]["attended"]) == ("parole_condition", True)
        assert UTC_TIME.fullmatch(seen[other.id]["checked_in_at"])
        assert (seen[assigned.id]["attended"], seen[assigned.id]["checked_in_at"]) == (None, None)
    assert set(invitations("community")) == {assigned.id}
    # A provider sees the people of its referrals, never their place in the pipeline (DESIGN.md §4).
    assert invitations("provider") == {}


# ---------------------------------------------------------------------------------------------------------------
# Referrals


@pytest.fixture
def referred(users, make_participant, make_service):
    """A participant who consented, and the provider's service."""
    participant = make_participant(users["supervisor"], consent_to_share=True)
    return participant, make_service(users["provider"].organization)


def _referral(users, participant, service, path: tuple[str, ...] = ()) -> Referral:
    """A referral walked along `path` by the roles that may set each status."""
    referral = referral_service.send_referral(users["supervisor"], participant, service, None)
    for status in path:
        actor = users["caseworker"] if status == "withdrawn" else users["provider"]
        referral_service.set_status(actor, referral, status, "No places left." if status == "declined" else None)
    db.session.commit()
    return referral


@pytest.mark.parametrize("role", ["caseworker", "supervisor"])
def test_a_referral_is_sent(users, api_as, referred, role):
    participant, service = referred
    status, body = api_as(users[role]).post("/referrals", json={
        "participant_id": participant.id, "service_id": service.id, "note": "Wants evening work.",
    })
    assert status == 201, body
    assert set(body) == REFERRAL_FIELDS
    assert (body["status"], body["participant_id"], body["service_id"], body["organization_id"], body["note"],
            body["sent_by_id"]) == ("sent", participant.id, service.id, service.organization_id,
                                    "Wants evening work.", users[role].id)
    assert [(e["from_status"], e["to_status"]) for e in body["events"]] == [(None, "sent")]
    assert UTC_TIME.fullmatch(body["sent_at"])


def test_a_referral_needs_a_consent_in_force(users, api_as, make_participant, make_service):
    participant = make_participant(users["supervisor"])
    service = make_service(users["provider"].organization)
    before = records()
    status, body = api_as(users["caseworker"]).post("/referrals", json={"participant_id": participant.id,
                                                                        "service_id": service.id})
    assert_error(status, body, 422, "validation_failed", "consent_to_share")
    assert records() == before


def test_a_referral_to_an_inactive_service_is_422(users, api_as, referred):
    participant, service = referred
    service.active = False
    db.session.commit()
    before = records()
    status, body = api_as(users["caseworker"]).post("/referrals", json={"participant_id": participant.id,
                                                                        "service_id": service.id})
    assert_error(status, body, 422, "validation_failed", "service_id")
    assert records() == before


def test_only_caseworkers_and_supervisors_send_referrals(users, api_as, referred, subtests):
    participant, service = referred
    before = records()
    for role in ("police", "provider", "community", "admin"):
        with subtests.test(role=role):
            status, body = api_as(users[role]).post("/referrals", json={"participant_id": participant.id,
                                                                        "service_id": service.id})
            assert_error(status, body, 403, "forbidden")
    assert records() == before


def test_who_lists_which_referrals(users, api_as, referred, make_service, make_org, subtests):
    participant, service = referred
    mine = _referral(users, participant, service)
    theirs = _referral(users, participant, make_service(make_org(OrgKind.PROVIDER)))
    for role, expected in (("caseworker", {mine.id, theirs.id}), ("supervisor", {mine.id, theirs.id}),
                           ("provider", {mine.id})):
        with subtests.test(role=role):
            status, body = api_as(users[role]).get("/referrals")
            assert status == 200, body
            assert set(body) == LIST_KEYS
            assert {r["id"] for r in body["items"]} == expected
            assert body["total"] == len(expected)
            assert all(set(r) == REFERRAL_FIELDS for r in body["items"])
    for role in ("police", "community", "admin"):
        with subtests.test(role=role):
            assert_error(*api_as(users[role]).get("/referrals"), 403, "forbidden")


# from status: the path that reaches it
REACH = {
    "sent": (),
    "accepted": ("accepted",),
    "declined": ("declined",),
    "enrolled": ("accepted", "enrolled"),
    "completed": ("accepted", "enrolled", "completed"),
    "dropped": ("accepted", "dropped"),
    "withdrawn": ("withdrawn",),
}
ALLOWED = {
    "sent": {"accepted", "declined", "withdrawn"},
    "accepted": {"enrolled", "dropped", "withdrawn"},
    "enrolled": {"completed", "dropped", "withdrawn"},
}


@pytest.mark.parametrize("start", REACH)
def test_referral_statuses_move_only_in_api_md_order(users, api_as, referred, subtests, start):
    participant, service = referred
    apis = {"provider": api_as(users["provider"]), "caseworker": api_as(users["caseworker"])}
    for target in ("accepted", "declined", "enrolled", "completed", "dropped", "withdrawn"):
        with subtests.test(target=target):
            referral = _referral(users, participant, service, REACH[start])
            api = apis["caseworker" if target == "withdrawn" else "provider"]
            body = {"status": target} | ({"reason": "No places left."} if target == "declined" else {})
            before = records()
            status, answer = api.post(f"/referrals/{referral.id}/status", json=body)
            if target in ALLOWED.get(start, set()):
                assert status == 200, answer
                assert set(answer) == REFERRAL_FIELDS
                assert answer["status"] == target
                assert (answer["events"][-1]["from_status"], answer["events"][-1]["to_status"]) == (start, target)
                assert len(answer["events"]) == len(REACH[start]) + 2
            else:
                assert_error(status, answer, 409, "invalid_transition")
                assert records() == before


def test_declining_needs_a_reason(users, api_as, referred):
    participant, service = referred
    referral = _referral(users, participant, service)
    api = api_as(users["provider"])
    before = records()
    for body in ({"status": "declined"}, {"status": "declined", "reason": ""}, {"status": "declined", "reason": None}):
        assert_error(*api.post(f"/referrals/{referral.id}/status", json=body), 422, "validation_failed", "reason")
    assert records() == before
    status, body = api.post(f"/referrals/{referral.id}/status", json={"status": "declined", "reason": "Full."})
    assert (status, body["status"], body["reason"], body["events"][-1]["reason"]) == (200, "declined", "Full.", "Full.")


@pytest.mark.parametrize(("role", "status"), [
    ("provider", "withdrawn"),
    ("caseworker", "accepted"),
    ("caseworker", "completed"),
    ("supervisor", "enrolled"),
    ("police", "withdrawn"),
    ("police", "accepted"),
    ("community", "accepted"),
    ("admin", "withdrawn"),
])
def test_each_status_belongs_to_its_roles(users, api_as, referred, role, status):
    participant, service = referred
    referral = _referral(users, participant, service)
    before = records()
    body = {"status": status} | ({"reason": "x"} if status == "declined" else {})
    assert_error(*api_as(users[role]).post(f"/referrals/{referral.id}/status", json=body), 403, "forbidden")
    assert records() == before


def test_a_supervisor_may_withdraw(users, api_as, referred):
    participant, service = referred
    referral = _referral(users, participant, service, ("accepted",))
    status, body = api_as(users["supervisor"]).post(f"/referrals/{referral.id}/status", json={"status": "withdrawn"})
    assert (status, body["status"]) == (200, "withdrawn")


def test_a_provider_reports_only_on_its_own_organizations_referrals(users, api_as, referred, make_user):
    participant, service = referred
    referral = _referral(users, participant, service)
    stranger = make_user(Role.PROVIDER)  # a provider user of another organization
    before = records()
    assert_error(*api_as(stranger).post(f"/referrals/{referral.id}/status", json={"status": "accepted"}), 404,
                 "not_found")
    assert records() == before
    colleague = make_user(Role.PROVIDER, organization=users["provider"].organization)
    status, body = api_as(colleague).post(f"/referrals/{referral.id}/status", json={"status": "accepted"})
    assert (status, body["status"]) == (200, "accepted")


def test_closing_a_participant_leaves_the_referrals_for_the_provider(users, api_as, referred):
    participant, service = referred
    referral = _referral(users, participant, service, ("accepted",))
    events.perform(users["supervisor"], participant, participant.version, "close",
                                   {"reason": "moved"})
    db.session.commit()
    status, body = api_as(users["provider"]).post(f"/referrals/{referral.id}/status", json={"status": "enrolled"})
    assert (status, body["status"]) == (200, "enrolled")


# ---------------------------------------------------------------------------------------------------------------
# Users


@pytest.mark.parametrize(("role", "kind"), [
    ("caseworker", None), ("supervisor", None), ("admin", None), ("provider", "provider"),
    ("community", "community"), ("police", "police"), ("police", "probation"), ("police", "parole"),
    ("police", "prosecutor"),
])
def test_an_admin_adds_users_and_no_password_comes_back(users, api_as, make_org, client, role, kind):
    organization = make_org(kind) if kind else None
    password = "rain-on-the-lake-at-dawn"
    response = client.post("/api/v1/users", headers=api_as(users["admin"]).headers, json={
        "email": f"New.{role}@Example.org", "name": "Dana Ortiz", "role": role,
        "organization_id": organization.id if organization else None, "password": password,
    })
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) == USER_FIELDS
    assert (body["email"], body["name"], body["role"], body["organization_id"], body["active"]) == (
        f"New.{role}@Example.org", "Dana Ortiz", role, organization.id if organization else None, True
    )
    text = response.get_data(as_text=True)
    created = db.session.get(User, body["id"])
    assert password not in text
    assert created.password_hash not in text
    assert "password" not in text
    assert "hash" not in text


@pytest.mark.parametrize("role", ["provider", "community", "police"])
def test_providers_community_and_police_users_need_an_organization(users, api_as, role):
    before = records()
    status, body = api_as(users["admin"]).post("/users", json={
        "email": "someone@example.org", "name": "Someone", "role": role, "password": "rain-on-the-lake-at-dawn",
    })
    assert_error(status, body, 422, "validation_failed", "organization_id")
    assert records() == before


@pytest.mark.parametrize(("role", "kind"), [
    ("provider", "community"), ("community", "provider"), ("police", "provider"), ("provider", "police"),
])
def test_the_organization_must_be_of_the_roles_kind(users, api_as, make_org, role, kind):
    organization = make_org(kind)
    before = records()
    status, body = api_as(users["admin"]).post("/users", json={
        "email": "someone@example.org", "name": "Someone", "role": role, "organization_id": organization.id,
        "password": "rain-on-the-lake-at-dawn",
    })
    assert_error(status, body, 422, "validation_failed", "organization_id")
    assert records() == before


@pytest.mark.parametrize("email", ["taken@example.org", "TAKEN@example.org", "Taken@Example.Org"])
def test_a_duplicate_email_is_422(users, api_as, make_user, email):
    make_user(Role.CASEWORKER, email="taken@example.org")
    before = records()
    status, body = api_as(users["admin"]).post("/users", json={
        "email": email, "name": "Again", "role": "caseworker", "password": "rain-on-the-lake-at-dawn",
    })
    assert_error(status, body, 422, "validation_failed", "email")
    assert records() == before


@pytest.mark.parametrize("password", ["short", "someone@example.org", "x" * 257])
def test_a_weak_password_is_422(users, api_as, password):
    before = records()
    status, body = api_as(users["admin"]).post("/users", json={
        "email": "someone@example.org", "name": "Someone", "role": "caseworker", "password": password,
    })
    assert_error(status, body, 422, "validation_failed", "password")
    assert records() == before


def test_only_admins_add_users(users, api_as, subtests):
    before = records()
    for role in ("caseworker", "police", "provider", "community", "supervisor"):
        with subtests.test(role=role):
            status, body = api_as(users[role]).post("/users", json={
                "email": "someone@example.org", "name": "Someone", "role": "admin",
                "password": "rain-on-the-lake-at-dawn",
            })
            assert_error(status, body, 403, "forbidden")
    assert records() == before


# ---------------------------------------------------------------------------------------------------------------
# Organizations and services


def test_every_role_lists_organizations(users, api_as, subtests):
    expected = sorted((o.name, o.id) for o in (users["police"].organization, users["provider"].organization,
                                               users["community"].organization))
    for role in ROLES:
        with subtests.test(role=role):
            status, body = api_as(users[role]).get("/organizations")
            assert status == 200, body
            assert set(body) == LIST_KEYS
            assert body["total"] == 3
            assert [(o["name"], o["id"]) for o in body["items"]] == expected
            assert all(set(o) == ORGANIZATION_FIELDS for o in body["items"])


@pytest.mark.parametrize("kind", [k.value for k in OrgKind])
def test_an_admin_adds_organizations(users, api_as, kind):
    sent = {"name": "Safe Streets", "kind": kind, "description": "Street outreach.", "email": "info@safe.example",
            "phone": "555-0100", "url": "https://safe.example"}
    status, body = api_as(users["admin"]).post("/organizations", json=sent)
    assert status == 201, body
    assert set(body) == ORGANIZATION_FIELDS
    assert {k: body[k] for k in sent} == sent
    status, listed = api_as(users["caseworker"]).get("/organizations")
    assert body in listed["items"]


def test_only_admins_add_organizations_and_services(users, api_as, subtests):
    before = records()
    for role in ("caseworker", "police", "provider", "community", "supervisor"):
        with subtests.test(role=role):
            api = api_as(users[role])
            assert_error(*api.post("/organizations", json={"name": "X", "kind": "provider"}), 403, "forbidden")
            assert_error(*api.post("/services", json={
                "organization_id": users["provider"].organization_id, "name": "X", "category": "legal",
            }), 403, "forbidden")
    assert records() == before


def test_an_admin_adds_a_service_to_a_provider(users, api_as):
    sent = {"organization_id": users["provider"].organization_id, "name": "GED classes", "category": "education",
            "description": "Evening classes.", "eligibility": "16 and over", "capacity": 12, "active": True}
    status, body = api_as(users["admin"]).post("/services", json=sent)
    assert status == 201, body
    assert set(body) == SERVICE_FIELDS
    assert {k: body[k] for k in sent} == sent


@pytest.mark.parametrize("role", ["police", "community"])
def test_a_service_belongs_to_a_provider(users, api_as, role):
    before = records()
    status, body = api_as(users["admin"]).post("/services", json={
        "organization_id": users[role].organization_id, "name": "GED classes", "category": "education",
    })
    assert_error(status, body, 422, "validation_failed", "organization_id")
    assert records() == before


def test_services_are_listed_to_every_role_and_filtered_by_category(users, api_as, make_service, subtests):
    jobs = make_service(users["provider"].organization, name="Transitional jobs", category="employment")
    ged = make_service(users["provider"].organization, name="GED classes", category="education")
    for role in ROLES:
        with subtests.test(role=role):
            api = api_as(users[role])
            status, body = api.get("/services")
            assert (status, set(body), body["total"]) == (200, LIST_KEYS, 2)
            assert [s["id"] for s in body["items"]] == [ged.id, jobs.id]
            assert all(set(s) == SERVICE_FIELDS for s in body["items"])
            assert [s["id"] for s in api.get("/services?category=employment")[1]["items"]] == [jobs.id]
            assert api.get("/services?category=housing")[1]["items"] == []
    assert _count(Service) == 2


# ---------------------------------------------------------------------------------------------------------------
# Groups


GROUP_FIELDS = {"police": {"id", "name", "aliases", "area"}, "supervisor": {"id", "name", "aliases", "area"},
                "caseworker": {"id", "name"}}


@pytest.mark.parametrize("creator", ["police", "supervisor"])
def test_police_and_supervisors_add_groups(users, api_as, creator, subtests):
    status, body = api_as(users[creator]).post("/groups", json={"name": "Young Money Gang", "aliases": "YMG",
                                                                "area": "Englewood"})
    assert status == 201, body
    assert body == {"id": body["id"], "name": "Young Money Gang", "aliases": "YMG", "area": "Englewood"}
    for role, fields in GROUP_FIELDS.items():
        with subtests.test(role=role):
            status, listed = api_as(users[role]).get("/groups")
            assert (status, set(listed)) == (200, LIST_KEYS)
            assert listed["items"] == [{k: v for k, v in body.items() if k in fields}]
    for role in ("provider", "community", "admin"):
        with subtests.test(role=role):
            assert_error(*api_as(users[role]).get("/groups"), 403, "forbidden")


def test_only_police_and_supervisors_add_groups(users, api_as, subtests):
    before = records()
    for role in ("caseworker", "provider", "community", "admin"):
        with subtests.test(role=role):
            assert_error(*api_as(users[role]).post("/groups", json={"name": "YMG"}), 403, "forbidden")
    assert records() == before


@pytest.mark.parametrize("name", ["Young Money Gang", "young money gang", "YOUNG MONEY GANG"])
def test_a_group_name_is_taken_once(users, api_as, name):
    api = api_as(users["police"])
    assert api.post("/groups", json={"name": "Young Money Gang"})[0] == 201
    before = records()
    assert_error(*api.post("/groups", json={"name": name}), 422, "validation_failed", "name")
    assert records() == before


# ---------------------------------------------------------------------------------------------------------------
# The OpenAPI document


def _resolve(document: dict, ref: str):
    assert ref.startswith("#/"), ref
    node = document
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def test_the_openapi_document_lists_every_api_route(app, client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    doc = response.get_json()
    assert re.fullmatch(r"3\.\d+\.\d+", doc["openapi"])
    assert isinstance(doc["info"]["title"], str)
    assert isinstance(doc["info"]["version"], str)
    assert doc["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}

    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
            routes |= {(method.lower(), path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(method, path) for path, ops in doc["paths"].items() for method in ops}
    assert documented == routes
    for expected in [("get", "/participants"), ("post", "/participants/{participant_id}/events"),
                     ("post", "/referrals/{referral_id}/status"), ("get", "/openapi.json")]:
        assert expected in documented

    operation_ids = []
    for path, ops in doc["paths"].items():
        assert path.startswith("/")
        names = set(re.findall(r"{(\w+)}", path))
        for method, op in ops.items():
            assert method in {"get", "post", "patch", "put", "delete"}
            operation_ids.append(op["operationId"])
            assert op["summary"]
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert declared == names, (method, path)
            assert all(p["required"] is True for p in op.get("parameters", []) if p["in"] == "path")
            assert op["responses"]
            assert all(re.fullmatch(r"[1-5]\d\d", code) for code in op["responses"])
            if method in ("post", "patch"):
                assert "application/json" in op["requestBody"]["content"]
    assert len(operation_ids) == len(set(operation_ids))
    for ref in _refs(doc):
        _resolve(doc, ref)
    assert doc["paths"]["/participants"]["post"]["responses"].keys() >= {"201", "401", "403", "422"}
    error = doc["components"]["schemas"]["Error"]["properties"]["error"]
    assert set(error["required"]) == {"code", "message", "fields"}
