"""Check-in waits for the forum's day, in the program's time zone (DESIGN.md §2, API.md `attend`): a person cannot
attend a forum that has not happened. Past forums stay open to check-in, so a program can enter its history.
The rule is the pipeline's guard, so the API and the pages refuse alike."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from api_support import assert_error, records

from ceasefire.extensions import db
from ceasefire.models import Participant
from ceasefire.models.enums import State
from ceasefire.services import events


# UTC+14 and UTC-11: whatever the hour in UTC, one of them is on another date than UTC, so a check made in UTC
# instead of the program's zone fails one of these.
@pytest.fixture(params=["Pacific/Kiritimati", "Pacific/Pago_Pago"])
def app_config(request, app_config):
    return app_config | {"TIMEZONE": request.param}


def _local(app, day_offset: int, hour: int, minute: int = 0) -> datetime:
    """A time on the program's calendar (today + day_offset, at hour:minute local), as UTC."""
    zone = ZoneInfo(app.config["TIMEZONE"])
    day = datetime.now(zone).date() + timedelta(days=day_offset)
    return datetime.combine(day, time(hour, minute), zone).astimezone(UTC)


def _invited(users, make_participant, make_forum, when: datetime) -> Participant:
    sup = users["supervisor"]
    p = make_participant(sup)
    events.invite(sup, p, p.version, make_forum(when=when).id, "letter")
    db.session.commit()
    return p


def test_the_api_refuses_check_in_before_the_forums_day(app, users, api_as, make_participant, make_forum):
    tomorrow_early = _local(app, 1, 0, 5)  # five past midnight tomorrow, program time
    p = _invited(users, make_participant, make_forum, tomorrow_early)
    before = records()
    status, body = api_as(users["police"]).post(f"/participants/{p.id}/events",
                                                json={"event": "attend", "version": p.version})
    fields = assert_error(status, body, 422, "validation_failed", "forum")
    assert "cannot attend a forum that has not happened" in body["error"]["message"]
    assert tomorrow_early.astimezone(ZoneInfo(app.config["TIMEZONE"])).date().isoformat() in fields["forum"]
    assert records() == before


@pytest.mark.parametrize("when", [(0, 23, 59), (0, 0, 0), (-30, 18, 0)], ids=["tonight", "this-midnight", "past"])
def test_the_api_checks_in_on_the_day_and_after(app, users, api_as, make_participant, make_forum, when):
    p = _invited(users, make_participant, make_forum, _local(app, *when))
    status, body = api_as(users["police"]).post(f"/participants/{p.id}/events",
                                                json={"event": "attend", "version": p.version})
    assert (status, body["state"]) == (200, "attended"), body


def test_the_page_says_why_and_offers_no_button_before_the_day(app, client, auth, users, make_participant,
                                                                make_forum):
    next_week = _local(app, 7, 18)
    p = _invited(users, make_participant, make_forum, next_week)
    auth.login(users["caseworker"])
    response = client.post(f"/participants/{p.id}/events/attend", data={"version": p.version})
    assert response.status_code == 422
    assert "a person cannot attend a forum that has not happened" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Participant, p.id).state == State.INVITED


@pytest.mark.parametrize("status", ["held", "cancelled"])
def test_check_in_needs_a_planned_forum(app, users, api_as, make_participant, make_forum, status):
    """API.md: invitations and check-ins need a planned forum; a past forum's roster is entered before it is held."""
    p = _invited(users, make_participant, make_forum, _local(app, -3, 18))
    sup = api_as(users["supervisor"])
    forum_id = events.open_invitation(p).forum_id
    assert sup.patch(f"/forums/{forum_id}", json={"status": status})[0] == 200
    before = records()
    status_code, body = api_as(users["police"]).post(f"/participants/{p.id}/events",
                                                     json={"event": "attend", "version": p.version})
    fields = assert_error(status_code, body, 422, "validation_failed", "forum")
    assert "planned forum" in fields["forum"]
    assert records() == before
