"""Due process and retention (issue #11, API.md "Due process and retention"): the review date the system keeps, the
review queue, retain and purge, removal requests and their 30-day clock, identification criteria."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from api_support import assert_error, records

from ceasefire.extensions import db
from ceasefire.models import AuditEvent, IdentificationCriterion, Participant, RemovalRequest, StatusChange
from ceasefire.models.enums import Role
from ceasefire.services import events, retention, retention_read
from ceasefire.services import participants as participant_service

TODAY = date(2026, 11, 30)
GROUNDS = "He moved to Ohio in 2024 and has no contact with any group."


@pytest.fixture
def on_day(monkeypatch):
    """Fix the day the services read as today (identification, reviews, the 30-day clock)."""

    def set_day(day: date) -> None:
        monkeypatch.setattr(participant_service, "today", lambda: day)
        monkeypatch.setattr(retention, "program_today", lambda: day)
        monkeypatch.setattr(retention_read, "program_today", lambda: day)

    set_day(TODAY)
    return set_day


def _audit(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def _criterion(name: str = "Involved in a shooting in the last 12 months") -> IdentificationCriterion:
    criterion = IdentificationCriterion(name=name)
    db.session.add(criterion)
    db.session.commit()
    return criterion


# The review date


@pytest.mark.parametrize(("identified", "period", "due"), [
    (date(2024, 2, 29), 1826, date(2029, 2, 28)),  # a leap day; five years hold one more leap day (2028)
    (date(2021, 3, 1), 1826, date(2026, 3, 1)),  # 2024-02-29 inside the five years
    (date(2024, 1, 31), 30, date(2024, 3, 1)),  # a month end, across February of a leap year
    (date(2023, 1, 31), 30, date(2023, 3, 2)),  # the same in a common year
])
def test_the_review_date_is_identification_plus_the_period(app, users, api_as, on_day, identified, period, due):
    app.config["REVIEW_PERIOD_DAYS"] = period
    on_day(identified)
    for role in ("supervisor", "caseworker", "police"):
        body = {"first_name": "Ann", "last_name": role}
        if role == "police":
            body["identification_basis"] = "Named in a shooting review."
        status, created = api_as(users[role]).post("/participants", json=body)
        assert status == 201, created
        assert created.get("identified_on", identified.isoformat()) == identified.isoformat()  # caseworkers: absent
        assert created["review_due_on"] == due.isoformat(), role


def test_the_default_period_is_five_years_and_a_day(app):
    assert app.config["REVIEW_PERIOD_DAYS"] == 1826


def test_retain_restarts_the_clock_from_today(users, api_as, make_participant, on_day):
    on_day(date(2021, 5, 4))
    p = make_participant(users["supervisor"])
    assert p.review_due_on == date(2026, 5, 4)
    on_day(date(2028, 2, 29))
    api = api_as(users["supervisor"])
    status, body = api.post(f"/participants/{p.id}/review",
                            json={"decision": "retain", "reason": "Shot at in January; still at very high risk."})
    assert status == 200, body
    assert (body["id"], body["review_due_on"], body["state"]) == (p.id, "2033-02-28", "identified")
    assert body["version"] == 2
    last = db.session.scalars(sa.select(StatusChange).where(StatusChange.participant_id == p.id)
                              .order_by(StatusChange.id.desc())).first()
    assert (last.event, last.from_state, last.to_state, last.reason) == (
        "review", "identified", "identified", "Shot at in January; still at very high risk."
    )
    [row] = _audit("review")
    assert (row.object_type, row.object_id, row.participant_id, row.detail) == ("participant", p.id, p.id, "retain")
    assert _audit("purge") == []


@pytest.mark.parametrize(("body", "field"), [
    ({"decision": "keep", "reason": "x"}, "decision"),
    ({"decision": "retain"}, "reason"),
    ({"decision": "retain", "reason": "   "}, "reason"),
    ({"decision": "retain", "reason": "x", "review_due_on": "2040-01-01"}, "review_due_on"),
])
def test_a_bad_review_is_422_and_changes_nothing(users, api_as, make_participant, body, field):
    p = make_participant()
    before = records()
    status, answer = api_as(users["supervisor"]).post(f"/participants/{p.id}/review", json=body)
    assert_error(status, answer, 422, "validation_failed", field)
    assert records() == before


def test_the_review_queue_most_overdue_first(users, api_as, make_participant, on_day):
    sup = users["supervisor"]
    made = {}
    for name, day in [("late", date(2021, 1, 10)), ("later", date(2020, 6, 1)), ("soon", date(2021, 12, 20)),
                      ("fresh", date(2026, 11, 1))]:
        on_day(day)
        made[name] = make_participant(sup, last_name=name)
    on_day(TODAY)
    closed = made["later"]
    events.perform(sup, closed, closed.version, "close", {"reason": "moved"})
    db.session.commit()
    api = api_as(sup)
    status, body = api.get("/reviews")
    assert status == 200, body
    # later: due 2025-06-01 (1826 days after 2020-06-01), 547 days before 2026-11-30; late: 2026-01-10, 324 days.
    assert body["items"] == [
        {"participant_id": made["later"].id, "review_due_on": "2025-06-01", "state": "closed", "days_overdue": 547},
        {"participant_id": made["late"].id, "review_due_on": "2026-01-10", "state": "identified", "days_overdue": 324},
    ]
    assert (body["total"], body["page"], body["per_page"]) == (2, 1, 50)
    status, body = api.get("/reviews?due_before=2026-12-21")
    assert [(i["participant_id"], i["days_overdue"]) for i in body["items"]] == [
        (made["later"].id, 547), (made["late"].id, 324), (made["soon"].id, -20),
    ]
    assert_error(*api.get("/reviews?due_before=2026-02-30"), 422, "validation_failed", "due_before")


def test_only_supervisors_review(users, api_as, make_participant):
    p = make_participant()
    for role in Role:
        if role == Role.SUPERVISOR:
            continue
        api = api_as(users[role])
        assert_error(*api.get("/reviews"), 403, "forbidden")
        for pid in (p.id, 999_999):
            assert_error(*api.post(f"/participants/{pid}/review", json={"decision": "retain", "reason": "x"}),
                         403, "forbidden")


# The review date is the system's: no field of any form or endpoint sets it.


def test_no_endpoint_sets_the_review_date(users, api_as, make_participant):
    p = make_participant()
    due = p.review_due_on
    before = records()
    for role in Role:
        api = api_as(users[role])
        status, body = api.post("/participants", json={"first_name": "A", "last_name": "B",
                                                       "review_due_on": "2099-01-01"})
        expected = 422 if role in (Role.CASEWORKER, Role.SUPERVISOR, Role.POLICE) else 403
        assert status == expected, (role, body)
        if expected == 422:
            assert "review_due_on" in body["error"]["fields"]
        status, body = api.patch(f"/participants/{p.id}", json={"version": p.version, "review_due_on": "2099-01-01"})
        assert status == {Role.PROVIDER: 404, Role.COMMUNITY: 404}.get(role, expected), (role, body)
        for event in ({"event": "close", "reason": "moved"}, {"event": "reopen", "reason": "x"}):
            status, body = api.post(f"/participants/{p.id}/events",
                                    json=event | {"version": p.version, "review_due_on": "2099-01-01"})
            assert status in (403, 404, 409, 422), (role, body)
    assert records() == before
    db.session.expire_all()
    assert db.session.get(Participant, p.id).review_due_on == due


def test_no_form_has_a_review_date_field(app):
    from flask_wtf import FlaskForm
    from wtforms.fields.core import UnboundField

    stack, names = [FlaskForm], set()
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        names.update(n for n in dir(cls) if isinstance(getattr(cls, n, None), UnboundField))
    assert "decision" in names
    assert "received_on" in names
    assert not {n for n in names if "review" in n or n.endswith("due_on")}


def test_posting_a_review_date_to_the_pages_changes_nothing(users, auth, client, make_participant):
    p = make_participant()
    due = p.review_due_on
    auth.login(users["supervisor"])
    response = client.post(f"/participants/{p.id}/edit", data={
        "version": p.version, "first_name": p.first_name, "last_name": "Renamed", "supervision_status": "none",
        "review_due_on": "2099-01-01",
    })
    assert response.status_code == 302
    response = client.post("/participants/new", data={
        "first_name": "New", "last_name": "Person", "supervision_status": "none", "review_due_on": "2099-01-01",
    })
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Participant, p.id).last_name == "Renamed"
    assert db.session.get(Participant, p.id).review_due_on == due
    newest = db.session.scalars(sa.select(Participant).order_by(Participant.id.desc())).first()
    assert newest.review_due_on == newest.identified_on + retention.review_period()


# Identification criteria


def test_police_tick_at_least_one_active_criterion(users, api_as):
    shooting = _criterion()
    retired = _criterion("Retired rule")
    retired.retired_on = date(2026, 1, 1)
    db.session.commit()
    api = api_as(users["police"])
    base = {"first_name": "Ann", "last_name": "Lee", "identification_basis": "Named by two sources."}
    assert_error(*api.post("/participants", json=base), 422, "validation_failed", "criteria")
    assert_error(*api.post("/participants", json=base | {"criteria": [retired.id]}), 422, "validation_failed",
                 "criteria")
    assert_error(*api.post("/participants", json=base | {"criteria": [999]}), 422, "validation_failed", "criteria")
    status, body = api.post("/participants", json=base | {"criteria": [shooting.id]})
    assert status == 201, body
    assert body["criteria"] == [{"id": shooting.id, "name": shooting.name, "retired": False}]
    # Retiring the criterion takes it off the list and leaves the participant as identified.
    retention.retire_criterion(users["supervisor"], shooting)
    db.session.commit()
    status, body = api.get(f"/participants/{body['id']}")
    assert body["criteria"] == [{"id": shooting.id, "name": shooting.name, "retired": True}]
    assert retention.active_criteria() == []
    # A caseworker may not see criteria, and so may not set them.
    status, body = api_as(users["caseworker"]).post("/participants", json={"first_name": "A", "last_name": "B",
                                                                           "criteria": [shooting.id]})
    assert_error(status, body, 403, "forbidden", "criteria")


# Removal requests and the 30-day clock


@pytest.mark.parametrize(("received", "due"), [
    ("2024-01-30", "2024-02-29"),  # onto a leap day
    ("2024-02-10", "2024-03-11"),  # across a leap February
    ("2023-02-10", "2023-03-12"),  # across a common February
    ("2023-01-31", "2023-03-02"),  # from a month end
    ("2025-12-15", "2026-01-14"),  # across a year end
])
def test_the_decision_is_due_30_days_after_receipt(users, api_as, make_participant, received, due):
    p = make_participant()
    status, body = api_as(users["supervisor"]).post(
        f"/participants/{p.id}/removal-requests",
        json={"received_on": received, "requested_by": "attorney", "grounds": GROUNDS},
    )
    assert status == 201, body
    assert body == {"id": body["id"], "participant_id": p.id, "received_on": received, "requested_by": "attorney",
                    "grounds": GROUNDS, "due_on": due, "status": "open"}


def test_caseworkers_file_requests_and_never_see_grounds(users, api_as, make_participant, on_day):
    p = make_participant()
    cw = api_as(users["caseworker"])
    status, body = cw.post(f"/participants/{p.id}/removal-requests",
                           json={"received_on": "2026-11-30", "requested_by": "self", "grounds": GROUNDS})
    assert status == 201, body
    assert set(body) == {"id", "participant_id", "received_on", "requested_by", "due_on", "status"}
    assert body["due_on"] == "2026-12-30"
    status, listing = cw.get("/removal-requests")
    assert [set(i) for i in listing["items"]] == [
        {"id", "participant_id", "received_on", "requested_by", "due_on", "status", "overdue"}
    ]
    status, listing = api_as(users["supervisor"]).get("/removal-requests")
    assert listing["items"][0]["grounds"] == GROUNDS
    assert_error(*cw.post(f"/removal-requests/{body['id']}/decision", json={"decision": "denied", "reason": "x"}),
                 403, "forbidden")
    for role in ("police", "provider", "community", "admin"):
        api = api_as(users[role])
        assert_error(*api.get("/removal-requests"), 403, "forbidden")
        assert_error(*api.post(f"/participants/{p.id}/removal-requests", json={}), 403, "forbidden")


@pytest.mark.parametrize(("body", "field"), [
    ({"received_on": "2026-12-01", "requested_by": "self", "grounds": GROUNDS}, "received_on"),  # tomorrow
    ({"received_on": "2026-11-30", "requested_by": "neighbour", "grounds": GROUNDS}, "requested_by"),
    ({"received_on": "2026-11-30", "requested_by": "self"}, "grounds"),
    ({"received_on": "2026-11-30", "requested_by": "self", "grounds": " "}, "grounds"),
    ({"requested_by": "self", "grounds": GROUNDS}, "received_on"),
])
def test_a_bad_removal_request_is_422(users, api_as, make_participant, on_day, body, field):
    p = make_participant()
    before = records()
    assert_error(*api_as(users["supervisor"]).post(f"/participants/{p.id}/removal-requests", json=body),
                 422, "validation_failed", field)
    assert records() == before


def test_the_list_oldest_first_with_overdue_and_a_status_filter(users, api_as, make_participant, on_day):
    sup = api_as(users["supervisor"])
    p = make_participant()
    made = {}
    for received in ("2026-11-01", "2026-10-30", "2026-10-31"):
        status, body = sup.post(f"/participants/{p.id}/removal-requests",
                                json={"received_on": received, "requested_by": "self", "grounds": GROUNDS})
        made[received] = body["id"]
    status, _ = sup.post(f"/removal-requests/{made['2026-10-30']}/decision",
                         json={"decision": "denied", "reason": "Seen with the group on 2 November."})
    assert status == 200
    status, listing = sup.get("/removal-requests")
    # Due 2026-11-29 (received 10-30), 11-30 (10-31), 12-01 (11-01); today is 2026-11-30: only an open one past its
    # due date is overdue, and the one due today is not yet.
    assert [(i["received_on"], i["due_on"], i["status"], i["overdue"]) for i in listing["items"]] == [
        ("2026-10-30", "2026-11-29", "denied", False),
        ("2026-10-31", "2026-11-30", "open", False),
        ("2026-11-01", "2026-12-01", "open", False),
    ]
    on_day(date(2026, 12, 1))
    status, listing = sup.get("/removal-requests?status=open")
    assert [(i["id"], i["overdue"]) for i in listing["items"]] == [(made["2026-10-31"], True),
                                                                   (made["2026-11-01"], False)]
    status, listing = sup.get("/removal-requests?status=denied")
    assert [i["id"] for i in listing["items"]] == [made["2026-10-30"]]
    assert_error(*sup.get("/removal-requests?status=closed"), 422, "validation_failed", "status")


def test_deciding_twice_is_409(users, api_as, make_participant):
    sup = api_as(users["supervisor"])
    p = make_participant()
    status, body = sup.post(f"/participants/{p.id}/removal-requests",
                            json={"received_on": "2026-01-05", "requested_by": "parent_guardian", "grounds": GROUNDS})
    rid = body["id"]
    assert_error(*sup.post(f"/removal-requests/{rid}/decision", json={"decision": "open", "reason": "x"}),
                 422, "validation_failed", "decision")
    assert_error(*sup.post(f"/removal-requests/{rid}/decision", json={"decision": "denied"}),
                 422, "validation_failed", "reason")
    status, body = sup.post(f"/removal-requests/{rid}/decision",
                            json={"decision": "denied", "reason": "Two sources place him with the group in October."})
    assert status == 200, body
    assert (body["id"], body["status"], body["grounds"]) == (rid, "denied", GROUNDS)
    before = records()
    for decision in ("denied", "granted"):
        assert_error(*sup.post(f"/removal-requests/{rid}/decision", json={"decision": decision, "reason": "again"}),
                     409, "invalid_transition")
    assert records() == before
    [row] = _audit("review")
    assert (row.object_type, row.object_id, row.participant_id, row.detail) == ("removal_request", rid, p.id,
                                                                                 "denied")
    status, body = sup.get(f"/participants/{p.id}")
    assert status == 200


def test_granting_purges_at_once_and_a_later_grant_adds_nothing(users, api_as, make_participant):
    sup = api_as(users["supervisor"])
    p = make_participant()
    ids = []
    for _ in range(2):
        status, body = sup.post(f"/participants/{p.id}/removal-requests",
                                json={"received_on": "2026-01-05", "requested_by": "self", "grounds": GROUNDS})
        ids.append(body["id"])
    status, body = sup.post(f"/removal-requests/{ids[0]}/decision", json={"decision": "granted", "reason": "No basis."})
    assert status == 200, body
    assert (body["status"], body["grounds"]) == ("granted", None)
    assert len(_audit("purge")) == 1
    for role in Role:
        status, _ = api_as(users[role]).get(f"/participants/{p.id}")
        assert status == (403 if role == Role.ADMIN else 404), role
    status, body = sup.post(f"/removal-requests/{ids[1]}/decision", json={"decision": "granted", "reason": "Same."})
    assert status == 200, body
    assert len(_audit("purge")) == 1  # already purged: nothing more
    status, listing = sup.get("/removal-requests")
    assert [(i["id"], i["status"], i["grounds"]) for i in listing["items"]] == [
        (ids[0], "granted", None), (ids[1], "granted", None)
    ]
    assert db.session.scalar(sa.select(sa.func.count(RemovalRequest.id))) == 2
