"""Issue #10, time and words: times are shown and read in the program's time zone (TIMEZONE; here Los Angeles, as
in the demo), and the message after an action says what happened as a caseworker would ("Marcus Reed checked in",
"Referral to Hope Jobs accepted"), never "is now attended"."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from helpers import text

from ceasefire.extensions import db
from ceasefire.models import ApiToken, Forum, Referral
from ceasefire.services import events

LA = ZoneInfo("America/Los_Angeles")


@pytest.fixture
def app_config(app_config):
    return app_config | {"TIMEZONE": "America/Los_Angeles"}


def fire(actor, participant, name, **data):
    events.perform(actor, participant, participant.version, name, data)
    db.session.commit()


def test_a_forum_time_is_typed_and_shown_in_local_time(client, auth, users):
    auth.login(users["caseworker"])
    response = client.post("/forums/new", data={"title": "Call-in, December", "scheduled_at": "2030-12-01T18:00"})
    assert response.status_code == 302
    forum = db.session.scalar(sa.select(Forum).where(Forum.title == "Call-in, December"))
    # 18:00 in Los Angeles in December (PST, UTC-8) is 02:00 UTC the next day.
    assert forum.scheduled_at == datetime(2030, 12, 2, 2, 0, tzinfo=UTC)
    page = text(client.get(response.headers["Location"]))
    assert "2030-12-01 18:00 PST" in page
    assert "02:00" not in page
    assert "Local time (America/Los_Angeles)" in text(client.get("/forums/new"))


def test_the_profile_shows_token_times_in_local_time(client, auth, users):
    auth.login(users["caseworker"])
    client.post("/profile/tokens", data={"name": "case import", "expires_in_days": "30"})
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.name == "case import"))
    created = token.created_at.astimezone(LA)
    page = text(client.get("/profile"))
    assert f"{created:%Y-%m-%d %H:%M} {created.tzname()}" in page


def test_check_in_says_who_checked_in(client, auth, users, make_participant, make_forum):
    sup = users["supervisor"]
    forum = make_forum()
    marcus = make_participant(sup, first_name="Marcus", last_name="Reed")
    fire(sup, marcus, "invite", forum_id=forum.id, method="letter")
    auth.login(users["police"])
    response = client.post(f"/participants/{marcus.id}/events/attend",
                           data={"version": marcus.version, "next": f"/forums/{forum.id}"})
    page = text(client.get(response.headers["Location"]))
    assert "Marcus Reed checked in." in page
    assert "is now" not in page


def test_invite_and_close_in_words(client, auth, users, make_participant, make_forum):
    forum = make_forum()
    marcus = make_participant(users["caseworker"], first_name="Marcus", last_name="Reed")
    auth.login(users["caseworker"])
    response = client.post(f"/participants/{marcus.id}/events/invite",
                           data={"version": marcus.version, "forum_id": forum.id, "method": "letter"})
    assert response.status_code == 302
    assert f"Marcus Reed invited to “{forum.title}”." in text(client.get(response.headers["Location"]))
    db.session.refresh(marcus)
    response = client.post(f"/participants/{marcus.id}/events/no_show", data={"version": marcus.version})
    assert f"Marcus Reed marked as not attending “{forum.title}”." in text(client.get(response.headers["Location"]))
    db.session.refresh(marcus)
    response = client.post(f"/participants/{marcus.id}/events/close", data={"version": marcus.version,
                                                                           "reason": "moved"})
    assert "Marcus Reed&#39;s case closed." in text(client.get(response.headers["Location"]))


def test_referral_messages_name_the_service_and_the_person(client, auth, users, make_participant, make_service):
    provider = users["provider"]
    service = make_service(provider.organization, name="Hope Jobs")
    marcus = make_participant(users["caseworker"], first_name="Marcus", last_name="Reed", consent_to_share=True)
    auth.login(users["caseworker"])
    sent = client.post(f"/participants/{marcus.id}/referrals", data={"service_id": service.id, "note": ""})
    assert "Referral to Hope Jobs sent." in text(client.get(sent.headers["Location"]))
    referral = referral_of(marcus.id)
    auth.logout()
    auth.login(provider)
    accepted = client.post(f"/referrals/{referral}/status", data={"status": "accepted"})
    assert "Referral to Hope Jobs accepted." in text(client.get(accepted.headers["Location"]))
    enrolled = client.post(f"/referrals/{referral}/status", data={"status": "enrolled"})
    page = text(client.get(enrolled.headers["Location"]))
    assert "Marcus Reed enrolled in Hope Jobs." in page
    assert "The referral is now" not in page


def referral_of(participant_id: int) -> int:
    return db.session.scalar(sa.select(Referral.id).where(Referral.participant_id == participant_id))


def test_the_enforcement_form_offers_the_programs_day(client, auth, users, make_participant):
    marcus = make_participant(users["police"], first_name="Marcus", last_name="Reed")
    auth.login(users["police"])
    page = text(client.get(f"/participants/{marcus.id}/events/enforce"))
    assert f'value="{datetime.now(LA).date().isoformat()}"' in page
