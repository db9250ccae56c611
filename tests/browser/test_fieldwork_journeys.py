"""Issue #9's journeys in Chromium, as a person would click them: a community user logs an outreach contact and sees
nothing else; a supervisor reads the whole timeline and records a custom notification. axe-core finds no serious or
critical violation on any page on the way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from helpers import Program

from ceasefire.extensions import db
from ceasefire.models import OutreachContact
from ceasefire.models.base import today
from ceasefire.models.enums import OutcomeType, ReferralStatus
from ceasefire.services import fieldwork, outcomes
from ceasefire.services import referrals as referral_service

SECRETS = ("Seen with the Oak St crew", "Wants to finish his GED", "RD-1234", "Shots fired", "Transitional jobs",
           "Porch of the police", "Andre", "Walker", "Warehouse")


def _story(users) -> tuple[int, int]:
    """Darnell Hayes, assigned to the community user's group, through the whole program; Andre Walker, not assigned.
    Field work the community user's group did not take part in, and some it did."""
    sup, police, community = users["supervisor"], users["police"], users["community"]
    users["provider"].organization.name = "Second Chance Employment"
    program = Program.build(sup, users["provider"].organization)
    with program.batch():
        forum = program.forum()
        forum.scheduled_at = datetime.now(UTC) - timedelta(days=3)
        p = program.create(first_name="Darnell", last_name="Hayes", community_org_id=community.organization_id)
        program.fire(p, "invite", forum_id=forum.id, method="probation_condition")
        program.fire(p, "attend")
        referral = program.refer(p)
        referral_service.set_status(users["provider"], referral, ReferralStatus.ACCEPTED)
        program.fire(p, "offer_services")
        two_days_ago = datetime.now(UTC) - timedelta(days=2)
        fieldwork.record_custom_notification(sup, p, two_days_ago, "Porch of the police", "Stop.", None, [police.id])
        fieldwork.record_custom_notification(sup, p, two_days_ago, "Porch with the pastors", "We want you alive.",
                                             "Listened.", [police.id, community.id])
        fieldwork.write_note(sup, p, "Seen with the Oak St crew on Friday.", "police_only")
        fieldwork.write_note(sup, p, "Wants to finish his GED.", "services_team")
        fieldwork.write_note(sup, p, "Lives with his aunt now.", "all_staff")
        outcomes.record_outcome(sup, p, OutcomeType.EMPLOYED, today() - timedelta(days=1), "Warehouse")
        program.fire(p, "enforce", action_type="arrest", occurred_on=today(), agency_id=program.police_org.id,
                     incident_ref="RD-1234", description="Shots fired on Oak St.")
        other = program.create(first_name="Andre", last_name="Walker")
    return p.id, other.id


def test_a_community_user_logs_an_outreach_contact_and_sees_nothing_else(
    page, live_server, sign_in, users, settle, assert_accessible
):
    pid, _other = _story(users)
    sign_in(page, users["community"])
    page.goto(live_server + "/participants/")
    assert_accessible(page)
    assert page.get_by_role("link", name="Hayes, Darnell").count() == 1
    assert "Walker" not in page.content()
    page.get_by_role("link", name="Hayes, Darnell").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/participants/{pid}")
    assert_accessible(page)

    page.get_by_label("When").fill("2026-01-05T18:30")
    page.get_by_label("Kind of contact").select_option("visit")
    page.get_by_label("What came of it").fill("Talked on the porch; he will call Tuesday.")
    page.get_by_role("button", name="Log contact").click()
    page.wait_for_load_state()
    assert "The outreach contact was logged." in page.content()
    assert_accessible(page)

    timeline = page.locator("#timeline")
    assert timeline.get_by_text("Outreach visit").count() == 1
    assert timeline.get_by_text("Talked on the porch; he will call Tuesday.").count() == 1
    # Of the visits, only the one the group went on; of the forum, only that he attended; nothing else.
    assert timeline.get_by_text("Custom notification at Porch with the pastors").count() == 1
    assert timeline.get_by_text("Attended Call-in forum").count() == 1
    assert timeline.locator("li").count() == 3
    html = page.content()
    for secret in (*SECRETS, "Lives with his aunt", "Probation condition", "Enforcement", "Consent"):
        assert secret not in html, secret
    assert page.get_by_role("button", name="Save note").count() == 0

    settle()
    contact = db.session.scalars(sa.select(OutreachContact)).one()
    assert (contact.participant_id, contact.user_id, contact.kind) == (pid, users["community"].id, "visit")


def test_a_supervisor_reads_the_whole_timeline_and_records_a_custom_notification(
    page, live_server, sign_in, users, settle, assert_accessible
):
    pid, _other = _story(users)
    sign_in(page, users["supervisor"])
    page.goto(live_server + "/participants/")
    page.get_by_role("link", name="Hayes, Darnell").click()
    page.wait_for_load_state()
    assert_accessible(page)
    timeline = page.locator("#timeline")
    titles = timeline.locator(".what").all_inner_texts()
    # Pipeline 5, invitation 2, referral 2, consent 1, custom notifications 2, notes 3, enforcement 1, outcome 1.
    assert len(titles) == 17
    assert titles[0] == "Enforce: services offered → enforced"
    for title in ("Create: identified", "Invited to Call-in forum", "Checked in at Call-in forum",
                  "Referral to Transitional jobs (Second Chance Employment): accepted", "Consent to share given",
                  "Custom notification at Porch of the police", "Note (police only)", "Note (services team)",
                  "Enforcement: arrest", "Outcome: employed"):
        assert title in titles, title
    assert page.locator("#outcomes").get_by_text("Warehouse").count() == 1

    page.get_by_role("link", name="Record a custom notification…").click()
    page.wait_for_load_state()
    assert_accessible(page)
    page.get_by_label("When").fill("2026-01-06T19:00")
    page.get_by_label("Where").fill("Grandmother's house, 5th St")
    page.get_by_label(f"{users['police'].name} (police)").check()
    page.get_by_label("The message delivered").fill("Your community wants you alive and free.")
    page.get_by_label("The person's response").fill("Thanked us.")
    page.get_by_role("button", name="Record custom notification").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/participants/{pid}#timeline")
    assert page.locator("#timeline").get_by_text("Custom notification at Grandmother's house, 5th St").count() == 1
    assert_accessible(page)
