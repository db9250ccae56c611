"""/participants through HTTP (API.md, "Participants"): lists, create, read as each role sees it, PATCH, consent,
events, history, stale versions and what an exception in the middle of an event leaves behind."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from api_support import assert_error, records
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ceasefire import pipeline
from ceasefire.extensions import db
from ceasefire.models import EnforcementAction, Invitation, Participant, Referral, StatusChange
from ceasefire.models.base import today, utcnow
from ceasefire.models.enums import OrgKind, ReferralStatus, State
from ceasefire.services import catalog, events
from ceasefire.services import participants as participant_service
from ceasefire.services import referrals as referral_service

EVERY_FIELD = {
    "id", "version", "first_name", "last_name", "aliases", "date_of_birth", "phone", "address", "state",
    "supervision_status", "supervising_agency", "caseworker_id", "community_org_id", "group_id", "group_name",
    "identification_basis", "identifying_org_id", "identified_on", "enforcement_dates", "enforcement_actions",
    "services_offered", "consent_to_share", "referrals", "outreach_contacts", "review_due_on", "criteria",
}
# DESIGN.md §4, written out by hand.
FIELDS_BY_ROLE = {
    "supervisor": EVERY_FIELD,
    "caseworker": EVERY_FIELD - {"identification_basis", "identifying_org_id", "identified_on", "enforcement_actions",
                                 "criteria"},
    "police": EVERY_FIELD - {"consent_to_share", "referrals", "outreach_contacts"},
    "provider": {"id", "version", "first_name", "last_name", "aliases", "date_of_birth", "phone", "services_offered",
                 "consent_to_share", "referrals"},
    "community": {"id", "version", "first_name", "last_name", "aliases", "date_of_birth", "state",
                  "outreach_contacts"},
}
HISTORY_ROW = {"event", "from_state", "to_state", "actor_id", "at", "reason"}


def _days_ago(n: int) -> str:
    return (today() - timedelta(days=n)).isoformat()


def _fresh(model, **where):
    """Rows as the database holds them now, not as this session remembers them."""
    db.session.expire_all()
    query = sa.select(model).filter_by(**where).order_by(model.id)
    return list(db.session.scalars(query))


def _refer(supervisor, participant, service):
    referral = referral_service.send_referral(supervisor, participant, service, "Wants work.")
    db.session.commit()
    return referral


def _fire(actor, participant, name, **data):
    events.perform(actor, participant, participant.version, name, data)
    db.session.commit()


@pytest.fixture
def program(users, make_participant, make_service, make_forum):
    """A supervisor's program: a group, a planned forum, the provider's service."""
    supervisor = users["supervisor"]
    group = catalog.create_group(supervisor, {"name": "North Side", "aliases": "NS", "area": "North of 5th"})
    db.session.commit()
    return {
        "supervisor": supervisor,
        "group": group,
        "forum": make_forum(actor=supervisor),
        "service": make_service(users["provider"].organization),
    }


# ---------------------------------------------------------------------------------------------------------------
# Lists


def test_a_list_has_items_total_page_and_per_page(users, api_as):
    supervisor = users["supervisor"]
    for i in range(55):
        participant_service.create_participant(supervisor, {"first_name": "Ann", "last_name": f"Lee {i:02d}"})
    db.session.commit()
    api = api_as(users["caseworker"])

    status, body = api.get("/participants")
    assert status == 200, body
    assert set(body) == {"items", "total", "page", "per_page"}
    assert (body["total"], body["page"], body["per_page"], len(body["items"])) == (55, 1, 50, 50)

    status, second = api.get("/participants?page=2")
    assert (second["total"], second["page"], len(second["items"])) == (55, 2, 5)
    assert not {p["id"] for p in body["items"]} & {p["id"] for p in second["items"]}

    status, small = api.get("/participants?page=3&per_page=20")
    assert (small["page"], small["per_page"], len(small["items"])) == (3, 20, 15)
    status, past = api.get("/participants?page=9")
    assert (status, past["total"], past["items"]) == (200, 55, [])

    for asked in (201, 1000):
        status, capped = api.get(f"/participants?per_page={asked}")
        assert (status, capped["per_page"], len(capped["items"])) == (200, 200, 55)

    status, empty = api.get("/participants?state=&group_id=&q=&page=&per_page=")
    assert (status, empty["page"], empty["per_page"], empty["total"]) == (200, 1, 50, 55)


def test_filters_state_group_and_q(users, api_as, program):
    supervisor, group = program["supervisor"], program["group"]
    ann = participant_service.create_participant(supervisor, {"first_name": "Ann", "last_name": "Lee",
                                                              "aliases": "Little A", "group_id": group.id})
    bob = participant_service.create_participant(supervisor, {"first_name": "Bob", "last_name": "Annis"})
    cy = participant_service.create_participant(supervisor, {"first_name": "Cy", "last_name": "Moss",
                                                             "aliases": "Shorty", "group_id": group.id})
    db.session.commit()
    _fire(supervisor, cy, "invite", forum_id=program["forum"].id, method="letter")
    api = api_as(users["caseworker"])

    def ids(query: str) -> set[int]:
        status, body = api.get("/participants?" + query)
        assert status == 200, body
        assert body["total"] == len(body["items"])
        return {p["id"] for p in body["items"]}

    assert ids("state=identified") == {ann.id, bob.id}
    assert ids("state=invited") == {cy.id}
    assert ids("state=closed") == set()
    assert ids(f"group_id={group.id}") == {ann.id, cy.id}
    assert ids(f"group_id={group.id}&state=identified") == {ann.id}
    assert ids("group_id=424242") == set()
    assert ids("q=ann") == {ann.id, bob.id}  # a first name and a last name
    assert ids("q=ANN%20LEE") == {ann.id}
    assert ids("q=shorty") == {cy.id}  # an alias
    assert ids("q=little") == {ann.id}
    assert ids("q=nobody") == set()


@pytest.mark.parametrize(("role", "sees"), [
    ("supervisor", {"mine", "referred", "assigned", "other"}),
    ("caseworker", {"mine", "referred", "assigned", "other"}),
    ("police", {"mine", "referred", "assigned", "other"}),
    ("provider", {"referred"}),
    ("community", {"assigned"}),
])
def test_each_role_lists_its_own_scope(users, api_as, program, make_participant, make_service, make_org, role,
                                       sees):
    supervisor = program["supervisor"]
    made = {
        "mine": make_participant(users["caseworker"]),
        "referred": make_participant(supervisor, consent_to_share=True),
        "assigned": make_participant(supervisor, community_org_id=users["community"].organization_id),
        "other": make_participant(supervisor, consent_to_share=True),
    }
    _refer(supervisor, made["referred"], program["service"])
    _refer(supervisor, made["other"], make_service(make_org(OrgKind.PROVIDER)))  # another provider's referral
    status, body = api_as(users[role]).get("/participants")
    assert status == 200, body
    assert {p["id"] for p in body["items"]} == {made[k].id for k in sees}
    assert body["total"] == len(sees)


def test_admin_lists_no_participants(users, api_as, make_participant):
    make_participant(users["supervisor"])
    status, body = api_as(users["admin"]).get("/participants")
    assert_error(status, body, 403, "forbidden")


@pytest.mark.parametrize(("role", "query", "field"), [
    ("provider", "state=identified", "state"),
    ("provider", "group_id=1", "group_id"),
    ("community", "group_id=1", "group_id"),
])
def test_a_filter_on_a_field_the_role_may_not_see_is_403(users, api_as, role, query, field):
    status, body = api_as(users[role]).get("/participants?" + query)
    assert_error(status, body, 403, "forbidden", field)


@pytest.mark.parametrize(("q", "expected"), [("_", ["Ann_Marie"]), ("%", ["100%"]), ("ann", ["Ann_Marie", "Annie"])])
def test_search_takes_wildcards_literally(users, api_as, make_participant, q, expected):
    for first in ("Ann_Marie", "Annie", "100%", "Bob"):
        make_participant(users["caseworker"], first_name=first, last_name="Test")
    status, body = api_as(users["caseworker"]).get("/participants", query_string={"q": q})
    assert status == 200
    assert sorted(i["first_name"] for i in body["items"]) == expected


# ---------------------------------------------------------------------------------------------------------------
# Create


def test_create_answers_201_with_the_participant_identified_at_version_1(users, api_as, program):
    caseworker = users["caseworker"]
    api = api_as(caseworker)
    sent = {
        "first_name": "Ann", "last_name": "Lee", "aliases": "Little A", "date_of_birth": "2004-02-29",
        "phone": "555-0101", "address": "12 Oak St", "group_id": program["group"].id,
        "supervision_status": "probation", "supervising_agency": "County Probation", "caseworker_id": caseworker.id,
        "community_org_id": users["community"].organization_id, "consent_to_share": True,
    }
    status, body = api.post("/participants", json=sent)
    assert status == 201, body
    assert body["state"] == "identified"
    assert body["version"] == 1
    assert isinstance(body["id"], int)
    assert {k: body[k] for k in sent} == sent
    assert body["group_name"] == "North Side"
    assert set(body) == FIELDS_BY_ROLE["caseworker"]

    status, read = api.get(f"/participants/{body['id']}")
    assert (status, read) == (200, body)

    status, history = api.get(f"/participants/{body['id']}/history")
    assert status == 200, history
    assert len(history["items"]) == 1
    row = history["items"][0]
    assert set(row) == HISTORY_ROW
    assert (row["event"], row["from_state"], row["to_state"], row["actor_id"]) == (
        "create", None, "identified", caseworker.id
    )
    assert row["at"].endswith("Z")


def test_the_least_a_participant_needs_is_two_names(users, api_as):
    status, body = api_as(users["supervisor"]).post("/participants", json={"first_name": "Ann", "last_name": "Lee"})
    assert status == 201, body
    assert (body["aliases"], body["group_id"], body["consent_to_share"], body["supervision_status"]) == (
        None, None, False, "none"
    )


def test_police_must_give_the_basis_of_identification(users, api_as):
    police = users["police"]
    api = api_as(police)
    before = records()
    for body in ({"first_name": "Ann", "last_name": "Lee"},
                 {"first_name": "Ann", "last_name": "Lee", "identification_basis": None},
                 {"first_name": "Ann", "last_name": "Lee", "identification_basis": "  "}):
        status, answer = api.post("/participants", json=body)
        assert_error(status, answer, 422, "validation_failed", "identification_basis")
    assert records() == before

    status, body = api.post("/participants", json={
        "first_name": "Ann", "last_name": "Lee", "identification_basis": "Shot at on 3 May; named by two sources.",
    })
    assert status == 201, body
    assert body["identification_basis"] == "Shot at on 3 May; named by two sources."
    assert body["identifying_org_id"] == police.organization_id
    assert body["identified_on"] == today().isoformat()
    assert set(body) == FIELDS_BY_ROLE["police"]


def test_a_supervisor_may_give_the_basis_and_need_not(users, api_as):
    api = api_as(users["supervisor"])
    status, body = api.post("/participants", json={"first_name": "A", "last_name": "B", "identification_basis": "x"})
    assert (status, body["identification_basis"]) == (201, "x")
    status, body = api.post("/participants", json={"first_name": "A", "last_name": "B"})
    assert (status, body["identification_basis"]) == (201, None)


@pytest.mark.parametrize(("role", "field", "value"), [
    ("caseworker", "identification_basis", "Seen with the group."),
    ("caseworker", "identification_basis", None),
    ("police", "consent_to_share", True),
])
def test_sending_a_field_the_role_may_not_see_is_403(users, api_as, role, field, value):
    body = {"first_name": "Ann", "last_name": "Lee", field: value}
    if role == "police":
        body["identification_basis"] = "Named in a shooting review."
    before = records()
    status, answer = api_as(users[role]).post("/participants", json=body)
    assert_error(status, answer, 403, "forbidden", field)
    assert records() == before


@pytest.mark.parametrize("role", ["provider", "community", "admin"])
def test_only_caseworkers_police_and_supervisors_create(users, api_as, role):
    before = records()
    status, body = api_as(users[role]).post("/participants", json={"first_name": "Ann", "last_name": "Lee"})
    assert_error(status, body, 403, "forbidden")
    assert records() == before


# ---------------------------------------------------------------------------------------------------------------
# Read


@pytest.fixture
def everything(users, program, make_participant):
    """A participant with something in every field group, in scope for the provider and the community user."""
    supervisor = program["supervisor"]
    participant = make_participant(
        supervisor, aliases="Little A", date_of_birth=today() - timedelta(days=7000), phone="555-0101",
        address="12 Oak St", group_id=program["group"].id, identification_basis="Named by two sources.",
        supervision_status="parole", supervising_agency="State Parole", caseworker_id=users["caseworker"].id,
        community_org_id=users["community"].organization_id, consent_to_share=True,
    )
    _refer(supervisor, participant, program["service"])
    _fire(supervisor, participant, "enforce", action_type="arrest", occurred_on=today() - timedelta(days=2),
          agency_id=users["police"].organization_id, description="Arrested on Oak St.")
    return participant


@pytest.mark.parametrize("role", FIELDS_BY_ROLE)
def test_each_role_reads_the_fields_the_policy_gives_it_and_no_other(users, api_as, everything, role):
    api = api_as(users[role])
    status, body = api.get(f"/participants/{everything.id}")
    assert status == 200, body
    assert set(body) == FIELDS_BY_ROLE[role]  # hidden fields are absent, not null
    assert (body["id"], body["version"], body["first_name"]) == (everything.id, 2, everything.first_name)
    status, listed = api.get("/participants")
    assert [item for item in listed["items"] if item["id"] == everything.id] == [body]


def test_what_the_record_says_to_each_role(users, api_as, everything):
    caseworker = api_as(users["caseworker"]).get(f"/participants/{everything.id}")[1]
    assert (caseworker["group_id"], caseworker["group_name"]) == (everything.group_id, "North Side")
    assert caseworker["enforcement_dates"] == [_days_ago(2)]
    assert caseworker["state"] == "enforced"

    police = api_as(users["police"]).get(f"/participants/{everything.id}")[1]
    assert police["identification_basis"] == "Named by two sources."
    (action,) = police["enforcement_actions"]
    assert (action["action_type"], action["occurred_on"], action["description"]) == (
        "arrest", _days_ago(2), "Arrested on Oak St."
    )
    assert police["services_offered"] is True

    provider = api_as(users["provider"]).get(f"/participants/{everything.id}")[1]
    assert provider["consent_to_share"] is True
    assert [r["status"] for r in provider["referrals"]] == ["sent"]

    community = api_as(users["community"]).get(f"/participants/{everything.id}")[1]
    assert community["state"] == "enforced"


def test_admin_reads_no_participant(users, api_as, everything):
    status, body = api_as(users["admin"]).get(f"/participants/{everything.id}")
    assert_error(status, body, 403, "forbidden")


@pytest.mark.parametrize("role", ["provider", "community"])
def test_outside_their_scope_providers_and_community_users_get_404(users, api_as, make_participant, role):
    participant = make_participant(users["supervisor"], consent_to_share=True)
    status, body = api_as(users[role]).get(f"/participants/{participant.id}")
    assert_error(status, body, 404, "not_found")


def test_a_provider_sees_no_referral_closed_before_the_window_in_a_record(users, api_as, make_participant,
                                                                         make_service):
    provider = users["provider"]
    p = make_participant(users["caseworker"], consent_to_share=True)
    old = referral_service.send_referral(users["caseworker"], p, make_service(provider.organization), None)
    referral_service.set_status(provider, old, ReferralStatus.DECLINED, "Full")
    recent = referral_service.send_referral(users["caseworker"], p, make_service(provider.organization, "GED"), None)
    db.session.commit()
    db.session.execute(sa.update(Referral).where(Referral.id == old.id)
                       .values(closed_at=utcnow() - timedelta(days=91)))
    db.session.commit()
    status, body = api_as(provider).get(f"/participants/{p.id}")
    assert status == 200
    assert [r["id"] for r in body["referrals"]] == [recent.id]
    status, body = api_as(users["caseworker"]).get(f"/participants/{p.id}")
    assert sorted(r["id"] for r in body["referrals"]) == sorted([old.id, recent.id])


def test_services_offered_tells_a_provider_only_of_their_own_referrals(users, api_as, make_participant,
                                                                       make_service, make_org):
    provider = users["provider"]
    p = make_participant(users["caseworker"], consent_to_share=True)
    mine = referral_service.send_referral(users["caseworker"], p, make_service(provider.organization), None)
    referral_service.send_referral(users["caseworker"], p, make_service(make_org("provider")), None)
    referral_service.set_status(users["caseworker"], mine, ReferralStatus.WITHDRAWN)
    db.session.commit()
    # Still in scope (a withdrawn referral closed today), but the open referral is another provider's.
    status, body = api_as(provider).get(f"/participants/{p.id}")
    assert status == 200
    assert body["services_offered"] is False
    assert api_as(users["police"]).get(f"/participants/{p.id}")[1]["services_offered"] is True


# ---------------------------------------------------------------------------------------------------------------
# PATCH


def test_every_patch_adds_one_to_the_version_whatever_it_changed(users, api_as, make_participant):
    participant = make_participant(users["supervisor"], phone="555-0101")
    api = api_as(users["caseworker"])
    path = f"/participants/{participant.id}"
    changes = [{}, {"phone": "555-0101"}, {"phone": "555-0199", "aliases": "Ace"}, {"aliases": None},
               {"address": "12 Oak St", "consent_to_share": True}, {"consent_to_share": False}, {}]
    for version, change in enumerate(changes, start=1):
        status, body = api.patch(path, json={"version": version} | change)
        assert status == 200, body
        assert body["version"] == version + 1
    assert (body["phone"], body["aliases"], body["address"], body["consent_to_share"]) == (
        "555-0199", None, "12 Oak St", False
    )
    status, read = api.get(path)
    assert (read["version"], read["phone"]) == (8, "555-0199")
    assert [p.version for p in _fresh(Participant, id=participant.id)] == [8]


def test_patch_answers_the_participant_as_the_caller_sees_it(users, api_as, make_participant, program):
    participant = make_participant(users["supervisor"])
    status, body = api_as(users["police"]).patch(f"/participants/{participant.id}", json={
        "version": 1, "group_id": program["group"].id, "identification_basis": "Seen at the shooting.",
        "supervision_status": "pretrial",
    })
    assert status == 200, body
    assert set(body) == FIELDS_BY_ROLE["police"]
    assert (body["group_name"], body["identification_basis"], body["supervision_status"]) == (
        "North Side", "Seen at the shooting.", "pretrial"
    )


@pytest.mark.parametrize("state", ["closed", "identified", None, 3])
def test_state_is_never_patched(users, api_as, make_participant, state):
    participant = make_participant(users["supervisor"])
    before = records()
    status, body = api_as(users["supervisor"]).patch(f"/participants/{participant.id}",
                                                     json={"version": 1, "state": state})
    assert_error(status, body, 422, "validation_failed", "state")
    assert records() == before


@pytest.mark.parametrize(("role", "field", "value"), [
    ("caseworker", "identification_basis", "Seen with the group."),
    ("caseworker", "identifying_org_id", 1),
    ("police", "consent_to_share", False),
])
def test_patching_a_hidden_field_is_403(users, api_as, make_participant, role, field, value):
    participant = make_participant(users["supervisor"], consent_to_share=True)
    before = records()
    status, body = api_as(users[role]).patch(f"/participants/{participant.id}", json={"version": 1, field: value})
    if field == "identifying_org_id":  # not editable by anyone: an unknown field
        assert_error(status, body, 422, "validation_failed", field)
    else:
        assert_error(status, body, 403, "forbidden", field)
    assert records() == before


@pytest.mark.parametrize("role", ["provider", "community", "admin"])
def test_roles_that_do_not_edit_participants_get_403_in_scope(users, api_as, everything, role):
    before = records()
    status, body = api_as(users[role]).patch(f"/participants/{everything.id}", json={"version": 2, "phone": "1"})
    assert_error(status, body, 403, "forbidden")
    assert records() == before


@pytest.mark.parametrize(("field", "value"), [
    ("first_name", None), ("first_name", ""), ("last_name", "  "), ("supervision_status", None),
    ("consent_to_share", None),
])
def test_a_patch_cannot_blank_what_must_be_there(users, api_as, make_participant, field, value):
    participant = make_participant(users["supervisor"])
    before = records()
    status, body = api_as(users["supervisor"]).patch(f"/participants/{participant.id}",
                                                     json={"version": 1, field: value})
    assert_error(status, body, 422, "validation_failed", field)
    assert records() == before


# ---------------------------------------------------------------------------------------------------------------
# Consent


def test_consent_to_share_records_and_revokes_and_providers_lose_access_at_once(users, api_as, program,
                                                                               make_participant):
    participant = make_participant(users["supervisor"])
    caseworker, provider = api_as(users["caseworker"]), api_as(users["provider"])
    path = f"/participants/{participant.id}"

    status, body = caseworker.post("/referrals", json={"participant_id": participant.id,
                                                       "service_id": program["service"].id})
    assert_error(status, body, 422, "validation_failed", "consent_to_share")

    status, body = caseworker.patch(path, json={"version": 1, "consent_to_share": True})
    assert (status, body["consent_to_share"], body["version"]) == (200, True, 2)
    status, referral = caseworker.post("/referrals", json={"participant_id": participant.id,
                                                           "service_id": program["service"].id})
    assert status == 201, referral
    assert provider.get(path)[0] == 200
    assert [r["id"] for r in provider.get("/referrals")[1]["items"]] == [referral["id"]]

    status, body = caseworker.patch(path, json={"version": 2, "consent_to_share": False})
    assert (status, body["consent_to_share"], body["version"]) == (200, False, 3)
    assert_error(*provider.get(path), 404, "not_found")
    assert provider.get("/participants")[1]["items"] == []
    assert provider.get("/referrals")[1]["items"] == []
    assert_error(*provider.post(f"/referrals/{referral['id']}/status", json={"status": "accepted"}), 404, "not_found")
    assert caseworker.get(path)[1]["referrals"][0]["status"] == "sent"  # the referral itself stays

    status, body = caseworker.patch(path, json={"version": 3, "consent_to_share": True})
    assert (status, body["consent_to_share"]) == (200, True)
    assert provider.get(path)[0] == 200


def test_consent_patched_twice_the_same_way_keeps_one_consent(users, api_as, make_participant):
    participant = make_participant(users["supervisor"], consent_to_share=True)
    api = api_as(users["supervisor"])
    status, body = api.patch(f"/participants/{participant.id}", json={"version": 1, "consent_to_share": True})
    assert (status, body["consent_to_share"], body["version"]) == (200, True, 2)
    assert len(participant.consents) == 1


# ---------------------------------------------------------------------------------------------------------------
# Events


def _post_event(api, participant_id: int, body: dict):
    return api.post(f"/participants/{participant_id}/events", json=body)


def test_invite_then_no_show_then_invite_attend_and_offer_services(users, api_as, program, make_participant,
                                                                   make_forum):
    caseworker, police = users["caseworker"], users["police"]
    participant = make_participant(users["supervisor"], consent_to_share=True)
    cw, pol = api_as(caseworker), api_as(police)
    forum, second = program["forum"], make_forum(actor=caseworker)

    status, body = _post_event(cw, participant.id, {"event": "invite", "version": 1, "forum_id": forum.id,
                                                    "method": "custom_notification"})
    assert (status, body["state"], body["version"]) == (200, "invited", 2), body
    (invitation,) = _fresh(Invitation, participant_id=participant.id)
    assert (invitation.forum_id, invitation.method, invitation.attended, invitation.delivered_by_id) == (
        forum.id, "custom_notification", None, caseworker.id
    )

    status, body = _post_event(cw, participant.id, {"event": "no_show", "version": 2})
    assert (status, body["state"], body["version"]) == (200, "identified", 3), body
    assert [i.attended for i in _fresh(Invitation, participant_id=participant.id)] == [False]

    status, body = _post_event(cw, participant.id, {"event": "invite", "version": 3, "forum_id": second.id,
                                                    "method": "probation_condition"})
    assert (status, body["state"]) == (200, "invited"), body
    status, body = _post_event(pol, participant.id, {"event": "attend", "version": 4})
    assert (status, body["state"], body["version"]) == (200, "attended", 5), body
    first, checked_in = _fresh(Invitation, participant_id=participant.id)
    assert first.attended is False
    assert (checked_in.forum_id, checked_in.attended, checked_in.checked_in_by_id) == (second.id, True, police.id)
    assert checked_in.checked_in_at is not None

    status, body = _post_event(cw, participant.id, {"event": "offer_services", "version": 5})
    assert_error(status, body, 422, "validation_failed", "referral")
    _refer(users["supervisor"], participant, program["service"])
    status, body = _post_event(cw, participant.id, {"event": "offer_services", "version": 5})
    assert (status, body["state"], body["version"]) == (200, "services_offered", 6), body

    status, history = cw.get(f"/participants/{participant.id}/history")
    assert [(h["event"], h["from_state"], h["to_state"]) for h in history["items"]] == [
        ("create", None, "identified"),
        ("invite", "identified", "invited"),
        ("no_show", "invited", "identified"),
        ("invite", "identified", "invited"),
        ("attend", "invited", "attended"),
        ("offer_services", "attended", "services_offered"),
    ]
    assert [h["actor_id"] for h in history["items"]][1:] == [caseworker.id] * 3 + [police.id, caseworker.id]
    stamps = [h["at"] for h in history["items"]]
    assert stamps == sorted(stamps)


def test_enforce_records_the_action_with_the_callers_agency_by_default(users, api_as, make_participant):
    police = users["police"]
    participant = make_participant(users["supervisor"])
    status, body = _post_event(api_as(police), participant.id, {
        "event": "enforce", "version": 1, "action_type": "parole_violation", "occurred_on": _days_ago(1),
        "description": "Missed curfew twice.",
    })
    assert (status, body["state"], body["version"]) == (200, "enforced", 2), body
    (action,) = _fresh(EnforcementAction, participant_id=participant.id)
    assert (action.agency_id, action.action_type, action.occurred_on.isoformat(), action.description,
            action.recorded_by_id) == (police.organization_id, "parole_violation", _days_ago(1),
                                       "Missed curfew twice.", police.id)


def test_enforce_by_someone_without_an_agency_must_name_one(users, api_as, make_participant, make_org):
    participant = make_participant(users["supervisor"])
    api = api_as(users["supervisor"])
    body = {"event": "enforce", "version": 1, "action_type": "warrant", "occurred_on": _days_ago(0)}
    before = records()
    assert_error(*_post_event(api, participant.id, body), 422, "validation_failed", "agency_id")
    assert records() == before
    probation = make_org(OrgKind.PROBATION)
    status, answer = _post_event(api, participant.id, body | {"agency_id": probation.id})
    assert (status, answer["state"]) == (200, "enforced"), answer
    assert [a.agency_id for a in _fresh(EnforcementAction, participant_id=participant.id)] == [probation.id]


@pytest.mark.parametrize("reason", ["completed", "moved", "incarcerated", "deceased", "aged_out", "declined",
                                    "other"])
def test_close_takes_a_reason_from_the_list_and_reopen_any_reason(users, api_as, make_participant, reason):
    participant = make_participant(users["supervisor"])
    status, body = _post_event(api_as(users["caseworker"]), participant.id,
                               {"event": "close", "version": 1, "reason": reason})
    assert (status, body["state"], body["version"]) == (200, "closed", 2), body
    supervisor = api_as(users["supervisor"])
    status, body = _post_event(supervisor, participant.id, {"event": "reopen", "version": 2,
                                                            "reason": "Back in the neighbourhood."})
    assert (status, body["state"], body["version"]) == (200, "identified", 3), body
    history = supervisor.get(f"/participants/{participant.id}/history")[1]["items"]
    assert [(h["event"], h["reason"]) for h in history] == [
        ("create", None), ("close", reason), ("reopen", "Back in the neighbourhood.")
    ]


@pytest.mark.parametrize(("event", "allowed"), [
    ("invite", {"caseworker", "supervisor"}),
    ("no_show", {"caseworker", "supervisor"}),
    ("attend", {"caseworker", "police", "supervisor"}),
    ("offer_services", {"caseworker", "supervisor"}),
    ("enforce", {"police", "supervisor"}),
    ("close", {"caseworker", "supervisor"}),
    ("reopen", {"supervisor"}),
])
def test_a_role_that_may_not_fire_an_event_gets_403_and_nothing_changes(users, api_as, everything, subtests, event,
                                                                        allowed):
    """`everything` is in scope for every role but admin; its state does not matter to a 403."""
    before = records()
    for role in [*sorted(set(FIELDS_BY_ROLE) - allowed), "admin"]:
        with subtests.test(role=role):
            status, body = _post_event(api_as(users[role]), everything.id, {"event": event, "version": 2})
            assert_error(status, body, 403, "forbidden")
            assert records() == before


STATES_BY_ROAD = {
    "identified": [],
    "invited": ["invite"],
    "attended": ["invite", "attend"],
    "services_offered": ["invite", "attend", "offer_services"],
    "enforced": ["enforce"],
    "closed": ["close"],
}
ALLOWED_FROM = {
    "identified": {"invite", "enforce", "close"},
    "invited": {"no_show", "attend", "enforce", "close"},
    "attended": {"offer_services", "enforce", "close"},
    "services_offered": {"enforce", "close"},
    "enforced": {"close", "reopen"},
    "closed": {"reopen"},
}


@pytest.mark.parametrize("state", STATES_BY_ROAD)
def test_an_event_not_allowed_from_the_state_is_409_invalid_transition(users, api_as, program, make_participant,
                                                                       subtests, state):
    supervisor = program["supervisor"]
    participant = make_participant(supervisor, consent_to_share=True)
    _refer(supervisor, participant, program["service"])
    extra = {
        "invite": {"forum_id": program["forum"].id, "method": "letter"},
        "enforce": {"action_type": "arrest", "occurred_on": _days_ago(1),
                    "agency_id": users["police"].organization_id},
        "close": {"reason": "moved"},
        "reopen": {"reason": "Back."},
    }
    for name in STATES_BY_ROAD[state]:
        data = dict(extra.get(name, {}))
        if "occurred_on" in data:
            data["occurred_on"] = today()
        _fire(supervisor, participant, name, **data)
    assert participant.state == state
    api = api_as(supervisor)
    before = records()
    for name in sorted(set(pipeline.EVENTS_BY_NAME) - ALLOWED_FROM[state]):
        with subtests.test(event=name):
            body = {"event": name, "version": participant.version} | extra.get(name, {})
            assert_error(*_post_event(api, participant.id, body), 409, "invalid_transition")
            assert records() == before


@pytest.mark.parametrize("status", ["held", "cancelled"])
def test_an_invitation_needs_a_forum_that_is_still_planned(users, api_as, make_participant, make_forum, status):
    participant = make_participant(users["supervisor"])
    forum = make_forum(status=status)
    before = records()
    status_code, body = _post_event(api_as(users["caseworker"]), participant.id,
                                    {"event": "invite", "version": 1, "forum_id": forum.id, "method": "letter"})
    assert_error(status_code, body, 422, "validation_failed", "forum_id")
    assert records() == before


def test_offer_services_needs_a_consent_in_force(users, api_as, program, make_participant):
    supervisor = program["supervisor"]
    participant = make_participant(supervisor, consent_to_share=True)
    _refer(supervisor, participant, program["service"])
    _fire(supervisor, participant, "invite", forum_id=program["forum"].id, method="letter")
    _fire(supervisor, participant, "attend")
    api = api_as(users["caseworker"])
    status, body = api.patch(f"/participants/{participant.id}", json={"version": 3, "consent_to_share": False})
    assert status == 200, body
    before = records()
    assert_error(*_post_event(api, participant.id, {"event": "offer_services", "version": 4}), 422,
                 "validation_failed", "consent_to_share")
    assert records() == before


def test_a_withdrawn_referral_is_no_referral_sent(users, api_as, program, make_participant):
    supervisor = program["supervisor"]
    participant = make_participant(supervisor, consent_to_share=True)
    referral = _refer(supervisor, participant, program["service"])
    _fire(supervisor, participant, "invite", forum_id=program["forum"].id, method="letter")
    _fire(supervisor, participant, "attend")
    api = api_as(users["caseworker"])
    assert api.post(f"/referrals/{referral.id}/status", json={"status": "withdrawn"})[0] == 200
    assert_error(*_post_event(api, participant.id, {"event": "offer_services", "version": 3}), 422,
                 "validation_failed", "referral")


@pytest.mark.parametrize(("event", "extra", "actor_role"), [
    ("enforce", {"action_type": "arrest", "occurred_on": "2026-11-01"}, "police"),
    ("close", {"reason": "moved"}, "caseworker"),
])
def test_leaving_the_pipeline_while_invited_ends_the_invitation(users, api_as, make_participant, make_forum,
                                                                event, extra, actor_role):
    cw = api_as(users["caseworker"])
    forum = make_forum()
    p = make_participant(users["caseworker"])
    status, body = cw.post(f"/participants/{p.id}/events",
                           json={"event": "invite", "version": 1, "forum_id": forum.id, "method": "letter"})
    assert status == 200
    status, body = api_as(users[actor_role]).post(f"/participants/{p.id}/events",
                                                  json={"event": event, "version": 2, **extra})
    assert status == 200, body
    status, forum_body = cw.get(f"/forums/{forum.id}")
    assert forum_body["invitations"] == [
        {"participant_id": p.id, "method": "letter", "attended": False, "checked_in_at": None}
    ]
    assert events.open_invitation(p) is None


# ---------------------------------------------------------------------------------------------------------------
# History


@pytest.mark.parametrize(("role", "status"), [
    ("caseworker", 200), ("police", 200), ("supervisor", 200), ("provider", 403), ("community", 403), ("admin", 403),
])
def test_history_is_for_caseworkers_police_and_supervisors(users, api_as, everything, role, status):
    got, body = api_as(users[role]).get(f"/participants/{everything.id}/history")
    if status == 200:
        assert got == 200, body
        assert set(body) == {"items"}
        assert [(h["event"], h["from_state"], h["to_state"]) for h in body["items"]] == [
            ("create", None, "identified"), ("enforce", "identified", "enforced"),
        ]
        assert all(set(h) == HISTORY_ROW for h in body["items"])
    else:
        assert_error(got, body, 403, "forbidden")


# ---------------------------------------------------------------------------------------------------------------
# Stale versions: of two clients that read the same version, exactly one writes.


def test_two_patches_from_the_same_version_one_wins(users, api_as, make_participant):
    participant = make_participant(users["supervisor"], phone="555-0100")
    first, second = api_as(users["caseworker"]), api_as(users["police"])
    path = f"/participants/{participant.id}"
    assert first.get(path)[1]["version"] == second.get(path)[1]["version"] == 1

    status, body = first.patch(path, json={"version": 1, "phone": "555-0111"})
    assert (status, body["version"]) == (200, 2)
    before = records()
    status, body = second.patch(path, json={"version": 1, "phone": "555-0222"})
    assert_error(status, body, 409, "stale_version")
    assert records() == before
    assert [(p.phone, p.version) for p in _fresh(Participant, id=participant.id)] == [("555-0111", 2)]


def test_two_events_from_the_same_version_one_wins(users, api_as, make_participant, make_forum):
    participant = make_participant(users["supervisor"])
    forum, other = make_forum(), make_forum()
    first, second = api_as(users["caseworker"]), api_as(users["supervisor"])
    status, body = _post_event(first, participant.id, {"event": "invite", "version": 1, "forum_id": forum.id,
                                                       "method": "letter"})
    assert (status, body["version"]) == (200, 2)
    before = records()
    for body in ({"event": "invite", "version": 1, "forum_id": other.id, "method": "outreach"},
                 {"event": "close", "version": 1, "reason": "moved"}):
        assert_error(*_post_event(second, participant.id, body), 409, "stale_version")
    assert_error(*second.patch(f"/participants/{participant.id}", json={"version": 1, "phone": "1"}), 409,
                 "stale_version")
    assert records() == before
    assert [i.forum_id for i in _fresh(Invitation, participant_id=participant.id)] == [forum.id]
    assert len(_fresh(StatusChange, participant_id=participant.id)) == 2


@pytest.mark.parametrize("request_body", [
    {"phone": "555-0123"},
    {"event": "close", "reason": "moved"},
])
def test_the_database_refuses_a_write_on_a_version_changed_underneath(users, api_as, make_participant,
                                                                      monkeypatch, request_body):
    """Between the service's own version check and its write, the row's version moves on behind SQLAlchemy's
    back (a raw UPDATE): the ORM's UPDATE ... WHERE version = 1 finds no row, and the StaleDataError is answered
    as stale_version with nothing written."""
    participant = make_participant(users["supervisor"], phone="555-0100")
    api = api_as(users["supervisor"])
    real_check = participant_service.check_version

    def check_then_lose_the_race(p, version):
        real_check(p, version)
        db.session.execute(sa.text("UPDATE participants SET version = version + 1 WHERE id = :id"), {"id": p.id})

    monkeypatch.setattr(participant_service, "check_version", check_then_lose_the_race)
    before = records()
    if "event" in request_body:
        status, body = _post_event(api, participant.id, {"version": 1} | request_body)
    else:
        status, body = api.patch(f"/participants/{participant.id}", json={"version": 1} | request_body)
    assert_error(status, body, 409, "stale_version")
    assert records() == before
    (row,) = _fresh(Participant, id=participant.id)
    assert (row.version, row.phone, row.state) == (1, "555-0100", State.IDENTIFIED)


def test_two_sessions_cannot_both_write_the_version_they_read(users, make_participant):
    participant = make_participant(users["supervisor"])
    mine = db.session.get(Participant, participant.id)
    assert mine.version == 1
    with Session(db.engine) as theirs:
        other = theirs.get(Participant, participant.id)
        other.phone = "555-0111"
        theirs.commit()
        assert other.version == 2
    with pytest.raises(StaleDataError):
        participant_service.update_participant(users["supervisor"], mine, 1, {"phone": "555-0222"})
    db.session.rollback()
    assert [(p.phone, p.version) for p in _fresh(Participant, id=participant.id)] == [("555-0111", 2)]


# ---------------------------------------------------------------------------------------------------------------
# An exception in the middle of an event leaves the database as it was.


@pytest.mark.parametrize(("start", "event"), [
    ("identified", {"event": "invite", "method": "letter"}),
    ("invited", {"event": "attend"}),
    ("invited", {"event": "no_show"}),
    ("identified", {"event": "enforce", "action_type": "arrest", "occurred_on": "today"}),
    ("identified", {"event": "close", "reason": "moved"}),
])
def test_an_exception_after_the_state_is_set_changes_nothing(app, users, api_as, program, make_participant,
                                                             monkeypatch, start, event):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    supervisor = program["supervisor"]
    participant = make_participant(supervisor)
    if start == "invited":
        _fire(supervisor, participant, "invite", forum_id=program["forum"].id, method="letter")
    api = api_as(users["supervisor"])
    version = participant.version
    before = records()
    seen = []

    def fail_before_the_history(p, name, from_state, actor, reason):
        seen.append((from_state, p.state))
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(pipeline, "record_change", fail_before_the_history)
    body = {"version": version} | event
    if "forum_id" not in body and event["event"] == "invite":
        body["forum_id"] = program["forum"].id
    if event.get("occurred_on") == "today":
        body |= {"occurred_on": today().isoformat(), "agency_id": users["police"].organization_id}
    status, answer = _post_event(api, participant.id, body)

    assert_error(status, answer, 500, "internal_error")
    assert len(seen) == 1
    assert seen[0][0] == start
    assert seen[0][1] != start  # the state had been set when the history failed
    db.session.expire_all()
    assert records() == before
    (row,) = _fresh(Participant, id=participant.id)
    assert (row.state, row.version) == (start, version)
