"""Issue #9's call-in journey, as a caseworker clicks it: invite three people to a forum from its roster, check two in
at the door on a tablet (768 by 1024), close the forum out marking the third a no-show, and refer one of those who came.
axe-core finds no serious or critical violation on any page on the way."""

from __future__ import annotations

import re

import sqlalchemy as sa

from ceasefire.extensions import db
from ceasefire.models import Forum, Invitation, Participant, Referral
from ceasefire.models.enums import ForumStatus, State

TABLET = {"width": 768, "height": 1024}


def test_a_caseworker_runs_a_call_in(page, new_page, live_server, sign_in, settle, users, make_forum,
                                     make_participant, make_service, assert_accessible):
    sup, caseworker = users["supervisor"], users["caseworker"]
    forum = make_forum()  # today, an hour ago
    avery = make_participant(sup, first_name="Andre", last_name="Avery", consent_to_share=True)
    brooks = make_participant(sup, first_name="Bryce", last_name="Brooks")
    cole = make_participant(sup, first_name="Carl", last_name="Cole")
    make_participant(sup, first_name="Dion", last_name="Dawson")  # identified, not invited today
    service = make_service(users["provider"].organization, name="Transitional jobs")
    ids = {"forum": forum.id, "avery": avery.id, "brooks": brooks.id, "cole": cole.id, "service": service.id}

    # 1. The roster: invite three at once, a means of delivery each.
    sign_in(page, caseworker)
    page.goto(f"{live_server}/forums/{ids['forum']}")
    assert_accessible(page)
    page.get_by_role("link", name="Invite people").click()
    assert_accessible(page)
    for name, method in (("Avery", "letter"), ("Brooks", "custom_notification"), ("Cole", "outreach")):
        first = {"Avery": "Andre", "Brooks": "Bryce", "Cole": "Carl"}[name]
        page.get_by_label(f"{name}, {first}").check()
        page.get_by_label(f"How {first} {name} is invited").select_option(method)
    page.get_by_role("button", name="Invite the people ticked").click()
    page.wait_for_load_state()
    assert page.get_by_text("Invited 3: Andre Avery; Bryce Brooks; Carl Cole.").is_visible()
    assert page.get_by_text("3 invited · 0 checked in").is_visible()
    assert_accessible(page)
    # the roster searched by part of a name, in any case (its own invitees tested, services/roster.py)
    page.get_by_label("Find on the roster (name or alias)").fill("YCE BRO")
    page.get_by_role("button", name="Search").click()
    page.wait_for_load_state()
    assert page.locator('tr[id^="p-"]').count() == 1
    assert page.get_by_role("link", name="Brooks, Bryce").is_visible()
    page.get_by_role("link", name="Show everyone").click()
    page.wait_for_load_state()
    assert page.locator('tr[id^="p-"]').count() == 3

    # 2. The door, on a tablet: filter as you type, one tap each, back at the row.
    tablet = new_page(viewport=TABLET)
    sign_in(tablet, caseworker)
    tablet.goto(f"{live_server}/forums/{ids['forum']}/door")
    assert tablet.get_by_text("0 checked in of 3 expected").is_visible()
    assert_accessible(tablet)
    tablet.get_by_label("Find a name (type to filter)").fill("avery")
    rows = tablet.locator("#door-list li")
    assert [rows.nth(i).is_visible() for i in range(3)] == [True, False, False]  # filtered in the page, no request
    avery_button = tablet.get_by_role("button", name="Check in Andre Avery")
    box = avery_button.bounding_box()
    assert box is not None
    assert box["height"] >= 44  # a target for a finger
    avery_button.click()
    tablet.wait_for_load_state()
    assert tablet.url.endswith(f"#p-{ids['avery']}")
    assert tablet.get_by_text("1 checked in of 3 expected").is_visible()
    tablet.get_by_label("Find a name (type to filter)").fill("bryce")
    tablet.get_by_role("button", name="Check in Bryce Brooks").click()
    tablet.wait_for_load_state()
    assert tablet.url.endswith(f"#p-{ids['brooks']}")
    assert tablet.get_by_text("2 checked in of 3 expected").is_visible()
    assert_accessible(tablet)

    # 3. After the forum: the close-out names Carl Cole; confirming marks him a no-show and the forum held.
    page.goto(f"{live_server}/forums/{ids['forum']}")
    page.get_by_role("link", name="Close out").click()
    assert page.get_by_text("Confirm: mark Carl Cole as no-show, and the forum held.").is_visible()
    assert_accessible(page)
    page.get_by_role("button", name=re.compile("Yes, mark 1 no-show")).click()
    page.wait_for_load_state()
    assert page.get_by_text("1 marked no-show; the forum is held.").is_visible()
    assert_accessible(page)

    # 4. Follow-up: refer one of those who came.
    page.goto(f"{live_server}/participants/{ids['avery']}")
    page.get_by_label("Service (required)").select_option(str(ids["service"]))
    page.get_by_label("Note for the provider").fill("Met at the call-in; wants to start work.")
    page.get_by_role("button", name="Send referral").click()
    page.wait_for_load_state()
    assert page.get_by_text("Referral to Transitional jobs sent.").is_visible()
    assert_accessible(page)

    settle()
    states = dict(db.session.execute(sa.select(Participant.id, Participant.state).where(
        Participant.id.in_([ids["avery"], ids["brooks"], ids["cole"]]))).all())
    assert states == {ids["avery"]: State.ATTENDED, ids["brooks"]: State.ATTENDED, ids["cole"]: State.IDENTIFIED}
    attended = dict(db.session.execute(sa.select(Invitation.participant_id, Invitation.attended)
                                       .where(Invitation.forum_id == ids["forum"])).all())
    assert attended == {ids["avery"]: True, ids["brooks"]: True, ids["cole"]: False}
    assert db.session.get(Forum, ids["forum"]).status == ForumStatus.HELD
    assert db.session.scalar(sa.select(Referral.participant_id)) == ids["avery"]
