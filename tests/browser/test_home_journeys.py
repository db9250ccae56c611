"""Issue #10 in a browser: each role signs in to its home page and follows it to the work it names, with no serious
or critical accessibility violation on the way; two people edit one participant and the second loses nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from ceasefire.extensions import db
from ceasefire.models import Participant
from ceasefire.services import events
from ceasefire.services import referrals as referral_service


@pytest.fixture
def program(users, make_participant, make_forum, make_service):
    """A little of everything each home page lists: a forum ahead with someone invited, a referral waiting."""
    cw = users["caseworker"]
    forum = make_forum(datetime.now(UTC) + timedelta(days=4))
    marcus = make_participant(cw, first_name="Marcus", last_name="Reed", caseworker_id=cw.id, phone="(312) 555-0100",
                              community_org_id=users["community"].organization_id, consent_to_share=True)
    events.perform(cw, marcus, marcus.version, "invite", {"forum_id": forum.id, "method": "letter"})
    service = make_service(users["provider"].organization, name="Hope Jobs")
    referral = referral_service.send_referral(cw, marcus, service, "Wants work before the winter")
    db.session.commit()
    return {"forum": forum, "marcus": marcus, "referral": referral}


# Each role: the home page, then the first thing it points to.
JOURNEYS = {
    "caseworker": ("What needs you now", "Marcus Reed"),
    "provider": ("What needs you now", "Open the inbox"),
    "police": ("What needs you now", "Reed, Marcus"),
    "community": ("What needs you now", "Reed, Marcus"),
    "supervisor": ("The pipeline at a glance", "The pipeline report"),
}


@pytest.mark.parametrize("role", list(JOURNEYS))
def test_each_role_starts_from_its_home_page(role, program, page, live_server, sign_in, users, assert_accessible):
    heading, link = JOURNEYS[role]
    sign_in(page, users[role])
    assert page.url == live_server + "/"
    assert page.get_by_role("heading", level=1).inner_text() == heading
    assert_accessible(page)
    page.get_by_role("link", name=link).first.click()
    page.wait_for_load_state()
    assert page.url != live_server + "/"
    assert_accessible(page)


def test_a_provider_accepts_from_the_inbox_with_a_note(program, page, live_server, sign_in, users, assert_accessible):
    sign_in(page, users["provider"])
    page.goto(live_server + "/referrals/inbox")
    assert_accessible(page)
    page.get_by_label("Note for Marcus Reed").fill("Called him; starts Monday.")
    buttons = page.locator("form.inbox-step button")
    assert buttons.all_inner_texts() == ["Accept", "Decline"]
    page.get_by_role("button", name="Accept").click()
    page.wait_for_load_state()
    assert "Referral to Hope Jobs accepted." in page.inner_text("main")
    page.get_by_role("link", name="Accepted").click()
    page.wait_for_load_state()
    assert "Reed, Marcus" in page.inner_text("main")
    assert_accessible(page)


def test_two_people_edit_one_participant_and_the_second_loses_nothing(program, new_page, live_server, sign_in, users,
                                                                       make_user, settle, assert_accessible):
    dana = make_user("caseworker")
    dana.name = "Dana Rivera"
    db.session.commit()
    marcus = program["marcus"]
    edit = f"{live_server}/participants/{marcus.id}/edit"
    first, second = new_page(), new_page()
    sign_in(first, dana)
    sign_in(second, users["caseworker"])
    first.goto(edit)
    second.goto(edit)
    # Dana saves a new phone and address first
    first.get_by_label("Phone").fill("(312) 555-0199")
    first.get_by_label("Address").fill("22 Elm St")
    first.get_by_role("button", name="Save changes").click()
    first.wait_for_load_state()
    assert "Marcus Reed's record saved." in first.inner_text("main")
    # the second, on the page read before, types another phone and new aliases
    second.get_by_label("Phone").fill("(773) 555-0111")
    second.get_by_label("Aliases (street names)").fill("Smoke, Little M")
    second.get_by_role("button", name="Save changes").click()
    second.wait_for_load_state()
    alert = second.locator("section.conflict")
    assert "Dana Rivera changed Marcus's record at" in alert.inner_text()
    row = alert.get_by_role("row", name="Phone")
    assert row.locator("td.theirs").inner_text() == "(312) 555-0199"
    assert row.locator("td.mine").inner_text() == "(773) 555-0111"
    assert second.get_by_label("Phone").input_value() == "(773) 555-0111"
    assert second.get_by_label("Aliases (street names)").input_value() == "Smoke, Little M"
    assert second.get_by_label("Address").input_value() == "22 Elm St"
    assert_accessible(second)
    second.get_by_role("button", name="Apply my changes to the new version").click()
    second.wait_for_load_state()
    assert "Marcus Reed's record saved." in second.inner_text("main")
    settle()
    saved = db.session.execute(
        sa.select(Participant.phone, Participant.aliases, Participant.address).where(Participant.id == marcus.id)
    ).one()
    assert tuple(saved) == ("(773) 555-0111", "Smoke, Little M", "22 Elm St")
