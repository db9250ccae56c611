"""The HTML pages, through the HTTP test client, as a person would use them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from helpers import csrf_token_of, text

from ceasefire import pipeline
from ceasefire.extensions import db
from ceasefire.models import (
    AuditEvent,
    EnforcementAction,
    Invitation,
    Participant,
    Referral,
    StatusChange,
)
from ceasefire.models.base import today
from ceasefire.models.enums import State
from ceasefire.services import events
from ceasefire.services import participants as participant_service
from ceasefire.services import referrals as referral_service


def event_links(html: str, participant_id: int) -> set[str]:
    """The events a page offers: every form action or link to /participants/<id>/events/<name>."""
    return set(re.findall(rf"/participants/{participant_id}/events/(\w+)", html))


def section(html: str, heading_id: str) -> str:
    """The HTML of the <section> labelled by the given heading id."""
    match = re.search(rf'<section[^>]*aria-labelledby="{heading_id}".*?</section>', html, re.S)
    assert match, f"no section {heading_id}"
    return match.group(0)


def reload(participant: Participant) -> Participant:
    db.session.expire_all()
    return db.session.get(Participant, participant.id)


def history_events(participant: Participant) -> list[str]:
    return list(db.session.scalars(
        sa.select(StatusChange.event).where(StatusChange.participant_id == participant.id).order_by(StatusChange.id)
    ))


def fire(actor, participant, name, **data):
    events.perform(actor, participant, participant.version, name, data)
    db.session.commit()


# Signing in


@pytest.mark.parametrize("which", ["wrong password", "unknown email"])
def test_sign_in_failure_says_one_generic_message(client, users, which):
    email = users["caseworker"].email if which == "wrong password" else "nobody@example.org"
    response = client.post("/login", data={"email": email, "password": "not the password at all"})
    assert response.status_code == 200
    assert "Invalid email or password." in text(response)
    assert "unknown" not in text(response).lower()
    assert client.get("/participants/").status_code == 302  # still signed out


def test_pages_need_a_signed_in_user(client, make_participant):
    p = make_participant()
    for path in ("/participants/", f"/participants/{p.id}", "/forums/"):
        response = client.get(path)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


# The pipeline through the pages


def test_caseworker_takes_a_participant_to_services_offered(client, auth, users, make_forum, make_service):
    cw = users["caseworker"]
    forum = make_forum()
    service = make_service(name="Transitional jobs crew")
    auth.login(cw)

    response = client.post("/participants/new", data={
        "first_name": "Marcus", "last_name": "Hill", "aliases": "Tank", "phone": "(312) 555-0101",
        "supervision_status": "probation", "supervising_agency": "County Adult Probation",
        "caseworker_id": str(cw.id),
    })
    assert response.status_code == 302
    p = db.session.scalar(sa.select(Participant).where(Participant.last_name == "Hill"))
    assert response.headers["Location"].endswith(f"/participants/{p.id}")
    assert p.state == State.IDENTIFIED
    assert p.caseworker_id == cw.id

    page = client.get(f"/participants/{p.id}")
    assert page.status_code == 200
    assert event_links(text(page), p.id) == {"invite", "close"}

    form = client.get(f"/participants/{p.id}/events/invite")
    assert form.status_code == 200
    assert f'value="{forum.id}"' in text(form)
    response = client.post(f"/participants/{p.id}/events/invite",
                           data={"version": p.version, "forum_id": forum.id, "method": "custom_notification"})
    assert response.status_code == 302, text(response)
    p = reload(p)
    assert p.state == State.INVITED

    response = client.post(f"/participants/{p.id}/events/attend", data={"version": p.version})
    assert response.status_code == 302
    p = reload(p)
    assert p.state == State.ATTENDED
    invitation = db.session.scalar(sa.select(Invitation).where(Invitation.participant_id == p.id))
    assert invitation.attended is True
    assert invitation.checked_in_by_id == cw.id

    # Offering services needs a referral, and a referral needs consent: the page says so and changes nothing.
    response = client.post(f"/participants/{p.id}/events/offer_services", data={"version": p.version})
    assert response.status_code == 422
    assert "no consent to share" in text(response)
    assert reload(p).state == State.ATTENDED
    response = client.post(f"/participants/{p.id}/referrals", data={"service_id": service.id, "note": "Keen"})
    assert response.status_code == 422
    assert "consent" in text(response).lower()
    assert db.session.scalar(sa.select(sa.func.count(Referral.id))) == 0

    response = client.post(f"/participants/{p.id}/consent",
                           data={"version": p.version, "method": "written", "scope": "referral services"})
    assert response.status_code == 302
    p = reload(p)
    assert p.consent_in_force() is not None
    response = client.post(f"/participants/{p.id}/referrals", data={"service_id": service.id, "note": "Keen"})
    assert response.status_code == 302
    page = text(client.get(f"/participants/{p.id}"))
    assert "Transitional jobs crew" in section(page, "services-h")
    assert "Sent" in section(page, "services-h")

    response = client.post(f"/participants/{p.id}/events/offer_services", data={"version": p.version})
    assert response.status_code == 302
    p = reload(p)
    assert p.state == State.SERVICES_OFFERED
    assert history_events(p) == ["create", "invite", "attend", "offer_services"]

    timeline = section(text(client.get(f"/participants/{p.id}")), "timeline-h")
    steps = [f'<span class="what">{step}</span>' for step in (
        "Create: identified", "Invite: identified → invited", "Attend: invited → attended",
        "Offer services: attended → services offered",
    )]
    positions = [timeline.find(step) for step in steps]
    assert all(pos >= 0 for pos in positions), timeline
    assert positions == sorted(positions, reverse=True)  # newest first


def test_police_records_enforcement(client, auth, users, make_org):
    police = users["police"]
    auth.login(police)
    response = client.post("/participants/new", data={
        "first_name": "Darnell", "last_name": "Young", "supervision_status": "none",
        "identification_basis": "Named in a shooting review.",
    })
    assert response.status_code == 302, text(response)
    p = db.session.scalar(sa.select(Participant).where(Participant.last_name == "Young"))
    assert p.identifying_org_id == police.organization_id

    page = text(client.get(f"/participants/{p.id}"))
    assert event_links(page, p.id) == {"enforce"}
    form = text(client.get(f"/participants/{p.id}/events/enforce"))
    own = re.search(r'<option selected value="(\d+)">', form) or re.search(r'<option value="(\d+)" selected>', form)
    assert own
    assert int(own.group(1)) == police.organization_id

    response = client.post(f"/participants/{p.id}/events/enforce", data={
        "version": p.version, "action_type": "arrest", "occurred_on": today().isoformat(),
        "agency_id": str(police.organization_id), "incident_ref": "RD-2026-1234",
        "description": "Arrested after a group shooting.",
    })
    assert response.status_code == 302, text(response)
    p = reload(p)
    assert p.state == State.ENFORCED
    action = db.session.scalar(sa.select(EnforcementAction).where(EnforcementAction.participant_id == p.id))
    assert action.incident_ref == "RD-2026-1234"
    assert action.recorded_by_id == police.id
    page = text(client.get(f"/participants/{p.id}"))
    assert "RD-2026-1234" in section(page, "enforcement-h")
    assert event_links(page, p.id) == set()  # police may not reopen


def test_a_caseworker_sees_that_enforcement_happened_not_what(client, auth, users, make_participant):
    p = make_participant(users["police"])
    fire(users["police"], p, "enforce", action_type="warrant", occurred_on=today(), incident_ref="RD-77",
         description="Warrant served.")
    auth.login(users["caseworker"])
    page = text(client.get(f"/participants/{p.id}"))
    enforcement = section(page, "enforcement-h")
    assert today().isoformat() in enforcement
    assert "RD-77" not in page
    assert "Warrant served" not in page


def _participant_in(state: State, users, make_participant, make_forum, make_service) -> Participant:
    sup = users["supervisor"]
    p = make_participant(sup, consent_to_share=True)
    if state == State.IDENTIFIED:
        return p
    if state == State.ENFORCED:
        fire(users["police"], p, "enforce", action_type="arrest", occurred_on=today())
        return p
    if state == State.CLOSED:
        fire(sup, p, "close", reason="moved")
        return p
    fire(sup, p, "invite", forum_id=make_forum().id, method="letter")
    if state == State.INVITED:
        return p
    fire(sup, p, "attend")
    if state == State.ATTENDED:
        return p
    referral_service.send_referral(sup, p, make_service(), None)
    db.session.commit()
    fire(sup, p, "offer_services")
    return p


@pytest.mark.parametrize("role", ["caseworker", "police", "supervisor", "provider", "community"])
@pytest.mark.parametrize("state", list(State))
def test_buttons_are_the_events_the_pipeline_allows(client, auth, users, make_participant, make_forum, make_service,
                                                    role, state):
    p = _participant_in(state, users, make_participant, make_forum, make_service)
    user = users[role]
    p.community_org_id = users["community"].organization_id  # in the community user's scope
    db.session.commit()
    auth.login(user)
    response = client.get(f"/participants/{p.id}")
    if role == "provider":
        assert response.status_code == 404  # no referral to their organization
        return
    assert response.status_code == 200
    expected = {e.name for e in pipeline.available_events(p, user)}
    assert event_links(text(response), p.id) == expected


def test_police_see_no_invite_and_caseworkers_no_reopen(client, auth, users, make_participant):
    p = make_participant(users["supervisor"])
    auth.login(users["police"])
    assert "invite" not in event_links(text(client.get(f"/participants/{p.id}")), p.id)
    assert client.post(f"/participants/{p.id}/events/invite", data={"version": p.version}).status_code == 403

    fire(users["supervisor"], p, "close", reason="moved")
    auth.logout()
    auth.login(users["caseworker"])
    page = text(client.get(f"/participants/{p.id}"))
    assert "reopen" not in event_links(page, p.id)
    response = client.post(f"/participants/{p.id}/events/reopen", data={"version": p.version, "reason": "Back"})
    assert response.status_code == 403
    assert reload(p).state == State.CLOSED


def test_an_event_not_open_from_the_state_is_409_and_changes_nothing(client, auth, users, make_participant):
    p = make_participant(users["caseworker"])
    auth.login(users["caseworker"])
    assert client.get(f"/participants/{p.id}/events/no_show").status_code == 409
    response = client.post(f"/participants/{p.id}/events/no_show", data={"version": p.version})
    assert response.status_code == 409
    assert history_events(reload(p)) == ["create"]
    assert client.get(f"/participants/{p.id}/events/fly").status_code == 404


# Access


def test_admin_gets_403(client, auth, users, make_participant, make_forum):
    p = make_participant()
    forum = make_forum()
    auth.login(users["admin"])
    assert client.get("/participants/").status_code == 403
    assert client.get(f"/participants/{p.id}").status_code == 403
    assert client.get("/participants/new").status_code == 403
    assert client.get("/forums/").status_code == 403
    assert client.get(f"/forums/{forum.id}").status_code == 403
    nav = text(client.get("/profile"))
    assert "/participants/" not in nav


def test_a_provider_sees_only_participants_referred_to_them(client, auth, users, make_user, make_participant,
                                                            make_service):
    cw, provider = users["caseworker"], users["provider"]
    p = make_participant(cw, consent_to_share=True, phone="(312) 555-0199", address="1 Oak St")
    referral_service.send_referral(cw, p, make_service(provider.organization, name="Job readiness"), None)
    referral_service.send_referral(cw, p, make_service(name="Trauma counselling"), None)  # another provider
    db.session.commit()
    auth.login(provider)
    page = client.get(f"/participants/{p.id}")
    assert page.status_code == 200
    assert "Job readiness" in text(page)
    assert "Trauma counselling" not in text(page)
    assert "history-h" not in text(page)
    assert "(312) 555-0199" in text(page)
    assert "1 Oak St" not in text(page)
    assert event_links(text(page), p.id) == set()
    listing = text(client.get("/participants/"))
    assert p.last_name in listing
    assert ">State<" not in listing
    assert ">Phone<" in listing
    assert 'name="state"' not in listing

    auth.logout()
    auth.login(make_user("provider"))  # another organization
    assert client.get(f"/participants/{p.id}").status_code == 404
    assert p.last_name not in text(client.get("/participants/"))


def test_list_columns_follow_the_policy(client, auth, users, make_participant):
    community = users["community"]
    mine = make_participant(users["supervisor"], community_org_id=community.organization_id, phone="(312) 555-0142")
    other = make_participant(users["supervisor"])
    auth.login(community)
    listing = text(client.get("/participants/"))
    assert mine.last_name in listing
    assert other.last_name not in listing
    assert ">State<" in listing
    assert ">Phone<" not in listing
    assert "555-0142" not in listing
    assert "New participant" not in listing


def test_list_searches_names_and_aliases_and_filters_by_state(client, auth, users, make_participant):
    sup = users["supervisor"]
    tank = make_participant(sup, first_name="Marcus", last_name="Hill", aliases="Tank")
    other = make_participant(sup, first_name="Andre", last_name="Brown")
    fire(sup, other, "close", reason="moved")
    auth.login(users["caseworker"])
    found = text(client.get("/participants/?q=tank"))  # the alias finds Marcus Hill
    assert f'href="/participants/{tank.id}"' in found
    assert "Hill" in found
    assert "Brown" not in found
    closed = text(client.get("/participants/?state=closed"))
    assert "Brown" in closed
    assert "Hill" not in closed
    assert client.get("/participants/?state=flying").status_code == 422


def test_list_pages_by_fifty(client, auth, users, make_participant):
    sup = users["supervisor"]
    for i in range(51):
        make_participant(sup, last_name=f"Person{i:03d}")
    auth.login(users["caseworker"])
    first = text(client.get("/participants/"))
    assert "51 participants" in first
    assert "Person049" in first
    assert "Person050" not in first
    second = text(client.get("/participants/?page=2"))
    assert "Person050" in second
    assert "Person000" not in second


def test_viewing_a_participant_is_audited(client, auth, users, make_participant):
    p = make_participant()
    auth.login(users["caseworker"])
    client.get(f"/participants/{p.id}")
    row = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "view", AuditEvent.object_id == p.id)
    )
    assert row is not None
    assert row.user_id == users["caseworker"].id
    assert row.object_type == "participant"


# Stale pages and bad input change nothing


def test_a_stale_version_gets_409_and_changes_nothing(client, auth, users, make_participant):
    cw = users["caseworker"]
    p = make_participant(cw)
    auth.login(cw)
    page = text(client.get(f"/participants/{p.id}/events/close"))
    stale = int(re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1))
    participant_service.update_participant(users["supervisor"], p, p.version, {"phone": "(312) 555-0123"})
    db.session.commit()

    response = client.post(f"/participants/{p.id}/events/close", data={"version": stale, "reason": "moved"})
    assert response.status_code == 409
    assert "Test supervisor changed Test&#39;s record at" in text(response)  # issue #10: who, not version numbers
    assert "Reload" in text(response)
    p = reload(p)
    assert p.state == State.IDENTIFIED
    assert history_events(p) == ["create"]

    response = client.post(f"/participants/{p.id}/edit", data={
        "version": stale, "first_name": "New", "last_name": p.last_name, "supervision_status": "none",
    })
    assert response.status_code == 409
    assert reload(p).first_name != "New"


def test_a_form_without_its_version_changes_nothing(client, auth, users, make_participant):
    p = make_participant(users["caseworker"])
    auth.login(users["caseworker"])
    response = client.post(f"/participants/{p.id}/events/close", data={"reason": "moved"})
    assert response.status_code == 422
    assert reload(p).state == State.IDENTIFIED


def test_bad_input_shows_a_field_error_and_changes_nothing(client, auth, users, make_participant):
    auth.login(users["caseworker"])
    before = db.session.scalar(sa.select(sa.func.count(Participant.id)))
    response = client.post("/participants/new", data={"first_name": "Ann", "last_name": ""})
    assert response.status_code == 422
    assert re.search(r'id="last_name-error">[^<]*required', text(response))
    assert 'aria-invalid="true"' in text(response)
    assert db.session.scalar(sa.select(sa.func.count(Participant.id))) == before

    # A rule of the service (no date of birth in the future) shows beside its field too.
    future = (today() + timedelta(days=3)).isoformat()
    response = client.post("/participants/new", data={
        "first_name": "Ann", "last_name": "Lee", "date_of_birth": future, "supervision_status": "none",
    })
    assert response.status_code == 422
    assert re.search(r'id="date_of_birth-error">[^<]*future', text(response))
    assert db.session.scalar(sa.select(sa.func.count(Participant.id))) == before


def test_police_must_give_the_basis_of_identification(client, auth, users):
    auth.login(users["police"])
    form = text(client.get("/participants/new"))
    assert 'name="identification_basis"' in form
    assert 'name="consent_to_share"' not in form
    response = client.post("/participants/new", data={"first_name": "Jo", "last_name": "Doe"})
    assert response.status_code == 422
    assert re.search(r'id="identification_basis-error">[^<]*Required when police', text(response))
    assert db.session.scalar(sa.select(sa.func.count(Participant.id))) == 0


def test_a_caseworker_may_not_see_or_send_the_basis_of_identification(client, auth, users):
    auth.login(users["caseworker"])
    form = text(client.get("/participants/new"))
    assert 'name="identification_basis"' not in form
    assert 'name="group_id"' in form
    assert 'name="consent_to_share"' in form
    client.post("/participants/new", data={
        "first_name": "Jo", "last_name": "Doe", "supervision_status": "none", "identification_basis": "Sneaky",
    })
    p = db.session.scalar(sa.select(Participant).where(Participant.last_name == "Doe"))
    assert p is not None
    assert p.identification_basis is None


def test_enforcement_in_the_future_is_a_field_error(client, auth, users, make_participant):
    p = make_participant(users["police"])
    auth.login(users["police"])
    response = client.post(f"/participants/{p.id}/events/enforce", data={
        "version": p.version, "action_type": "arrest", "occurred_on": (today() + timedelta(days=2)).isoformat(),
        "incident_ref": "RD-2026-0099",
    })
    assert response.status_code == 422
    assert re.search(r'id="occurred_on-error">[^<]*future', text(response))
    p = reload(p)
    assert p.state == State.IDENTIFIED
    assert db.session.scalar(sa.select(sa.func.count(EnforcementAction.id))) == 0


def test_edit_saves_the_fields_the_role_may_set(client, auth, users, make_participant):
    p = make_participant(users["caseworker"], phone="(312) 555-0100")
    auth.login(users["caseworker"])
    form = text(client.get(f"/participants/{p.id}/edit"))
    assert "555-0100" in form
    response = client.post(f"/participants/{p.id}/edit", data={
        "version": p.version, "first_name": p.first_name, "last_name": p.last_name, "phone": "(312) 555-0200",
        "supervision_status": "parole",
    })
    assert response.status_code == 302
    p = reload(p)
    assert p.phone == "(312) 555-0200"
    assert p.version == 2


# Forums


def test_a_caseworker_plans_a_forum(client, auth, users):
    auth.login(users["caseworker"])
    response = client.post("/forums/new", data={
        "title": "Call-in forum, March", "scheduled_at": "2030-03-12T18:00", "location": "Westside Community Center",
    })
    assert response.status_code == 302
    page = text(client.get(response.headers["Location"]))
    assert "Call-in forum, March" in page
    assert "2030-03-12 18:00" in page
    assert client.post("/forums/new", data={"title": "", "scheduled_at": ""}).status_code == 422
    auth.logout()
    auth.login(users["police"])
    assert client.get("/forums/new").status_code == 403
    assert "New forum" not in text(client.get("/forums/"))


def test_a_forum_page_leaves_out_participants_outside_the_scope(client, auth, users, make_participant, make_forum):
    sup, community = users["supervisor"], users["community"]
    forum = make_forum()
    mine = make_participant(sup, community_org_id=community.organization_id, last_name="Assigned")
    other = make_participant(sup, last_name="Elsewhere")
    for p in (mine, other):
        fire(sup, p, "invite", forum_id=forum.id, method="outreach")

    auth.login(community)
    page = text(client.get(f"/forums/{forum.id}"))
    assert "Assigned" in page
    assert "Elsewhere" not in page
    assert event_links(page, mine.id) == set()  # community users do not check people in

    auth.logout()
    auth.login(users["provider"])
    page = text(client.get(f"/forums/{forum.id}"))
    assert "Assigned" not in page
    assert "Elsewhere" not in page

    auth.logout()
    auth.login(users["police"])
    page = text(client.get(f"/forums/{forum.id}"))
    assert "Assigned" in page
    assert "Elsewhere" in page


def test_check_in_at_the_forum_door(client, auth, users, make_participant, make_forum):
    sup = users["supervisor"]
    forum = make_forum()
    p = make_participant(sup)
    fire(sup, p, "invite", forum_id=forum.id, method="letter")
    auth.login(users["police"])
    page = text(client.get(f"/forums/{forum.id}"))
    assert event_links(page, p.id) == {"attend"}
    response = client.post(f"/participants/{p.id}/events/attend",
                           data={"version": p.version, "next": f"/forums/{forum.id}"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/forums/{forum.id}")
    assert reload(p).state == State.ATTENDED
    page = text(client.get(f"/forums/{forum.id}"))
    assert "Checked in" in page
    assert event_links(page, p.id) == set()


def test_next_must_stay_on_this_site(client, auth, users, make_participant, make_forum):
    sup = users["supervisor"]
    p = make_participant(sup)
    fire(sup, p, "invite", forum_id=make_forum().id, method="letter")
    auth.login(sup)
    response = client.post(f"/participants/{p.id}/events/attend",
                           data={"version": p.version, "next": "https://evil.example/"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/participants/{p.id}")


# Every page, for every role that may see it


@pytest.mark.parametrize("role", ["caseworker", "police", "supervisor", "community"])
def test_every_page_renders(client, auth, users, make_participant, make_forum, role):
    user = users[role]
    p = make_participant(users["supervisor"], community_org_id=users["community"].organization_id)
    forum = make_forum()
    auth.login(user)
    for path in ("/participants/", f"/participants/{p.id}", "/forums/", f"/forums/{forum.id}", "/profile"):
        response = client.get(path)
        assert response.status_code == 200, path
        html = text(response)
        assert "style=" not in html
        assert "<script" not in html
        assert 'action="/logout"' in html


# CSRF, on as in production


@pytest.mark.usefixtures("csrf_on")
class TestCsrf:
    def test_a_post_without_the_token_is_refused(self, client, auth, users, make_participant):
        p = make_participant(users["caseworker"])
        auth.login_with_csrf(users["caseworker"])
        response = client.post(f"/participants/{p.id}/events/close", data={"version": p.version, "reason": "moved"})
        assert response.status_code == 400
        assert reload(p).state == State.IDENTIFIED
        response = client.post("/participants/new", data={"first_name": "No", "last_name": "Token"})
        assert response.status_code == 400
        assert db.session.scalar(sa.select(sa.func.count(Participant.id))) == 1

    def test_the_page_forms_carry_the_token(self, client, auth, users, make_participant):
        p = make_participant(users["caseworker"])
        auth.login_with_csrf(users["caseworker"])
        page = text(client.get(f"/participants/{p.id}/events/close"))
        token = csrf_token_of(page)
        response = client.post(f"/participants/{p.id}/events/close",
                               data={"version": p.version, "reason": "moved", "csrf_token": token})
        assert response.status_code == 302
        assert reload(p).state == State.CLOSED
