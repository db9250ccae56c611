"""Forums, past and present (API.md): a program enters its history (past forums, speakers, notes), a forum's
details change, and its status moves planned -> held | cancelled and no further."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from api_support import assert_error, records

from ceasefire.extensions import db
from ceasefire.models import AuditEvent, Forum

PAST = "2024-03-14T23:00:00Z"


def _forum(api, **fields) -> dict:
    status, body = api.post("/forums", json={"title": "Spring call-in", "scheduled_at": PAST} | fields)
    assert status == 201, body
    return body


def test_a_past_forum_with_speakers_and_notes(users, api_as):
    body = _forum(api_as(users["caseworker"]), speakers="Chief Ruiz; Pastor Hill", notes="Forty seats.")
    assert (body["scheduled_at"], body["status"], body["speakers"], body["notes"]) == (
        PAST, "planned", "Chief Ruiz; Pastor Hill", "Forty seats."
    )


def test_patch_changes_the_fields_sent_and_no_other(users, api_as):
    api = api_as(users["supervisor"])
    forum = _forum(api, location="Fieldhouse")
    status, body = api.patch(f"/forums/{forum['id']}", json={
        "title": "Spring call-in (moved)", "scheduled_at": "2024-03-15T17:30:00+01:00", "speakers": "Chief Ruiz",
    })
    assert status == 200, body
    assert body | {"invitations": []} == forum | {
        "title": "Spring call-in (moved)", "scheduled_at": "2024-03-15T16:30:00Z", "speakers": "Chief Ruiz",
    }
    row = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "update")).one()
    assert (row.object_type, row.object_id, row.detail) == ("forum", forum["id"], "title,scheduled_at,speakers")


@pytest.mark.parametrize("final", ["held", "cancelled"])
def test_status_moves_from_planned_once_and_the_same_status_changes_nothing(users, api_as, final):
    api = api_as(users["caseworker"])
    forum = _forum(api)
    status, body = api.patch(f"/forums/{forum['id']}", json={"status": "planned"})
    assert (status, body["status"]) == (200, "planned")
    status, body = api.patch(f"/forums/{forum['id']}", json={"status": final})
    assert (status, body["status"]) == (200, final)
    status, body = api.patch(f"/forums/{forum['id']}", json={"status": final})
    assert (status, body["status"]) == (200, final)
    before = records()
    for other in {"planned", "held", "cancelled"} - {final}:
        status, body = api.patch(f"/forums/{forum['id']}", json={"status": other, "notes": "Changed my mind."})
        assert_error(status, body, 409, "invalid_transition")
    assert records() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "postponed"}, "status"),
        ({"status": None}, "status"),
        ({"title": ""}, "title"),
        ({"title": None}, "title"),
        ({"scheduled_at": None}, "scheduled_at"),
        ({"scheduled_at": "next Tuesday"}, "scheduled_at"),
        ({"location": "x" * 201}, "location"),
        ({"room": "B"}, "room"),
    ],
)
def test_bad_values_are_422_and_change_nothing(users, api_as, body, field):
    api = api_as(users["caseworker"])
    forum = _forum(api)
    before = records()
    status, answer = api.patch(f"/forums/{forum['id']}", json=body)
    assert_error(status, answer, 422, "validation_failed", field)
    assert records() == before


def test_who_may_patch(users, api_as):
    forum = _forum(api_as(users["caseworker"]))
    for role in ("police", "provider", "community", "admin"):
        status, body = api_as(users[role]).patch(f"/forums/{forum['id']}", json={"location": "Union Hall"})
        assert_error(status, body, 403, "forbidden")
    status, body = api_as(users["caseworker"]).patch("/forums/999999", json={"location": "Union Hall"})
    assert_error(status, body, 404, "not_found")
    status, body = api_as(users["caseworker"]).patch(f"/forums/{forum['id']}", data="not json",
                                                     content_type="application/json")
    assert_error(status, body, 400, "bad_request")


def test_a_past_forums_roster_is_entered_before_it_is_set_held(users, api_as, make_participant):
    api = api_as(users["caseworker"])
    forum = _forum(api)
    came, later = make_participant(), make_participant()
    status, body = api.post(f"/participants/{came.id}/events",
                            json={"event": "invite", "version": 1, "forum_id": forum["id"], "method": "letter"})
    assert status == 200, body
    status, body = api.post(f"/participants/{came.id}/events", json={"event": "attend", "version": 2})
    assert (status, body["state"]) == (200, "attended")
    status, body = api.patch(f"/forums/{forum['id']}", json={"status": "held"})
    assert status == 200
    assert [(i["participant_id"], i["attended"]) for i in body["invitations"]] == [(came.id, True)]
    status, body = api.post(f"/participants/{later.id}/events",
                            json={"event": "invite", "version": 1, "forum_id": forum["id"], "method": "letter"})
    assert_error(status, body, 422, "validation_failed", "forum_id")
    assert db.session.get(Forum, forum["id"]).scheduled_at < datetime.now(UTC) - timedelta(days=30)
