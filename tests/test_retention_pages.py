"""Due process in the browser (issue #11): a supervisor works the review queue and the removal requests, prints the
letters; caseworkers file requests and never see their grounds; police tick criteria; every new page x every role."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from helpers import text

from ceasefire.extensions import db
from ceasefire.models import AuditEvent, IdentificationCriterion, Participant, RemovalRequest, User
from ceasefire.models.enums import Role
from ceasefire.services import participants as participant_service
from ceasefire.services import retention

GROUNDS = "Moved to Dayton two years ago; no contact with the group."


@pytest.fixture
def due(users, make_participant, monkeypatch):
    """Three participants identified long ago (two overdue by different spans) and one identified today."""
    made = {}
    for name, day in [("Early", date(2020, 3, 1)), ("Late", date(2021, 2, 1)), ("Fresh", None)]:
        if day is not None:
            monkeypatch.setattr(participant_service, "today", lambda day=day: day)
        else:
            monkeypatch.undo()
        made[name] = make_participant(users["supervisor"], first_name=name, last_name="Person",
                                      identification_basis=f"{name}: named in a shooting review.")
    return made


@pytest.fixture
def request_row(users, make_participant) -> RemovalRequest:
    p = make_participant(users["supervisor"], first_name="Darnell", last_name="Hayes", address="12 Oak St")
    request = retention.file_removal_request(users["caseworker"], p, date.today() - timedelta(days=40), "self",
                                             GROUNDS)
    db.session.commit()
    return request


# Every new page, every role: the status the policy gives.

PAGES = {
    "GET /reviews/": ({Role.SUPERVISOR}, 200),
    "GET /reviews/{pid}": ({Role.SUPERVISOR}, 200),
    "POST /reviews/{pid}": ({Role.SUPERVISOR}, 302),
    "GET /removal-requests/": ({Role.SUPERVISOR, Role.CASEWORKER}, 200),
    "GET /removal-requests/{rid}": ({Role.SUPERVISOR, Role.CASEWORKER}, 200),
    "POST /removal-requests/{rid}": ({Role.SUPERVISOR}, 302),
    "GET /removal-requests/{rid}/letter": ({Role.SUPERVISOR}, 409),  # allowed, but nothing decided yet
    "GET /participants/{pid}/removal-requests/new": ({Role.SUPERVISOR, Role.CASEWORKER}, 200),
    "POST /participants/{pid}/removal-requests/new": ({Role.SUPERVISOR, Role.CASEWORKER}, 302),
    "GET /participants/{pid}/notice": ({Role.SUPERVISOR, Role.CASEWORKER}, 200),
    "GET /criteria/": ({Role.SUPERVISOR}, 200),
    "POST /criteria/": ({Role.SUPERVISOR}, 302),
    "POST /criteria/retire": ({Role.SUPERVISOR}, 302),
}
FORMS = {
    "POST /reviews/{pid}": {"decision": "retain", "reason": "Still at very high risk."},
    "POST /removal-requests/{rid}": {"decision": "denied", "reason": "Seen with the group in October."},
    "POST /participants/{pid}/removal-requests/new": {"received_on": "2026-01-05", "requested_by": "attorney",
                                                       "grounds": GROUNDS},
    "POST /criteria/": {"name": "On parole for a violent offence"},
}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("page", list(PAGES))
def test_every_due_process_page_by_role(client, auth, users, request_row, page, role):
    criterion = IdentificationCriterion(name="Named by two sources")
    db.session.add(criterion)
    db.session.commit()
    allowed, success = PAGES[page]
    method, path = page.split(" ")
    path = path.format(pid=request_row.participant_id, rid=request_row.id)
    data = FORMS.get(page, {"criterion_id": criterion.id} if page.endswith("retire") else {})
    auth.login(users[role])
    response = client.open(path, method=method, data=data)
    assert response.status_code == (success if role in allowed else 403), text(response)[:300]


# The review queue


def test_the_queue_shows_the_most_overdue_first_with_basis_and_criteria(client, auth, users, due):
    auth.login(users["supervisor"])
    html = text(client.get("/reviews/"))
    # Early is due 2025-03-01, Late 2026-02-01; Fresh only in five years.
    assert html.index("Person, Early") < html.index("Person, Late")
    assert "Person, Fresh" not in html
    assert "2025-03-01" in html
    assert "2 participants due for review" in html
    page = text(client.get(f"/reviews/{due['Early'].id}"))
    assert "Early: named in a shooting review." in page
    assert 'name="decision" value="retain"' in page
    assert 'name="decision" value="purge"' in page
    assert "Create" in page  # the history since identification


def test_a_review_needs_a_reason_and_retain_restarts_the_clock(client, auth, users, due):
    early = due["Early"]
    auth.login(users["supervisor"])
    response = client.post(f"/reviews/{early.id}", data={"decision": "retain", "reason": ""})
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(Participant, early.id).review_due_on == date(2025, 3, 1)
    response = client.post(f"/reviews/{early.id}", data={"decision": "retain", "reason": "Shot at in October."})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Participant, early.id).review_due_on == date.today() + timedelta(days=1826)
    assert "Person, Early" not in text(client.get("/reviews/"))


def test_purging_from_the_queue(client, auth, users, due):
    late = due["Late"]
    auth.login(users["supervisor"])
    response = client.post(f"/reviews/{late.id}", data={"decision": "purge", "reason": "Nothing new in five years."})
    assert response.status_code == 302
    assert "counts stay" in text(client.get(response.headers["Location"]))
    for path in (f"/participants/{late.id}", f"/reviews/{late.id}", f"/participants/{late.id}/notice"):
        assert client.get(path).status_code == 404, path
    assert "Late" not in text(client.get("/participants/"))
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "purge")) == 1


# Removal requests


def test_a_caseworker_files_a_request_and_never_sees_its_grounds(client, auth, users, make_participant):
    p = make_participant(first_name="Andre", last_name="Walker")
    auth.login(users["caseworker"])
    assert "Record a removal request" in text(client.get(f"/participants/{p.id}"))
    response = client.post(f"/participants/{p.id}/removal-requests/new",
                           data={"received_on": "2024-01-30", "requested_by": "parent_guardian", "grounds": GROUNDS})
    assert response.status_code == 302
    request = db.session.scalars(sa.select(RemovalRequest)).one()
    assert (request.due_on, request.grounds, request.recorded_by_id) == (date(2024, 2, 29), GROUNDS,
                                                                         users["caseworker"].id)
    for path in ("/removal-requests/", f"/removal-requests/{request.id}"):
        html = text(client.get(path))
        assert "Walker" in html
        assert GROUNDS not in html
    assert 'name="decision"' not in text(client.get(f"/removal-requests/{request.id}"))
    response = client.post(f"/participants/{p.id}/removal-requests/new",
                           data={"received_on": (date.today() + timedelta(days=1)).isoformat(),
                                 "requested_by": "self", "grounds": GROUNDS})
    assert response.status_code == 422
    assert "The date is in the future." in text(response)


def test_the_supervisor_queue_overdue_first_with_days_left(client, auth, users, make_participant, request_row):
    p = make_participant(first_name="Jamal", last_name="Brooks")
    retention.file_removal_request(users["caseworker"], p, date.today() - timedelta(days=2), "self", "Not in a group.")
    db.session.commit()
    auth.login(users["supervisor"])
    html = text(client.get("/removal-requests/"))
    queue = html[html.index('id="queue-h"'):html.index('id="all-h"')]
    # Darnell's was received 40 days ago: due 10 days ago. Jamal's 2 days ago: 28 days left.
    assert queue.index("Hayes") < queue.index("Brooks")
    assert "Overdue by 10 days" in queue
    assert "<td>28</td>" in queue
    assert GROUNDS in text(client.get(f"/removal-requests/{request_row.id}"))


def test_deciding_prints_a_letter_and_a_second_decision_is_409(client, auth, users, request_row):
    auth.login(users["supervisor"])
    path = f"/removal-requests/{request_row.id}"
    assert client.post(path, data={"decision": "denied", "reason": ""}).status_code == 422
    assert client.post(path, data={"decision": "denied", "reason": "Two sources in October."}).status_code == 302
    response = client.post(path, data={"decision": "granted", "reason": "Changed my mind."})
    assert response.status_code == 409
    assert "already decided" in text(response)
    db.session.expire_all()
    assert db.session.get(RemovalRequest, request_row.id).status == "denied"
    letter = text(client.get(f"{path}/letter"))
    assert "denied" in letter
    assert "Two sources in October." in letter
    assert "Darnell Hayes" in letter
    assert "print.css" in letter


def test_granting_from_the_page_purges(client, auth, users, request_row):
    auth.login(users["supervisor"])
    path = f"/removal-requests/{request_row.id}"
    assert client.post(path, data={"decision": "granted", "reason": "No basis left."}).status_code == 302
    assert client.get(f"/participants/{request_row.participant_id}").status_code == 404
    html = text(client.get(path))
    assert "(purged)" in html
    assert "Hayes" not in html
    letter = text(client.get(f"{path}/letter"))
    assert "granted" in letter
    assert "Hayes" not in letter


# The notice, the program's settings, the participant page


def test_the_notice_letter_carries_the_program_and_the_way_out(app, client, auth, users, request_row):
    app.config.update(PROGRAM_NAME="Ceasefire Englewood", PROGRAM_ADDRESS="6100 S Halsted St, Chicago",
                      PROGRAM_CONTACT="(773) 555-0100")
    auth.login(users["caseworker"])
    letter = text(client.get(f"/participants/{request_row.participant_id}/notice"))
    for expected in ("Ceasefire Englewood", "6100 S Halsted St, Chicago", "(773) 555-0100", "Darnell Hayes",
                     "12 Oak St", "within 30 days", "print.css"):
        assert expected in letter, expected
    assert "<script" not in letter
    assert " style=" not in letter


def test_the_participant_page_shows_the_review_date_and_criteria_by_role(client, auth, users, make_participant):
    criterion = IdentificationCriterion(name="On supervision for a violent offence")
    db.session.add(criterion)
    db.session.commit()
    p = make_participant(users["police"], criteria=[criterion.id])
    shown = {"supervisor": (True, True), "police": (True, True), "caseworker": (True, False)}
    for role, (date_shown, criteria_shown) in shown.items():
        auth.login(users[role])
        html = text(client.get(f"/participants/{p.id}"))
        assert ("Review due on" in html) is date_shown, role
        assert (criterion.name in html) is criteria_shown, role
        auth.logout()


def test_police_tick_criteria_on_the_new_participant_form(client, auth, users):
    shooting, group = (IdentificationCriterion(name=n) for n in ("Shot in the last year", "Named by two sources"))
    retired = IdentificationCriterion(name="An old rule", retired_on=date(2025, 1, 1))
    db.session.add_all([shooting, group, retired])
    db.session.commit()
    auth.login(users["police"])
    form = text(client.get("/participants/new"))
    assert 'type="checkbox"' in form
    assert "Shot in the last year" in form
    assert "An old rule" not in form
    base = {"first_name": "Ann", "last_name": "Lee", "supervision_status": "none",
            "identification_basis": "Named in a shooting review."}
    response = client.post("/participants/new", data=base)
    assert response.status_code == 422
    assert re.search(r'id="criteria-error">[^<]*Tick at least one', text(response))
    response = client.post("/participants/new", data=base | {"criteria": [str(shooting.id), str(group.id)]})
    assert response.status_code == 302
    p = db.session.scalars(sa.select(Participant)).one()
    assert [c.name for c in p.criteria] == ["Shot in the last year", "Named by two sources"]
    auth.logout()
    auth.login(users["caseworker"])
    assert 'name="criteria"' not in text(client.get("/participants/new"))


def test_a_supervisor_keeps_the_criteria_list(client, auth, users):
    auth.login(users["supervisor"])
    assert client.post("/criteria/", data={"name": "Shot in the last year"}).status_code == 302
    assert client.post("/criteria/", data={"name": "Shot in the last year"}).status_code == 422
    [criterion] = retention.active_criteria()
    assert client.post("/criteria/retire", data={"criterion_id": criterion.id}).status_code == 302
    assert retention.active_criteria() == []
    assert "(retired" in text(client.get("/criteria/"))


def test_the_queues_cost_the_same_at_3_and_30_rows(users, client, auth, api_as, make_participant, monkeypatch):
    """The review queue and the removal requests, on both faces, load a page's rows in a fixed number of queries."""
    from ceasefire.retention import views

    monkeypatch.setattr(views, "PER_PAGE", 500)
    criterion = IdentificationCriterion(name="Named by two sources")
    db.session.add(criterion)
    db.session.commit()
    sup = users["supervisor"]
    api = api_as(sup)
    auth.login(sup)
    ids = {"criterion": criterion.id, "police": users["police"].id, "supervisor": sup.id}
    paths = {"page": ("/reviews/", "/removal-requests/"),
             "api": ("/reviews?per_page=200", "/removal-requests?per_page=200")}
    counts: dict[str, list[int]] = {}
    made = 0
    for size in (3, 30):
        monkeypatch.setattr(participant_service, "today", lambda: date(2020, 1, 15))
        police, sup = (db.session.get(User, ids[role]) for role in ("police", "supervisor"))
        while made < size:
            p = participant_service.create_participant(police, {
                "first_name": f"First{made}", "last_name": f"Last{made:03}",
                "identification_basis": "Named by two sources.", "criteria": [ids["criterion"]],
            })
            retention.file_removal_request(sup, p, date(2026, 1, 5), "self", GROUNDS)
            made += 1
        db.session.commit()
        monkeypatch.undo()
        monkeypatch.setattr(views, "PER_PAGE", 500)
        client.get("/reviews/")
        api.get("/reviews")  # a session's and a token's last use are written once a minute: not counted
        for face, face_paths in paths.items():
            for path in face_paths:
                db.session.expunge_all()
                statements: list[str] = []

                def count(conn, cursor, statement, *args, statements=statements):
                    statements.append(statement)

                sa.event.listen(db.engine, "before_cursor_execute", count)
                try:
                    if face == "page":
                        body = client.get(path).get_data(as_text=True)
                        assert body.count("Last0") >= size, path
                    else:
                        status, body = api.get(path)
                        assert (status, body["total"]) == (200, size), path
                finally:
                    sa.event.remove(db.engine, "before_cursor_execute", count)
                counts.setdefault(path, []).append(len(statements))
    assert {path: n for path, n in counts.items() if n[0] != n[1]} == {}
