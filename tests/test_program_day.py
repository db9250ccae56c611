"""API.md: where a rule says *today*, the day is the one in the program's time zone (TIMEZONE), not UTC's. A person
identified at 5 pm in Los Angeles is identified that day, not on UTC's tomorrow; a date of birth of the program's
today is not in the future; a consent given today is given on the program's day."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from api_support import assert_error, records

from ceasefire.extensions import db
from ceasefire.models import Consent


# UTC+14 and UTC-11: whatever the hour in UTC, one of them has another date than UTC, so a day taken in UTC instead
# of the program's zone fails one of these.
@pytest.fixture(params=["Pacific/Kiritimati", "Pacific/Pago_Pago"])
def app_config(request, app_config):
    return app_config | {"TIMEZONE": request.param}


@pytest.fixture
def local_today(app):
    return datetime.now(ZoneInfo(app.config["TIMEZONE"])).date()


def test_a_person_identified_now_is_identified_on_the_programs_today(users, api_as, local_today):
    api = api_as(users["caseworker"])
    status, body = api.post("/participants", json={"first_name": "Ana", "last_name": "Reyes"})
    assert status == 201, body
    day = local_today.isoformat()
    status, report = api.get(f"/reports/identification?from={day}&to={day}")
    assert status == 200, report
    assert report["total"] == 1


def test_a_date_of_birth_of_the_programs_today_is_not_in_the_future(users, api_as, local_today):
    api = api_as(users["caseworker"])
    before = records()
    status, body = api.post("/participants", json={
        "first_name": "Ana", "last_name": "Reyes", "date_of_birth": (local_today + timedelta(days=1)).isoformat()})
    assert_error(status, body, 422, "validation_failed", "date_of_birth")
    assert records() == before
    status, body = api.post("/participants", json={
        "first_name": "Ana", "last_name": "Reyes", "date_of_birth": local_today.isoformat()})
    assert status == 201, body


def test_a_consent_given_and_revoked_now_is_dated_the_programs_today(users, api_as, make_participant, local_today):
    p = make_participant()
    api = api_as(users["caseworker"])
    status, body = api.patch(f"/participants/{p.id}", json={"consent_to_share": True, "version": p.version})
    assert status == 200, body
    assert body["consent_to_share"] is True
    consent = db.session.scalars(sa.select(Consent).where(Consent.participant_id == p.id)).one()
    assert consent.given_on == local_today
    status, body = api.patch(f"/participants/{p.id}", json={"consent_to_share": False, "version": body["version"]})
    assert status == 200, body
    assert body["consent_to_share"] is False
    db.session.expire_all()
    assert db.session.get(Consent, consent.id).revoked_on == local_today
