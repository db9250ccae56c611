"""Issue #9, field work on a participant: notes with a visibility chosen when written, community outreach contacts,
custom notifications (pages and POST/GET /participants/{id}/custom-notifications), consent in full, and the
confirmations destructive one-click actions ask for. Each through the HTTP faces, role by role."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from api_support import assert_error, records
from helpers import text

from ceasefire.extensions import db
from ceasefire.models import AuditEvent, Consent, CustomNotification, Note, OutreachContact, Participant
from ceasefire.models.base import today, utcnow
from ceasefire.models.enums import OrgKind, Role
from ceasefire.services import referrals as referral_service
from ceasefire.services.clock import program_today

NOTE_BODIES = {"all_staff": "Lives with his aunt now.", "police_only": "Seen with the Oak St crew on Friday.",
               "services_team": "Wants to finish his GED."}
# DESIGN.md §4, row "notes", written out once.
NOTES_READ = {
    "caseworker": {"all_staff", "services_team"},
    "police": {"all_staff", "police_only"},
    "supervisor": {"all_staff", "police_only", "services_team"},
    "provider": set(),
    "community": set(),
}


@pytest.fixture
def app_config(app_config):
    """A program in Chicago: times typed into forms are local, stored in UTC."""
    return app_config | {"TIMEZONE": "America/Chicago"}


def section(html: str, heading_id: str) -> str:
    match = re.search(rf'<section[^>]*aria-labelledby="{heading_id}".*?</section>', html, re.S)
    return match.group(0) if match else ""


@pytest.fixture
def person(users, make_participant, make_service) -> Participant:
    """A participant in every role's scope: assigned to the community user's group, referred to the provider."""
    cw = users["caseworker"]
    p = make_participant(cw, consent_to_share=True, first_name="Darnell", last_name="Hayes",
                         community_org_id=users["community"].organization_id)
    referral_service.send_referral(cw, p, make_service(users["provider"].organization), "From a test")
    db.session.commit()
    return p


@pytest.fixture
def browsers(app, auth, users):
    """One signed-in browser per role."""
    made = {}
    for role, user in users.items():
        made[role] = app.test_client()
        assert auth.login(user, client=made[role]).status_code == 302
    return made


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


# Notes


def test_each_role_reads_only_the_notes_its_visibility_allows(person, browsers):
    for visibility, body in NOTE_BODIES.items():
        response = browsers["supervisor"].post(f"/participants/{person.id}/notes",
                                               data={"body": body, "visibility": visibility})
        assert response.status_code == 302, text(response)
    assert _count(Note) == 3
    for role, readable in NOTES_READ.items():
        page = text(browsers[role].get(f"/participants/{person.id}"))
        shown = {v for v, body in NOTE_BODIES.items() if body in page}
        assert shown == readable, role
    assert browsers["admin"].get(f"/participants/{person.id}").status_code == 403


def test_a_writer_chooses_among_the_visibilities_its_role_reads(person, browsers):
    page = text(browsers["caseworker"].get(f"/participants/{person.id}"))
    offered = set(re.findall(r'<option value="(\w+)"', section(page, "timeline-h")))
    assert offered == {"all_staff", "services_team"}
    police_page = text(browsers["police"].get(f"/participants/{person.id}"))
    assert set(re.findall(r'<option value="(\w+)"', section(police_page, "timeline-h"))) == {"all_staff", "police_only"}

    before = records()
    response = browsers["police"].post(f"/participants/{person.id}/notes",
                                       data={"body": "About his GED.", "visibility": "services_team"})
    assert response.status_code == 422  # not a choice the form offers police
    response = browsers["caseworker"].post(f"/participants/{person.id}/notes",
                                           data={"body": " ", "visibility": "all_staff"})
    assert response.status_code == 422
    assert records() == before


def test_roles_without_notes_may_not_write_one(person, browsers):
    before = records()
    for role in ("provider", "community", "admin"):
        response = browsers[role].post(f"/participants/{person.id}/notes",
                                       data={"body": "Hello", "visibility": "all_staff"})
        assert response.status_code == 403, role
    assert records() == before


def test_a_note_is_an_audit_row_naming_the_participant(person, browsers, users):
    browsers["police"].post(f"/participants/{person.id}/notes",
                            data={"body": "Moved to 5th St.", "visibility": "police_only"})
    row = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.object_type == "note")).one()
    assert (row.action, row.user_id, row.participant_id, row.detail) == ("create", users["police"].id, person.id,
                                                                         "police_only")


# Outreach contacts


def _log(browser, pid: int, outcome: str = "Talked on the porch; he will call Tuesday.", **extra):
    data = {"contacted_at": "2026-01-05T18:30", "kind": "visit", "outcome": outcome} | extra
    return browser.post(f"/participants/{pid}/outreach", data=data)


def test_a_community_user_logs_an_outreach_contact_that_police_never_see(person, browsers, users, api_as):
    response = _log(browsers["community"], person.id)
    assert response.status_code == 302, text(response)
    contact = db.session.scalars(sa.select(OutreachContact)).one()
    assert (contact.organization_id, contact.user_id, contact.kind) == (
        users["community"].organization_id, users["community"].id, "visit")
    assert contact.contacted_at.isoformat() == "2026-01-06T00:30:00+00:00"  # 18:30 in Chicago is 00:30 UTC
    seen = {role: "he will call Tuesday" in text(browsers[role].get(f"/participants/{person.id}"))
            for role in ("caseworker", "police", "provider", "community", "supervisor")}
    assert seen == {"caseworker": True, "police": False, "provider": False, "community": True, "supervisor": True}
    for role, shown in (("community", True), ("caseworker", True), ("police", False)):
        status, body = api_as(users[role]).get(f"/participants/{person.id}")
        assert status == 200
        assert ("outreach_contacts" in body) is shown, role
        if shown:
            assert [c["outcome"] for c in body["outreach_contacts"]] == ["Talked on the porch; he will call Tuesday."]
            assert set(body["outreach_contacts"][0]) == {"id", "organization_id", "user_id", "contacted_at", "kind",
                                                         "outcome"}


def test_only_the_assigned_group_logs_and_it_sees_only_its_own_contacts(person, browsers, users, make_user, make_org,
                                                                        app, auth):
    assert _log(browsers["community"], person.id).status_code == 302
    other_group = make_user(Role.COMMUNITY, make_org(OrgKind.COMMUNITY))
    other = app.test_client()
    auth.login(other_group, client=other)
    before = records()
    assert _log(other, person.id).status_code == 404  # not assigned to them: not there at all
    for role in ("caseworker", "police", "supervisor", "provider", "admin"):
        assert _log(browsers[role], person.id).status_code == 403, role
    assert records() == before

    # Reassigned to the other group: it sees the participant, but not the first group's contact.
    person.community_org_id = other_group.organization_id
    db.session.commit()
    page = text(other.get(f"/participants/{person.id}"))
    assert "Hayes" in page
    assert "he will call Tuesday" not in page
    assert _log(other, person.id, outcome="Met at the rec center.", kind="event").status_code == 302
    assert browsers["community"].get(f"/participants/{person.id}").status_code == 404  # no longer theirs
    assert "Met at the rec center." in text(browsers["supervisor"].get(f"/participants/{person.id}"))


def test_outreach_refuses_a_time_to_come_and_an_empty_outcome(person, browsers):
    before = records()
    later = (utcnow() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    assert _log(browsers["community"], person.id, contacted_at=later).status_code == 422
    assert _log(browsers["community"], person.id, outcome="").status_code == 422
    assert _log(browsers["community"], person.id, kind="letter").status_code == 422
    assert records() == before


# Custom notifications: the API


def _visit(users, **extra):
    return {"delivered_at": "2026-01-05T19:30:00Z", "place": "100 Oak St",
            "message": "The violence must stop; we want you alive and free.",
            "response": "Said he would think about it.",
            "team_user_ids": [users["police"].id, users["community"].id]} | extra


def test_police_record_a_custom_notification_and_the_team_is_kept(person, users, api_as):
    status, body = api_as(users["police"]).post(f"/participants/{person.id}/custom-notifications", json=_visit(users))
    assert status == 201, body
    assert set(body) == {"id", "participant_id", "delivered_at", "place", "message", "response", "team_user_ids",
                         "team_organization_ids", "recorded_by", "recorded_at"}
    assert (body["participant_id"], body["delivered_at"], body["place"], body["recorded_by"]) == (
        person.id, "2026-01-05T19:30:00Z", "100 Oak St", users["police"].id)
    assert body["team_user_ids"] == sorted([users["police"].id, users["community"].id])
    # The organizations of those who went took part too.
    assert body["team_organization_ids"] == sorted([users["police"].organization_id,
                                                    users["community"].organization_id])
    created = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.object_type == "custom_notification")).one()
    assert (created.action, created.object_id, created.participant_id) == ("create", body["id"], person.id)

    status, listing = api_as(users["caseworker"]).get(f"/participants/{person.id}/custom-notifications")
    assert (status, listing) == (200, {"items": [body]})
    viewed = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "view")
                                .order_by(AuditEvent.id.desc())).first()
    assert (viewed.object_type, viewed.object_id, viewed.user_id) == ("participant", person.id,
                                                                       users["caseworker"].id)


def test_a_community_user_sees_the_visits_their_group_took_part_in(person, users, api_as, make_org):
    police = api_as(users["police"])
    status, with_group = police.post(f"/participants/{person.id}/custom-notifications", json=_visit(users))
    assert status == 201
    status, without = police.post(f"/participants/{person.id}/custom-notifications", json=_visit(
        users, team_user_ids=[users["police"].id], delivered_at="2026-01-07T19:30:00Z"))
    assert status == 201
    status, listing = api_as(users["community"]).get(f"/participants/{person.id}/custom-notifications")
    assert status == 200
    assert [n["id"] for n in listing["items"]] == [with_group["id"]]
    status, listing = api_as(users["supervisor"]).get(f"/participants/{person.id}/custom-notifications")
    assert [n["id"] for n in listing["items"]] == [without["id"], with_group["id"]]  # newest delivered_at first


def test_providers_and_admins_get_403_whatever_the_id(person, users, api_as):
    for role in ("provider", "admin"):
        api = api_as(users[role])
        for pid in (person.id, 999_999):
            assert_error(*api.get(f"/participants/{pid}/custom-notifications"), 403, "forbidden")
            assert_error(*api.post(f"/participants/{pid}/custom-notifications", json=_visit(users)), 403, "forbidden")
    assert_error(*api_as(users["community"]).post(f"/participants/{person.id}/custom-notifications",
                                                  json=_visit(users)), 403, "forbidden")


@pytest.mark.parametrize(("change", "field"), [
    ({"delivered_at": "2999-01-01T00:00:00Z"}, "delivered_at"),
    ({"place": "  "}, "place"),
    ({"message": None}, "message"),
    ({"team_user_ids": []}, "team"),
    ({"team_user_ids": [999_999]}, "team_user_ids"),
    ({"team_organization_ids": "police"}, "team_organization_ids"),
    ({"visited": True}, "visited"),
])
def test_a_bad_custom_notification_is_422_and_writes_nothing(person, users, api_as, change, field):
    before = records()
    body = _visit(users) | change
    assert_error(*api_as(users["caseworker"]).post(f"/participants/{person.id}/custom-notifications", json=body),
                 422, "validation_failed", field)
    assert records() == before


def test_a_provider_organization_is_not_a_team(person, users, api_as):
    before = records()
    body = _visit(users, team_user_ids=[], team_organization_ids=[users["provider"].organization_id])
    assert_error(*api_as(users["caseworker"]).post(f"/participants/{person.id}/custom-notifications", json=body),
                 422, "validation_failed", "team_organization_ids")
    assert records() == before


def test_the_openapi_document_describes_custom_notifications(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    path = doc["paths"]["/participants/{participant_id}/custom-notifications"]
    assert set(path) == {"get", "post"}
    assert path["post"]["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/CustomNotificationCreate"}
    schema = doc["components"]["schemas"]["CustomNotificationCreate"]
    assert set(schema["required"]) == {"delivered_at", "place", "message"}
    assert "201" in path["post"]["responses"]


# Custom notifications: the page


def test_a_caseworker_records_a_visit_from_the_page_and_the_timeline_shows_it(person, browsers, users):
    form = text(browsers["caseworker"].get(f"/participants/{person.id}/custom-notifications/new"))
    assert f'value="{users["police"].id}"' in form
    response = browsers["caseworker"].post(f"/participants/{person.id}/custom-notifications/new", data={
        "delivered_at": "2026-01-05T13:30", "place": "Corner of 5th and Oak",
        "team_user_ids": [str(users["police"].id), str(users["community"].id)],
        "message": "Your community wants you safe.", "response": "Listened.",
    })
    assert response.status_code == 302, text(response)
    visit = db.session.scalars(sa.select(CustomNotification)).one()
    assert visit.delivered_at.isoformat() == "2026-01-05T19:30:00+00:00"
    for role, shown in (("caseworker", True), ("police", True), ("supervisor", True), ("community", True),
                        ("provider", False)):
        timeline = section(text(browsers[role].get(f"/participants/{person.id}")), "timeline-h")
        assert ("Custom notification at Corner of 5th and Oak" in timeline) is shown, role


def test_the_visit_page_is_for_those_who_record_visits(person, browsers):
    for role, status in (("caseworker", 200), ("police", 200), ("supervisor", 200), ("community", 403),
                         ("provider", 403), ("admin", 403)):
        assert browsers[role].get(f"/participants/{person.id}/custom-notifications/new").status_code == status, role
    before = records()
    response = browsers["police"].post(f"/participants/{person.id}/custom-notifications/new", data={
        "delivered_at": "2026-01-05T13:30", "place": "Home", "message": "A message."})
    assert response.status_code == 422  # nobody named as the team
    assert "at least one team member" in text(response)
    assert records() == before


# Consent in full


def test_recording_consent_asks_how_it_was_given_its_scope_and_expiry(users, browsers, make_participant):
    p = make_participant(users["caseworker"])
    form = text(browsers["caseworker"].get(f"/participants/{p.id}/consent"))
    for name in ("method", "witness_name", "scope", "expires_on"):
        assert f'name="{name}"' in form, name
    before, version = records(), p.version
    post = {"version": version, "method": "verbal", "scope": "employment providers"}
    response = browsers["caseworker"].post(f"/participants/{p.id}/consent", data=post)
    assert response.status_code == 422
    assert "names its witness" in text(response)
    yesterday = (today() - timedelta(days=1)).isoformat()
    response = browsers["caseworker"].post(f"/participants/{p.id}/consent",
                                           data=post | {"witness_name": "Rev. Smith", "expires_on": yesterday})
    assert response.status_code == 422
    assert records() == before

    until = (today() + timedelta(days=365)).isoformat()
    response = browsers["caseworker"].post(f"/participants/{p.id}/consent",
                                           data=post | {"witness_name": "Rev. Smith", "expires_on": until})
    assert response.status_code == 302, text(response)
    consent = db.session.scalars(sa.select(Consent)).one()
    assert (consent.method, consent.witness_name, consent.scope, consent.expires_on.isoformat()) == (
        "verbal", "Rev. Smith", "employment providers", until)
    page = text(browsers["caseworker"].get(f"/participants/{p.id}"))
    assert "spoken, witnessed by Rev. Smith" in section(page, "services-h")
    assert "Consent to share given" in section(page, "timeline-h")
    db.session.expire_all()
    assert db.session.get(Participant, p.id).version == version + 1


def test_revoking_asks_for_a_confirmation_that_providers_lose_access_at_once(person, browsers, users):
    page = text(browsers["caseworker"].get(f"/participants/{person.id}"))
    assert f'action="/participants/{person.id}/consent/revoke"' not in page  # a link to the question, no button
    assert f'href="/participants/{person.id}/consent/revoke"' in page
    question = text(browsers["caseworker"].get(f"/participants/{person.id}/consent/revoke"))
    assert "Providers lose access at once." in question
    assert browsers["provider"].get(f"/participants/{person.id}").status_code == 200

    version = db.session.get(Participant, person.id).version
    response = browsers["caseworker"].post(f"/participants/{person.id}/consent/revoke", data={"version": version})
    assert response.status_code == 302
    consent = db.session.scalars(sa.select(Consent)).one()
    assert (consent.revoked_on, consent.revoked_by_id) == (program_today(), users["caseworker"].id)
    assert browsers["provider"].get(f"/participants/{person.id}").status_code == 404
    timeline = section(text(browsers["supervisor"].get(f"/participants/{person.id}")), "timeline-h")
    assert "Consent to share revoked: providers lost access" in timeline


@pytest.mark.parametrize("path", ["/consent", "/consent/revoke"])
def test_only_caseworkers_and_supervisors_change_consent(person, browsers, path):
    before = records()
    for role, status in (("police", 403), ("provider", 403), ("community", 403), ("admin", 403)):
        assert browsers[role].get(f"/participants/{person.id}{path}").status_code == status, role
        assert browsers[role].post(f"/participants/{person.id}{path}", data={"version": 1, "method": "written",
                                                                             "scope": "all"}).status_code == status
    assert records() == before
    for role in ("caseworker", "supervisor"):
        assert browsers[role].get(f"/participants/{person.id}{path}").status_code == 200, role


# Confirmations


def test_no_show_and_services_offered_ask_before_they_happen(users, browsers, make_participant, make_forum):
    p = make_participant(users["caseworker"], consent_to_share=True)
    forum = make_forum()
    response = browsers["caseworker"].post(f"/participants/{p.id}/events/invite",
                                           data={"version": p.version, "forum_id": forum.id, "method": "letter"})
    assert response.status_code == 302
    page = text(browsers["caseworker"].get(f"/participants/{p.id}"))
    assert f'action="/participants/{p.id}/events/no_show"' not in page
    assert f'href="/participants/{p.id}/events/no_show"' in page
    assert f'action="/participants/{p.id}/events/attend"' in page  # not destructive: one tap
    question = text(browsers["caseworker"].get(f"/participants/{p.id}/events/no_show"))
    assert "a no-show at the forum they were invited to?" in question
    assert f'href="/participants/{p.id}/events/close"' in page


# Outcomes on the page


def test_outcomes_are_listed_and_recorded_on_the_page_by_role(person, browsers):
    day = (today() - timedelta(days=2)).isoformat()
    assert browsers["caseworker"].post(f"/participants/{person.id}/outcomes",
                                       data={"type": "employed", "occurred_on": day, "note": "Warehouse"}
                                       ).status_code == 302
    assert browsers["police"].post(f"/participants/{person.id}/outcomes",
                                   data={"type": "arrested", "occurred_on": day}).status_code == 302
    before = records()
    assert browsers["police"].post(f"/participants/{person.id}/outcomes",
                                   data={"type": "employed", "occurred_on": day}).status_code == 422
    for role in ("provider", "community", "admin"):
        assert browsers[role].post(f"/participants/{person.id}/outcomes",
                                   data={"type": "arrested", "occurred_on": day}).status_code == 403, role
    assert records() == before
    police_page = text(browsers["police"].get(f"/participants/{person.id}"))
    outcomes = section(police_page, "outcomes-h")
    assert "Outcome: arrested" in outcomes
    assert "Outcome: employed" not in police_page
    assert set(re.findall(r'<option value="(\w+)"', outcomes)) == {
        "arrested", "arrested_violent", "incarcerated", "shot", "killed"}
    assert "Outcome: employed" in section(text(browsers["caseworker"].get(f"/participants/{person.id}")), "outcomes-h")
    for role in ("provider", "community"):
        assert section(text(browsers[role].get(f"/participants/{person.id}")), "outcomes-h") == "", role


# The pages of this issue x the six roles: the status each gets, on a participant in every role's scope and on
# one in no narrow scope (provider and community users are told it does not exist; admins never see participants).

ALL = ("caseworker", "police", "provider", "community", "supervisor", "admin")


def _allowed(*roles: str, ok: int = 200) -> dict[str, int]:
    return {role: ok if role in roles else 403 for role in ALL}


PAGE_ROUTES = [
    ("GET", "/consent", None, _allowed("caseworker", "supervisor")),
    ("GET", "/consent/revoke", None, _allowed("caseworker", "supervisor")),
    ("GET", "/custom-notifications/new", None, _allowed("caseworker", "police", "supervisor")),
    # The participant's consent is in force: recording another is refused, once the role may.
    ("POST", "/consent", {"method": "written", "scope": "all"}, _allowed("caseworker", "supervisor", ok=422)),
    ("POST", "/consent/revoke", {}, _allowed("caseworker", "supervisor", ok=302)),
    ("POST", "/notes", {"body": "Called him.", "visibility": "all_staff"},
     _allowed("caseworker", "police", "supervisor", ok=302)),
    ("POST", "/outreach", {"contacted_at": "2026-01-05T18:30", "kind": "call", "outcome": "No answer."},
     _allowed("community", ok=302)),
    ("POST", "/outcomes", {"type": "arrested", "occurred_on": "2026-01-05"},
     _allowed("caseworker", "police", "supervisor", ok=302)),
    ("POST", "/custom-notifications/new", {"delivered_at": "2026-01-05T18:30", "place": "Home", "message": "Hi.",
                                           "team_organization_ids": "ORG"},
     _allowed("caseworker", "police", "supervisor", ok=302)),
]


@pytest.mark.parametrize(("method", "suffix", "data", "expected"), PAGE_ROUTES,
                         ids=[f"{m} {s}" for m, s, _, _ in PAGE_ROUTES])
@pytest.mark.parametrize("role", ALL)
def test_page_route_status_by_role(person, browsers, users, make_participant, method, suffix, data, expected, role):
    outsider = make_participant(users["caseworker"], first_name="Andre", last_name="Walker", consent_to_share=True)
    for target, in_scope in ((person, True), (outsider, False)):
        form = None
        if data is not None:
            form = {k: (str(users["police"].organization_id) if v == "ORG" else v) for k, v in data.items()}
            form["version"] = target.version
        before = records()
        response = browsers[role].open(f"/participants/{target.id}{suffix}", method=method, data=form)
        hidden = not in_scope and role in ("provider", "community")
        assert response.status_code == (404 if hidden else expected[role]), (target.id, text(response)[:300])
        if response.status_code != 302:
            assert records() == before
