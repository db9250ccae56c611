"""Purge that keeps the numbers (issue #11): every report gives the same answer before and after; the person answers
404 to everyone and leaves every list and search; and no table still holds anything that names them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from ceasefire.extensions import db
from ceasefire.models import (
    AuditEvent,
    CustomNotification,
    Group,
    IdentificationCriterion,
    Note,
    Organization,
    OutreachContact,
    Participant,
    Referral,
)
from ceasefire.models.enums import OrgKind, Role
from ceasefire.services import catalog, events, referrals
from ceasefire.services import participants as participant_service

# What identifies the person, and every free text written about them: none of it may remain anywhere.
NAME = ("Quintavious", "Okonkwo-Beauregard")
SECRETS = {
    "first_name": NAME[0], "last_name": NAME[1], "aliases": "Q-Ball Zephyrine", "phone": "312-555-0199",
    "address": "4417 W Division Xanadu Ct", "supervising_agency": "Cook Kestrel Probation",
    "identification_basis": "Seen at the Marigold Alley shooting",
}
FREE_TEXT = {
    "referral note": "Wants welding work near Marigold Alley",
    "decline reason": "Already enrolled at Larkspur Academy",
    "step note": "Starts at Quillfeather Works on Monday",
    "enforcement": "Arrested with a pistol on Juniper Ave",
    "incident": "RD-2026-55121",
    "outcome": "Hired at Tamarind Foods",
    "reopen": "Back with the Juniper crew",
    "grounds": "Moved to Dayton in May",
    "reason": "Purged on the word of Thistlewood",
    "note": "His cousin Ignatius drives him to work",
    "outreach": "Met at the Periwinkle barbershop",
    "place": "Porch of 4417 Xanadu",
    "message": "Your grandmother Philomena wants you home",
    "response": "Said Sycamore crew would leave him be",
}
REPORTS = ("/reports/pipeline", "/reports/cohorts", "/reports/referrals", "/reports/identification")


@pytest.fixture
def scene(users, api_as, make_forum, make_service):
    """A program with two participants through forums, referrals, enforcement, outcomes and a removal request;
    the first is the one to purge."""
    sup, police = users["supervisor"], users["police"]
    group = catalog.create_group(sup, {"name": "Black P Stones", "area": "Woodlawn"})
    criterion = IdentificationCriterion(name="Identified by two sources as a member of an active group")
    agency = Organization(name="Metro Police", kind=OrgKind.POLICE)
    db.session.add_all([criterion, agency])
    db.session.commit()
    forum = make_forum(datetime.now(UTC) - timedelta(days=2))  # its day has come: check-in is open
    service = make_service(users["provider"].organization)
    people = []
    for n, born in enumerate((date(2004, 6, 1), date(1990, 1, 1))):
        fields = SECRETS | {"group_id": group.id, "date_of_birth": born, "supervision_status": "probation",
                            "criteria": [criterion.id]}
        if n:
            fields |= {"first_name": "Other", "last_name": "Person", "aliases": None, "phone": None, "address": None,
                       "identification_basis": "Named in a review.", "supervising_agency": None}
        p = participant_service.create_participant(police, fields)
        participant_service.update_participant(sup, p, p.version, {"consent_to_share": True})
        events.perform(sup, p, p.version, "invite", {"forum_id": forum.id, "method": "custom_notification"})
        events.perform(sup, p, p.version, "attend", {})
        referral = referrals.send_referral(sup, p, service, FREE_TEXT["referral note"] if not n else "note")
        events.perform(sup, p, p.version, "offer_services", {})
        second = referrals.send_referral(sup, p, service, None)
        referrals.set_status(users["provider"], second, "declined", FREE_TEXT["decline reason"] if not n else "Full")
        referrals.set_status(users["provider"], referral, "accepted", None,
                             FREE_TEXT["step note"] if not n else "Starts Monday")
        events.perform(police, p, p.version, "enforce", {
            "action_type": "arrest", "occurred_on": date.today() - timedelta(days=1), "agency_id": agency.id,
            "description": FREE_TEXT["enforcement"] if not n else "x", "incident_ref": FREE_TEXT["incident"] if not n
            else "y",
        })
        events.perform(sup, p, p.version, "reopen", {"reason": FREE_TEXT["reopen"] if not n else "z"})
        people.append(p)
    db.session.commit()
    target = people[0]
    api = api_as(sup)
    status, body = api.post(f"/participants/{target.id}/outcomes", json={
        "type": "employed", "occurred_on": (date.today() - timedelta(days=1)).isoformat(), "note": FREE_TEXT["outcome"]
    })
    assert status == 201, body
    status, body = api.post(f"/participants/{target.id}/removal-requests", json={
        "received_on": date.today().isoformat(), "requested_by": "self", "grounds": FREE_TEXT["grounds"]
    })
    assert status == 201, body
    # Field work (fieldnotes' models), written as rows: their services are another branch's.
    community_org = users["community"].organization
    db.session.add_all([
        Note(participant_id=target.id, author_id=users["caseworker"].id, body=FREE_TEXT["note"],
             visibility="all_staff"),
        OutreachContact(participant_id=target.id, organization_id=community_org.id, user_id=users["community"].id,
                        contacted_at=datetime.now(UTC), kind="visit", outcome=FREE_TEXT["outreach"]),
        CustomNotification(participant_id=target.id, delivered_at=datetime.now(UTC), place=FREE_TEXT["place"],
                           message=FREE_TEXT["message"], response=FREE_TEXT["response"], recorded_by_id=police.id),
    ])
    db.session.commit()
    return {"target": target, "other": people[1], "forum": forum, "group": group, "request_id": body["id"]}


def _reports(api, scene) -> dict:
    answers = {}
    for path in REPORTS:
        for query in ("", f"?group_id={scene['group'].id}", f"?forum_id={scene['forum'].id}", "?from=2000-01-01"):
            if query and "pipeline" not in path and "from" not in query:
                continue
            answers[path + query] = api.get(path + query)  # (status, body): some roles get 403 for some
    return answers


def _texts_holding(needles) -> dict[str, list]:
    """Every text column of every table, searched for each needle (case-insensitive)."""
    found: dict[str, list] = {}
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            for column in table.columns:
                if not isinstance(column.type, sa.String | sa.Text):
                    continue
                for needle in needles:
                    hits = conn.execute(
                        sa.select(column).where(sa.func.lower(column).contains(needle.lower()))
                    ).all()
                    if hits:
                        found.setdefault(f"{table.name}.{column.name}", []).append(needle)
    return found


def test_purge_keeps_every_report_and_erases_the_person(users, api_as, scene):
    sup = api_as(users["supervisor"])
    target = scene["target"]
    needles = [*SECRETS.values(), *FREE_TEXT.values()]
    roles = ("supervisor", "caseworker", "police", "community")
    before = {role: _reports(api_as(users[role]), scene) for role in roles}
    assert {status for status, _ in before["supervisor"].values()} == {200}
    assert before["supervisor"]["/reports/identification"][1]["by_age"] == {
        "under_18": 0, "18_24": 1, "25_34": 0, "35_plus": 1, "unknown": 0,  # from the dates of birth
    }
    assert before["supervisor"]["/reports/pipeline"][1]["counts"]["identified"] == 2
    found = _texts_holding(needles)
    # The search finds each where it is (the purge's own reason is written by the purge).
    assert {n for hits in found.values() for n in hits} == set(needles) - {FREE_TEXT["reason"]}

    status, body = sup.post(f"/participants/{target.id}/review",
                            json={"decision": "purge", "reason": FREE_TEXT["reason"]})
    assert (status, body) == (200, {"id": target.id, "purged": True})

    assert {role: _reports(api_as(users[role]), scene) for role in roles} == before
    # Nothing that names or describes the person remains in any table, the audit trail included.
    assert _texts_holding(needles) == {}
    row = db.session.get(Participant, target.id)
    assert (row.first_name, row.last_name, row.date_of_birth, row.age_band, row.group_id) == (
        "", "", None, "18_24", scene["group"].id
    )
    assert row.purged_at is not None
    # The audit trail: the purge and the review, by id alone.
    purge = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "purge")).one()
    assert (purge.object_type, purge.object_id, purge.participant_id, purge.detail) == (
        "participant", target.id, target.id, "review"
    )


def test_a_purged_participant_answers_404_and_leaves_every_list(users, api_as, scene):
    target, other, forum = scene["target"], scene["other"], scene["forum"]
    sup = api_as(users["supervisor"])
    status, _ = sup.post(f"/participants/{target.id}/review", json={"decision": "purge", "reason": "No basis."})
    assert status == 200
    for role in Role:
        api = api_as(users[role])
        for path in (f"/participants/{target.id}", f"/participants/{target.id}/history",
                     f"/participants/{target.id}/outcomes"):
            status, _ = api.get(path)
            assert status in ((403,) if role in (Role.ADMIN,) else (403, 404)), (role, path)
            if role in (Role.CASEWORKER, Role.POLICE, Role.SUPERVISOR):
                assert status == 404, (role, path)
    status, listing = sup.get("/participants")
    assert [p["id"] for p in listing["items"]] == [other.id]
    status, listing = sup.get("/participants?q=quintavious")
    assert listing["items"] == []
    status, listing = sup.get("/reviews?due_before=2100-01-01")
    assert [i["participant_id"] for i in listing["items"]] == [other.id]
    status, body = sup.get(f"/forums/{forum.id}")
    assert [i["participant_id"] for i in body["invitations"]] == [other.id]
    status, listing = sup.get("/referrals")
    assert {r["participant_id"] for r in listing["items"]} == {other.id}
    referral = db.session.scalars(sa.select(Referral).where(Referral.participant_id == target.id)).first()
    status, _ = sup.post(f"/referrals/{referral.id}/status", json={"status": "withdrawn"})
    assert status == 404
    status, _ = api_as(users["provider"]).post(f"/referrals/{referral.id}/status", json={"status": "enrolled"})
    assert status == 404
    # The removal request stays listed, grounds erased, as the record of the decision.
    status, listing = sup.get("/removal-requests")
    assert [(i["id"], i["participant_id"], i["grounds"]) for i in listing["items"]] == [
        (scene["request_id"], target.id, None)
    ]
    # Nothing undoes a purge: no review, no new request, no referral can reach the person again.
    assert sup.post(f"/participants/{target.id}/review", json={"decision": "retain", "reason": "x"})[0] == 404
    assert sup.post(f"/participants/{target.id}/removal-requests", json={})[0] == 404
    status, body = sup.post("/referrals", json={"participant_id": target.id, "service_id": referral.service_id})
    assert status == 422
    assert db.session.get(Group, scene["group"].id) is not None
