"""Outcomes (API.md "Outcomes"): what happened to a participant after the fact, by role, dated in the program's
time zone, each write and read an audit row."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from api_support import assert_error, records

from ceasefire.extensions import db
from ceasefire.models import AuditEvent, Outcome
from ceasefire.models.enums import OutcomeType, Role
from ceasefire.services.clock import program_today as today

POLICE_TYPES = {"arrested", "arrested_violent", "incarcerated", "shot", "killed"}


def _audit(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_a_caseworker_records_an_outcome_and_reads_them_newest_first(users, api_as, make_participant):
    p = make_participant()
    api = api_as(users["caseworker"])
    day = today() - timedelta(days=3)
    status, body = api.post(f"/participants/{p.id}/outcomes",
                            json={"type": "employed", "occurred_on": day.isoformat(), "note": " Warehouse job "})
    assert status == 201, body
    assert set(body) == {"id", "participant_id", "type", "occurred_on", "note", "recorded_by", "recorded_at"}
    assert (body["participant_id"], body["type"], body["occurred_on"], body["note"], body["recorded_by"]) == (
        p.id, "employed", day.isoformat(), "Warehouse job", users["caseworker"].id
    )
    assert body["recorded_at"].endswith("Z")
    [created] = _audit("create")[-1:]
    assert (created.object_type, created.object_id, created.participant_id) == ("outcome", body["id"], p.id)

    status, later = api.post(f"/participants/{p.id}/outcomes",
                             json={"type": "enrolled_education", "occurred_on": today().isoformat()})
    assert status == 201, later
    status, earlier = api.post(f"/participants/{p.id}/outcomes",
                               json={"type": "shot", "occurred_on": (day - timedelta(days=30)).isoformat()})
    assert status == 201
    status, listing = api.get(f"/participants/{p.id}/outcomes")
    assert status == 200
    assert [o["id"] for o in listing["items"]] == [later["id"], body["id"], earlier["id"]]
    assert listing["items"][1] == body
    [viewed] = _audit("view")[-1:]
    assert (viewed.object_type, viewed.object_id, viewed.user_id) == ("participant", p.id, users["caseworker"].id)


def test_police_record_and_see_only_their_types(users, api_as, make_participant):
    p = make_participant()
    sup, police = api_as(users["supervisor"]), api_as(users["police"])
    day = today().isoformat()
    for kind in OutcomeType:
        status, _ = sup.post(f"/participants/{p.id}/outcomes", json={"type": kind.value, "occurred_on": day})
        assert status == 201
    status, listing = police.get(f"/participants/{p.id}/outcomes")
    assert status == 200
    assert {o["type"] for o in listing["items"]} == POLICE_TYPES
    status, listing = sup.get(f"/participants/{p.id}/outcomes")
    assert {o["type"] for o in listing["items"]} == {t.value for t in OutcomeType}

    before = records()
    for kind in ("employed", "enrolled_education"):
        status, body = police.post(f"/participants/{p.id}/outcomes", json={"type": kind, "occurred_on": day})
        assert_error(status, body, 403, "forbidden")
        # even with a body that is wrong otherwise: the role is judged first
        status, body = police.post(f"/participants/{p.id}/outcomes", json={"type": kind, "occurred_on": "soon"})
        assert_error(status, body, 403, "forbidden")
    assert records() == before
    status, body = police.post(f"/participants/{p.id}/outcomes", json={"type": "arrested_violent", "occurred_on": day})
    assert status == 201, body


@pytest.mark.parametrize("role", [Role.PROVIDER, Role.COMMUNITY, Role.ADMIN])
def test_providers_community_and_admins_get_403_whatever_the_id(users, api_as, make_participant, role):
    p = make_participant(community_org_id=users["community"].organization_id)
    api = api_as(users[role])
    for pid in (p.id, 999999):
        status, body = api.get(f"/participants/{pid}/outcomes")
        assert_error(status, body, 403, "forbidden")
        status, body = api.post(f"/participants/{pid}/outcomes",
                                json={"type": "arrested", "occurred_on": today().isoformat()})
        assert_error(status, body, 403, "forbidden")
    assert db.session.scalar(sa.select(sa.func.count(Outcome.id))) == 0


def test_a_missing_participant_is_404_for_those_who_see_outcomes(users, api_as):
    status, body = api_as(users["caseworker"]).get("/participants/999999/outcomes")
    assert_error(status, body, 404, "not_found")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"occurred_on": "2026-01-02"}, "type"),
        ({"type": "arrested"}, "occurred_on"),
        ({"type": "robbed", "occurred_on": "2026-01-02"}, "type"),
        ({"type": "arrested", "occurred_on": "2026-02-30"}, "occurred_on"),
        ({"type": "arrested", "occurred_on": "2026-01-02", "note": "x" * 5001}, "note"),
        ({"type": "arrested", "occurred_on": "2026-01-02", "where": "Oak St"}, "where"),
    ],
)
def test_bad_bodies_are_422_and_write_nothing(users, api_as, make_participant, body, field):
    p = make_participant()
    before = records()
    status, answer = api_as(users["caseworker"]).post(f"/participants/{p.id}/outcomes", json=body)
    assert_error(status, answer, 422, "validation_failed", field)
    assert records() == before


# UTC+14 and UTC-11: whatever the hour in UTC, one of them has another date than UTC, so a check made in UTC
# instead of the program's zone fails one of these.
@pytest.fixture(params=["Pacific/Kiritimati", "Pacific/Pago_Pago"])
def app_config(request, app_config):
    return app_config | {"TIMEZONE": request.param}


def test_not_in_the_future_means_the_programs_today(users, api_as, make_participant, app):
    local_today = datetime.now(ZoneInfo(app.config["TIMEZONE"])).date()
    p = make_participant()
    api = api_as(users["caseworker"])
    status, body = api.post(f"/participants/{p.id}/outcomes",
                            json={"type": "employed", "occurred_on": (local_today + timedelta(days=1)).isoformat()})
    assert_error(status, body, 422, "validation_failed", "occurred_on")
    status, body = api.post(f"/participants/{p.id}/outcomes",
                            json={"type": "employed", "occurred_on": local_today.isoformat()})
    assert status == 201, body
