"""The audit trail: what is written, who may read it, and that nothing can rewrite it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DatabaseError

from ceasefire.exports import csv_text, safe_cell
from ceasefire.extensions import db
from ceasefire.models import AuditEvent
from ceasefire.models.enums import Role


def _rows(**where):
    q = sa.select(AuditEvent).order_by(AuditEvent.id)
    for key, value in where.items():
        q = q.where(getattr(AuditEvent, key) == value)
    return list(db.session.scalars(q))


@pytest.mark.parametrize("role", [r for r in Role if r != Role.SUPERVISOR])
def test_only_supervisors_read_the_audit_trail(users, api_as, role):
    status, body = api_as(users[role]).get("/audit")
    assert status == 403
    assert body["error"]["code"] == "forbidden"


def test_audit_lists_newest_first_with_filters_and_audits_itself(users, api_as, make_participant):
    sup = users["supervisor"]
    api = api_as(sup)
    p1 = make_participant(users["caseworker"])
    p2 = make_participant(users["caseworker"])
    api.get(f"/participants/{p1.id}")
    api.get(f"/participants/{p2.id}")

    status, body = api.get(f"/audit?participant_id={p1.id}")
    assert status == 200
    assert {"items", "total", "page", "per_page"} <= body.keys()
    assert [i["action"] for i in body["items"]] == ["view", "create"]
    assert all(i["object_id"] == p1.id and i["object_type"] == "participant" for i in body["items"])
    first = body["items"][0]
    assert set(first) == {"at", "user_id", "action", "object_type", "object_id", "ip", "detail"}
    assert first["user_id"] == sup.id
    assert first["ip"] == "127.0.0.1"

    status, body = api.get(f"/audit?action=create&user_id={users['caseworker'].id}")
    assert status == 200
    assert {i["object_id"] for i in body["items"] if i["object_type"] == "participant"} == {p1.id, p2.id}
    assert all(i["action"] == "create" for i in body["items"])

    reads = _rows(action="audit_view", user_id=sup.id)
    assert len(reads) == 2


@pytest.mark.parametrize("query", ["action=delete_everything", "participant_id=abc", "page=0"])
def test_audit_filters_are_checked(users, api_as, query):
    status, body = api_as(users["supervisor"]).get(f"/audit?{query}")
    assert status == 422
    assert body["error"]["code"] == "validation_failed"
    assert body["error"]["fields"]


@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET detail = 'rewritten'",
    "DELETE FROM audit_events",
])
def test_the_database_refuses_to_rewrite_the_audit_trail(users, make_participant, statement):
    make_participant(users["caseworker"])
    before = [(r.id, r.detail) for r in _rows()]
    assert before
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(sa.text(statement))
    db.session.rollback()
    assert [(r.id, r.detail) for r in _rows()] == before


@pytest.mark.parametrize("value", ["=HYPERLINK(\"http://x\")", "+1+1", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_formula_cells_are_neutralised(value):
    assert safe_cell(value) == "'" + value
    assert csv_text(["a"], [[value]]).splitlines()[1].lstrip('"').startswith("'")


def test_plain_cells_pass_unchanged():
    assert safe_cell("Marcus O'Neil") == "Marcus O'Neil"
    assert safe_cell(42) == 42
    assert csv_text(["a", "b"], [["x", None]]) == "a,b\r\nx,\r\n"


def test_supervisor_audit_page_filters_and_exports_safe_csv(client, auth, users, make_participant):
    sup = users["supervisor"]
    p = make_participant(users["caseworker"], first_name="=CMD()", last_name="Lee")
    auth.login(sup)
    page = client.get(f"/audit/?participant_id={p.id}")
    assert page.status_code == 200
    assert "Only what concerns =CMD() Lee." in page.get_data(as_text=True)

    export = client.get(f"/audit/export.csv?participant_id={p.id}")
    assert export.status_code == 200
    assert export.mimetype == "text/csv"
    lines = export.get_data(as_text=True).splitlines()
    assert lines[0] == ("at,user_id,user_name,action,action_words,object_type,object_id,object_name,participant_id,"
                        "participant_name,ip,face,detail")
    creation = f"Test caseworker,create,Created,participant,{p.id},'=CMD() Lee,{p.id},'=CMD() Lee,"
    assert any(creation in line for line in lines[1:]), lines
    assert _rows(action="export", user_id=sup.id)


@pytest.mark.parametrize("role", [r for r in Role if r != Role.SUPERVISOR])
def test_audit_page_is_for_supervisors_only(client, auth, users, role):
    auth.login(users[role])
    assert client.get("/audit/").status_code == 403
    assert client.get("/audit/export.csv").status_code == 403


def test_each_kind_of_change_writes_its_audit_row_with_address_and_face(client, auth, users, api_as, make_service):
    cw = users["caseworker"]
    provider = users["provider"]
    api = api_as(cw)
    status, p = api.post("/participants", json={"first_name": "Ana", "last_name": "Diaz", "consent_to_share": True})
    assert status == 201
    api.get(f"/participants/{p['id']}")
    status, p = api.patch(f"/participants/{p['id']}", json={"version": 1, "phone": "555-0101"})
    status, ref = api.post("/referrals", json={"participant_id": p["id"],
                                               "service_id": make_service(provider.organization).id})
    assert status == 201
    assert api_as(provider).post(f"/referrals/{ref['id']}/status", json={"status": "accepted"})[0] == 200
    status, _ = api.post(f"/participants/{p['id']}/events", json={"event": "close", "version": 2, "reason": "moved"})
    assert status == 200
    auth.login(cw)
    auth.logout()

    rows = _rows()
    by_action = {}
    for row in rows:
        by_action.setdefault(row.action, []).append(row)
    for action in ("create", "view", "update", "event", "referral_status", "sign_in", "sign_out", "token_create"):
        assert action in by_action, action
    assert {r.face for r in by_action["view"]} == {"api"}
    assert {r.face for r in by_action["sign_in"]} == {"web"}
    request_actions = ("view", "update", "event", "referral_status", "sign_in", "sign_out")
    assert all(r.ip == "127.0.0.1" for a in request_actions for r in by_action[a])
    assert by_action["event"][0].object_id == p["id"]
    assert by_action["event"][0].detail == "close"


def test_the_participant_filter_includes_their_referrals(users, api_as, make_participant, make_service):
    cw, provider = users["caseworker"], users["provider"]
    p = make_participant(cw, consent_to_share=True)
    other = make_participant(cw, consent_to_share=True)
    status, ref = api_as(cw).post("/referrals", json={"participant_id": p.id,
                                                     "service_id": make_service(provider.organization).id})
    assert status == 201
    assert api_as(provider).post(f"/referrals/{ref['id']}/status", json={"status": "accepted"})[0] == 200

    status, body = api_as(users["supervisor"]).get(f"/audit?participant_id={p.id}")
    assert status == 200
    seen = [(i["action"], i["object_type"]) for i in body["items"]]
    assert seen == [("referral_status", "referral"), ("create", "referral"), ("create", "participant")]
    assert all(i["object_id"] != other.id or i["object_type"] != "participant" for i in body["items"])
