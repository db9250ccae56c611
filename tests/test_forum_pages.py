"""Running a call-in from the browser (issue #9, Forums): editing, cancelling and holding a forum through the verb of
PATCH /forums/{id}; inviting several people at once; the roster a page at a time and its printout; the door; and the
close-out after the forum. Every number below is counted by hand from the records each test makes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from api_support import records
from helpers import counting, text

from ceasefire.extensions import db
from ceasefire.models import AuditEvent, Forum, Invitation, Participant, User
from ceasefire.models.enums import DeliveryMethod, ForumStatus, State
from ceasefire.services import events


def invite(actor, participant, forum, method="letter"):
    events.invite(actor, participant, participant.version, forum.id, method)
    db.session.commit()


def state_of(participant_id: int) -> State:
    with db.engine.connect() as conn:
        return conn.scalar(sa.select(Participant.state).where(Participant.id == participant_id))


def forum_row(forum_id: int):
    with db.engine.connect() as conn:
        return conn.execute(sa.select(Forum).where(Forum.id == forum_id)).one()


def invitations_of(forum_id: int) -> dict[int, tuple]:
    with db.engine.connect() as conn:
        rows = conn.execute(sa.select(Invitation.participant_id, Invitation.method, Invitation.attended)
                            .where(Invitation.forum_id == forum_id))
        return {pid: (DeliveryMethod(method), attended) for pid, method, attended in rows}


# Editing, cancelling, holding


def test_a_caseworker_edits_a_forum_in_the_programs_time_zone(make_app, auth, users, make_forum):
    forum = make_forum(when=datetime(2030, 3, 12, 23, 0, tzinfo=UTC))
    chicago = make_app(TIMEZONE="America/Chicago").test_client()
    auth.login(users["caseworker"], client=chicago)
    form = text(chicago.get(f"/forums/{forum.id}/edit"))
    assert 'value="2030-03-12T18:00"' in form  # 23:00 UTC is 18:00 in Chicago (CDT, UTC-5, from March 10)
    response = chicago.post(f"/forums/{forum.id}/edit", data={
        "title": "Call-in, moved", "scheduled_at": "2030-03-13T19:30", "location": "Fieldhouse",
        "speakers": "Chief Ruiz", "notes": "Forty seats.",
    })
    assert response.status_code == 302
    row = forum_row(forum.id)
    assert (row.title, row.location, row.speakers, row.notes) == ("Call-in, moved", "Fieldhouse", "Chief Ruiz",
                                                                   "Forty seats.")
    assert row.scheduled_at.replace(tzinfo=UTC) == datetime(2030, 3, 14, 0, 30, tzinfo=UTC)
    assert "2030-03-13 19:30 CDT" in text(chicago.get(f"/forums/{forum.id}"))
    detail = db.session.scalar(sa.select(AuditEvent.detail).where(AuditEvent.action == "update"))
    assert detail == "title,scheduled_at,location,speakers,notes"


def test_an_edit_without_a_title_changes_nothing(client, auth, users, make_forum):
    forum = make_forum()
    auth.login(users["supervisor"])
    before = records()
    response = client.post(f"/forums/{forum.id}/edit", data={"title": "", "scheduled_at": "2030-01-01T10:00"})
    assert response.status_code == 422
    assert records() == before


def test_cancelling_asks_first_and_is_final(client, auth, users, make_forum, make_participant):
    forum = make_forum()
    sup = users["supervisor"]
    invite(sup, make_participant(sup), forum)
    invite(sup, make_participant(sup), forum)
    auth.login(users["caseworker"])
    page = text(client.get(f"/forums/{forum.id}/cancel"))
    assert "Cancel this forum?" in page
    assert "2 people were invited" in page
    assert forum_row(forum.id).status == ForumStatus.PLANNED  # asking changed nothing
    response = client.post(f"/forums/{forum.id}/cancel")
    assert response.status_code == 302
    assert forum_row(forum.id).status == ForumStatus.CANCELLED
    show = text(client.get(f"/forums/{forum.id}"))
    assert f"/forums/{forum.id}/cancel" not in show
    assert f"/forums/{forum.id}/invite" not in show
    before = records()
    response = client.post(f"/forums/{forum.id}/held")
    assert response.status_code == 409
    assert "A forum that is cancelled cannot become held." in text(response)
    assert records() == before


def test_marking_a_forum_held(client, auth, users, make_forum):
    forum = make_forum()
    auth.login(users["supervisor"])
    assert "Mark this forum held?" in text(client.get(f"/forums/{forum.id}/held"))
    assert client.post(f"/forums/{forum.id}/held").status_code == 302
    assert forum_row(forum.id).status == ForumStatus.HELD


@pytest.mark.parametrize("role", ["police", "community", "provider"])
def test_only_caseworkers_and_supervisors_change_a_forum(client, auth, users, make_forum, role):
    forum = make_forum()
    auth.login(users[role])
    before = records()
    for path in ("edit", "cancel", "held", "invite", "close-out"):
        assert client.get(f"/forums/{forum.id}/{path}").status_code == 403, path
        assert client.post(f"/forums/{forum.id}/{path}").status_code == 403, path
    assert records() == before
    show = text(client.get(f"/forums/{forum.id}"))
    for path in ("edit", "cancel", "held", "invite", "close-out"):
        assert f"/forums/{forum.id}/{path}" not in show


# Inviting several at once


def test_inviting_three_at_once_each_by_their_own_means(client, auth, users, make_forum, make_participant):
    forum = make_forum()
    sup = users["supervisor"]
    a, b, c = (make_participant(sup, last_name=name) for name in ("Avery", "Brooks", "Cole"))
    auth.login(users["caseworker"])
    page = text(client.get(f"/forums/{forum.id}/invite"))
    for p in (a, b, c):
        assert f'name="method-{p.id}"' in page
    response = client.post(f"/forums/{forum.id}/invite", data={
        "participant_id": [a.id, b.id, c.id],
        f"version-{a.id}": a.version, f"method-{a.id}": "letter",
        f"version-{b.id}": b.version, f"method-{b.id}": "custom_notification",
        f"version-{c.id}": c.version, f"method-{c.id}": "probation_condition",
    })
    assert response.status_code == 302
    assert invitations_of(forum.id) == {
        a.id: (DeliveryMethod.LETTER, None), b.id: (DeliveryMethod.CUSTOM_NOTIFICATION, None),
        c.id: (DeliveryMethod.PROBATION_CONDITION, None),
    }
    assert {state_of(p.id) for p in (a, b, c)} == {State.INVITED}
    roster = text(client.get(f"/forums/{forum.id}"))
    assert "Invited 3: Test Avery; Test Brooks; Test Cole." in roster
    assert "3 invited · 0 checked in" in roster
    assert "Custom notification" in roster
    assert "Probation condition" in roster


def test_one_refusal_names_the_person_and_writes_nothing(client, auth, users, make_forum, make_participant):
    forum = make_forum()
    sup = users["supervisor"]
    a, b = make_participant(sup, last_name="Avery"), make_participant(sup, last_name="Brooks")
    auth.login(users["caseworker"])
    before = records()
    response = client.post(f"/forums/{forum.id}/invite", data={
        "participant_id": [a.id, b.id],
        f"version-{a.id}": a.version, f"method-{a.id}": "letter",
        f"version-{b.id}": b.version, f"method-{b.id}": "",  # no means chosen for Brooks
    })
    assert response.status_code == 422
    assert "Test Brooks: Some fields are missing." in text(response)
    assert records() == before
    # Brooks's record changed since the page was read: 409, named, and still nothing written.
    response = client.post(f"/forums/{forum.id}/invite", data={
        "participant_id": [a.id, b.id],
        f"version-{a.id}": a.version, f"method-{a.id}": "letter",
        f"version-{b.id}": b.version + 1, f"method-{b.id}": "letter",
    })
    assert response.status_code == 409
    assert "Test Brooks:" in text(response)
    assert records() == before
    assert client.post(f"/forums/{forum.id}/invite", data={}).status_code == 422
    assert records() == before


# The roster a page at a time


def test_the_roster_pages_and_searches(client, auth, users, make_forum, make_participant):
    forum = make_forum()
    sup = users["supervisor"]
    for i in range(53):
        invite(sup, make_participant(sup, first_name="Guest", last_name=f"Name{i:02}"), forum)
    invite(sup, make_participant(sup, first_name="Darnell", last_name="Hayes", aliases="Dee"), forum)
    auth.login(users["police"])
    first = text(client.get(f"/forums/{forum.id}"))
    # 54 names by last name: Hayes, then Name00..Name52; fifty on the first page, four on the second.
    assert first.count('<tr id="p-') == 50
    assert "Hayes" in first
    assert "Name48" in first
    assert "Name49" not in first
    assert "Page 1 of 2" in first
    second = text(client.get(f"/forums/{forum.id}?page=2"))
    assert second.count('<tr id="p-') == 4
    found = text(client.get(f"/forums/{forum.id}?q=dee"))
    assert found.count('<tr id="p-') == 1
    assert "Hayes" in found
    assert "54 invited · 0 checked in" in found
    # the same match as every list's: any part of "first last" or of the aliases, any case, one letter or more
    for q in ("DARNELL h", "Y", "nell hay"):
        found = text(client.get(f"/forums/{forum.id}?q={q}"))
        assert found.count('<tr id="p-') == 1, q
        assert "Hayes" in found
    assert text(client.get(f"/forums/{forum.id}?q=name5")).count('<tr id="p-') == 3


def test_the_printable_roster_has_a_sheet_per_25_names(client, auth, users, make_forum, make_participant):
    forum = make_forum()
    sup = users["supervisor"]
    for i in range(30):
        invite(sup, make_participant(sup, last_name=f"Name{i:02}"), forum)
    auth.login(users["caseworker"])
    page = text(client.get(f"/forums/{forum.id}/print"))
    sheets = re.findall(r'<section class="sheet".*?</section>', page, re.S)
    assert [s.count("<tr>") - 1 for s in sheets] == [25, 5]  # rows less the header row
    assert "names 1\u201325 of 30" in sheets[0]
    assert "names 26\u201330 of 30" in sheets[1]
    assert all('class="signature"' in s for s in sheets)
    assert "roster-print.css" in page
    with client.get("/static/roster-print.css") as response:
        css = response.get_data(as_text=True)
    printing = css[css.index("@media print"):]
    assert ".top" in printing
    assert "display: none" in printing
    assert "break-after: page" in printing


# The door


def test_the_door_checks_a_person_in_and_returns_to_their_row(client, auth, users, make_forum, make_participant):
    forum = make_forum()
    sup = users["supervisor"]
    people = [make_participant(sup, last_name=name) for name in ("Avery", "Brooks", "Cole")]
    for p in people:
        invite(sup, p, forum)
    auth.login(users["police"])
    door = client.get(f"/forums/{forum.id}/door?q=bro")
    page = text(door)
    assert "<strong>0</strong> checked in of <strong>3</strong> expected" in page
    assert '<script src="/static/js/door.js" defer></script>' in page
    assert "<script>" not in page
    assert " style=" not in page
    assert "script-src 'self'" in door.headers["Content-Security-Policy"]
    assert page.count('class="door-row') == 1  # the search works without JavaScript
    brooks = people[1]
    response = client.post(f"/forums/{forum.id}/door/check-in",
                           data={"participant_id": brooks.id, "version": brooks.version, "q": "bro", "page": 1})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/forums/{forum.id}/door?q=bro#p-{brooks.id}"
    assert state_of(brooks.id) == State.ATTENDED
    page = text(client.get(f"/forums/{forum.id}/door"))
    assert "<strong>1</strong> checked in of <strong>3</strong> expected" in page
    assert "Not on the roster" not in page  # police do not invite


def test_the_door_refuses_before_the_forums_day(client, auth, users, make_forum, make_participant):
    forum = make_forum(when=datetime.now(UTC) + timedelta(days=3))
    sup = users["supervisor"]
    p = make_participant(sup)
    invite(sup, p, forum)
    auth.login(users["caseworker"])
    page = text(client.get(f"/forums/{forum.id}/door"))
    assert "Check-in opens on the forum's day" in page
    assert "door/check-in" not in page
    before = records()
    response = client.post(f"/forums/{forum.id}/door/check-in", data={"participant_id": p.id, "version": p.version})
    assert response.status_code == 422
    assert "a person cannot attend a forum that has not happened" in text(response)
    assert records() == before


def test_the_door_refuses_someone_invited_to_another_forum(client, auth, users, make_forum, make_participant):
    here, elsewhere = make_forum(), make_forum()
    sup = users["supervisor"]
    p = make_participant(sup, last_name="Elsewhere")
    invite(sup, p, elsewhere)
    auth.login(users["caseworker"])
    before = records()
    response = client.post(f"/forums/{here.id}/door/check-in", data={"participant_id": p.id, "version": p.version})
    assert response.status_code == 422
    assert "Test Elsewhere: Not on this forum&#39;s roster." in text(response)
    assert records() == before


def test_someone_not_on_the_roster_is_invited_at_the_door(client, auth, users, make_forum, make_participant):
    forum = make_forum()
    sup = users["supervisor"]
    walk_in = make_participant(sup, first_name="Jamal", last_name="Price")
    invite(sup, make_participant(sup, last_name="Avery"), forum)
    auth.login(users["caseworker"])
    page = text(client.get(f"/forums/{forum.id}/door?q=price"))
    assert "No one on the roster matches “price”." in page
    assert "Not on the roster" in page
    assert 'aria-label="Invite Jamal Price"' in page
    response = client.post(f"/forums/{forum.id}/door/invite", data={
        "participant_id": walk_in.id, "version": walk_in.version, "method": "outreach", "q": "price",
    })
    assert response.status_code == 302
    assert response.headers["Location"] == f"/forums/{forum.id}/door?q=price#p-{walk_in.id}"
    assert invitations_of(forum.id)[walk_in.id] == (DeliveryMethod.OUTREACH, None)
    page = text(client.get(f"/forums/{forum.id}/door?q=price"))
    assert 'aria-label="Check in Jamal Price"' in page
    assert "<strong>0</strong> checked in of <strong>2</strong> expected" in page


# The close-out


def test_the_close_out_names_the_missing_and_marks_them_no_show(client, auth, users, make_forum, make_participant):
    forum = make_forum()
    sup = users["supervisor"]
    came, missed_a, missed_b = (make_participant(sup, last_name=n) for n in ("Avery", "Brooks", "Cole"))
    for p in (came, missed_a, missed_b):
        invite(sup, p, forum)
    events.check_in(sup, came, came.version)
    db.session.commit()
    auth.login(users["caseworker"])
    page = text(client.get(f"/forums/{forum.id}/close-out"))
    assert "2 invited and not checked in" in page
    assert "Confirm: mark Test Brooks, Test Cole as no-shows, and the forum held." in page
    assert "Test Avery" not in page
    assert forum_row(forum.id).status == ForumStatus.PLANNED  # asking changed nothing
    response = client.post(f"/forums/{forum.id}/close-out", data={"participant_id": [missed_a.id, missed_b.id]})
    assert response.status_code == 302
    assert forum_row(forum.id).status == ForumStatus.HELD
    assert {pid: attended for pid, (_, attended) in invitations_of(forum.id).items()} == {
        came.id: True, missed_a.id: False, missed_b.id: False,
    }
    assert (state_of(came.id), state_of(missed_a.id), state_of(missed_b.id)) == (
        State.ATTENDED, State.IDENTIFIED, State.IDENTIFIED)
    assert "2 marked no-show; the forum is held." in text(client.get(f"/forums/{forum.id}"))


def test_a_close_out_of_a_list_that_changed_writes_nothing(client, auth, users, make_forum, make_participant):
    forum = make_forum()
    sup = users["supervisor"]
    a, b = make_participant(sup, last_name="Avery"), make_participant(sup, last_name="Brooks")
    for p in (a, b):
        invite(sup, p, forum)
    auth.login(users["supervisor"])
    before = records()
    response = client.post(f"/forums/{forum.id}/close-out", data={"participant_id": [a.id]})  # Brooks unseen
    assert response.status_code == 409
    assert "The roster changed since you looked" in text(response)
    assert records() == before


def test_a_forum_that_has_not_happened_is_not_closed_out(client, auth, users, make_forum, make_participant):
    forum = make_forum(when=datetime.now(UTC) + timedelta(days=2))
    sup = users["supervisor"]
    p = make_participant(sup)
    invite(sup, p, forum)
    auth.login(users["caseworker"])
    assert "The forum has not happened yet" in text(client.get(f"/forums/{forum.id}/close-out"))
    before = records()
    response = client.post(f"/forums/{forum.id}/close-out", data={"participant_id": [p.id]})
    assert response.status_code == 422
    assert records() == before


# Fixed statement counts: the door, the printout and the close-out read a page of any size in the same number of
# statements (issue #12: a roster of thousands renders a page at a time, never a query per row).


def _statements(client, path: str) -> tuple[int, str]:
    db.session.expunge_all()
    with counting() as statements:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(statements), text(response)


def test_the_working_pages_cost_the_same_at_4_and_40_names(client, auth, users, make_forum, make_participant,
                                                          monkeypatch):
    from ceasefire.forums import door

    monkeypatch.setattr(door, "DOOR_PER_PAGE", 100)  # every name on one page, so 40 rows are drawn
    forum_id, sup_id = make_forum().id, users["supervisor"].id
    auth.login(users["supervisor"])
    client.get(f"/forums/{forum_id}")  # the session's last use is written at most once a minute: not counted
    counts: dict[str, list[int]] = {}
    made = 0
    for size in (4, 40):
        sup, forum = db.session.get(User, sup_id), db.session.get(Forum, forum_id)  # each count began afresh
        for i in range(made, size):
            p = make_participant(sup, first_name="Guest", last_name=f"Name{i:02}")
            invite(sup, p, forum)
            if i % 2:
                events.check_in(sup, p, p.version)
                db.session.commit()
        made = size
        for path, marker, rows in (
            ("door", 'class="door-row', size), ("print", '<td class="signature">', size),
            ("close-out", "<li>Name", size // 2), ("", '<tr id="p-', size),
        ):
            n, html = _statements(client, f"/forums/{forum_id}/{path}".rstrip("/"))
            assert html.count(marker) == rows, path
            counts.setdefault(path, []).append(n)
    assert {path: n for path, n in counts.items() if n[0] != n[1]} == {}


def test_the_door_forms_carry_their_token(client, auth, users, make_forum, make_participant, csrf_on):
    forum = make_forum()
    sup = users["supervisor"]
    p = make_participant(sup)
    invite(sup, p, forum)
    auth.login_with_csrf(users["police"])
    page = text(client.get(f"/forums/{forum.id}/door"))
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    data = {"participant_id": p.id, "version": p.version}
    assert client.post(f"/forums/{forum.id}/door/check-in", data=data).status_code == 400  # no token
    assert state_of(p.id) == State.INVITED
    response = client.post(f"/forums/{forum.id}/door/check-in", data=data | {"csrf_token": token})
    assert response.status_code == 302
    assert state_of(p.id) == State.ATTENDED


def test_a_community_group_sees_only_its_assigned_people_and_not_how_they_were_invited(
    client, auth, users, make_forum, make_participant
):
    forum = make_forum()
    sup, community = users["supervisor"], users["community"]
    mine = make_participant(sup, last_name="Assigned", community_org_id=community.organization_id)
    other = make_participant(sup, last_name="Elsewhere")
    invite(sup, mine, forum, "probation_condition")
    invite(sup, other, forum, "parole_condition")
    auth.login(community)
    for path in ("", "/print"):
        page = text(client.get(f"/forums/{forum.id}{path}"))
        assert "Assigned" in page, path
        assert "Elsewhere" not in page, path
        assert "Probation condition" not in page, path
        assert "How invited" not in page, path
    assert "1 invited · 0 checked in" in text(client.get(f"/forums/{forum.id}"))
    assert client.get(f"/forums/{forum.id}/door").status_code == 403
