"""Issue #10, the audit viewer: names instead of ids, actions in words, pickers for the user and the participant that
need no numeric id, a date range in the program's time zone, older and newer (issue #12: never a count of the whole
trail); the CSV keeps ids beside the names, and the API's /audit keeps exactly its shape."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from helpers import counting, text

from ceasefire.extensions import db
from ceasefire.models import User
from ceasefire.models.enums import Role
from ceasefire.services import audit, audit_read, audit_trail, staff

LA = ZoneInfo("America/Los_Angeles")


@pytest.fixture
def app_config(app_config):
    return app_config | {"TIMEZONE": "America/Los_Angeles"}


def rows_of(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return [unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()) for row in body.split("<tr>")[1:]]


def at(moment: datetime, actor, action: str, participant=None, detail: str | None = None) -> None:
    row = audit.record(actor, action, "participant" if participant else None, participant.id if participant else None,
                       detail)
    row.at = moment


def test_rows_read_as_names_and_words(client, auth, users, make_participant):
    marcus = make_participant(users["caseworker"], first_name="Marcus", last_name="Reed")
    auth.login(users["supervisor"])
    assert client.get(f"/participants/{marcus.id}").status_code == 200
    html = text(client.get("/audit/", query_string={"action": "view"}))
    [row] = rows_of(html)
    assert "Test supervisor" in row
    assert "Opened a record" in row
    assert "Marcus Reed" in row
    assert "Participant" in row
    assert ">view<" not in html
    # The action picker speaks words too; the user picker lists people by name and role, no ids to type.
    assert 'value="view">Opened a record</option>' in html
    assert f'<option value="{users["police"].id}">Test police (police)</option>' in html
    assert 'name="user_id" type="text"' not in html


def test_pick_a_user_and_search_a_participant_by_name(client, auth, users, make_participant):
    cw, police = users["caseworker"], users["police"]
    marcus = make_participant(cw, first_name="Marcus", last_name="Reed")
    andre = make_participant(police, first_name="Andre", last_name="Walker")
    auth.login(users["supervisor"])
    mine = rows_of(text(client.get("/audit/", query_string={"user_id": police.id, "action": "create"})))
    assert len(mine) == 1
    assert "Test police" in mine[0]
    assert "Andre Walker" in mine[0]
    found = rows_of(text(client.get("/audit/", query_string={"participant": "reed"})))
    assert len(found) == 1
    assert "Marcus Reed" in found[0]
    assert "Andre" not in found[0]
    assert len(rows_of(text(client.get("/audit/", query_string={"participant": "walker, andre"})))) == 1
    assert rows_of(text(client.get("/audit/", query_string={"participant": "nobody by that name"}))) == []
    assert marcus.id != andre.id


def test_a_name_many_people_share_asks_for_more_of_it(client, auth, users, make_participant, monkeypatch):
    """The trail is filtered by the ids of the people a name finds; a name too many share is a clear message."""
    monkeypatch.setattr(audit_trail, "NAMED_MAX", 2)
    cw = users["caseworker"]
    for first in ("Marcus", "Maria", "Mark"):
        make_participant(cw, first_name=first, last_name="Reed")
    make_participant(cw, first_name="Ann", last_name="Other", aliases="Reedy")
    auth.login(users["supervisor"])
    response = client.get("/audit/", query_string={"participant": "reed"})
    assert response.status_code == 422
    assert "More than 2 people&#39;s names hold &#34;reed&#34;: type more of the name." in text(response)
    assert rows_of(text(response)) == []
    download = client.get("/audit/export.csv", query_string={"participant": "reed"})
    assert download.status_code == 422
    assert "type more of the name" in text(download)
    [found] = rows_of(text(client.get("/audit/", query_string={"participant": "REED, Mari"})))
    assert "Maria Reed" in found
    [found] = rows_of(text(client.get("/audit/", query_string={"participant": "ann oth"})))
    assert "Ann Other" in found
    assert rows_of(text(client.get("/audit/", query_string={"participant": "reedy"}))) == []  # names, not aliases


def test_the_date_range_is_the_programs_days(client, auth, users, make_participant):
    cw = users["caseworker"]
    marcus = make_participant(cw, first_name="Marcus", last_name="Reed")
    # 06:30 UTC on 10 March 2026 is 23:30 on the 9th in Los Angeles (PDT, UTC-7); 08:00 UTC is 01:00 on the 10th.
    at(datetime(2026, 3, 10, 6, 30, tzinfo=UTC), cw, "import", marcus, "late on the 9th")
    at(datetime(2026, 3, 10, 8, 0, tzinfo=UTC), cw, "import", marcus, "early on the 10th")
    at(datetime(2026, 3, 9, 6, 59, tzinfo=UTC), cw, "import", marcus, "the 8th, just before midnight")
    db.session.commit()
    auth.login(users["supervisor"])
    ninth = rows_of(text(client.get("/audit/", query_string={"action": "import", "date_from": "2026-03-09",
                                                             "date_to": "2026-03-09"})))
    assert len(ninth) == 1
    assert "late on the 9th" in ninth[0]
    assert "2026-03-09 23:30 PDT" in ninth[0]
    tenth = rows_of(text(client.get("/audit/", query_string={"action": "import", "date_from": "2026-03-10"})))
    assert [("early on the 10th" in r) for r in tenth] == [True]
    up_to_ninth = rows_of(text(client.get("/audit/", query_string={"action": "import", "date_to": "2026-03-09"})))
    assert len(up_to_ninth) == 2
    backwards = client.get("/audit/", query_string={"date_from": "2026-03-10", "date_to": "2026-03-09"})
    assert backwards.status_code == 422
    assert "The range ends before it starts." in text(backwards)


def older_newer(html: str) -> dict[str, str]:
    """The pager's links by their words (Newest, Newer, Older)."""
    marker = 'aria-label="Move through the trail"'
    nav = html.split(marker, 1)[1].split("</nav>", 1)[0] if marker in html else ""
    return {word: unescape(href) for href, word in re.findall(r'href="([^"]+)">(\w+)</a>', nav)}


def test_fifty_at_a_time_older_and_newer(client, auth, users):
    """The trail is moved through from a row's place (older, newer), not by page numbers; the filters stay on."""
    cw = users["caseworker"]
    for i in range(120):
        at(datetime(2026, 1, 1, 12, 0, tzinfo=UTC).replace(minute=i % 60, hour=12 + i // 60), cw, "import",
           detail=f"batch {i}")
    db.session.commit()
    auth.login(users["supervisor"])
    first = text(client.get("/audit/", query_string={"action": "import"}))
    assert "120 events match, newest first." in first
    assert [r.split()[-1] for r in rows_of(first)] == [str(i) for i in range(119, 69, -1)]
    links = older_newer(first)
    assert set(links) == {"Older"}  # the newest: nothing newer
    second = text(client.get(links["Older"]))
    assert "these are older ones" in second
    assert [r.split()[-1] for r in rows_of(second)] == [str(i) for i in range(69, 19, -1)]
    links = older_newer(second)
    assert set(links) == {"Newest", "Newer", "Older"}
    assert "action=import" in links["Older"]
    last = text(client.get(links["Older"]))
    assert [r.split()[-1] for r in rows_of(last)] == [str(i) for i in range(19, -1, -1)]
    assert "Older" not in older_newer(last)  # the oldest: nothing older
    back = text(client.get(older_newer(last)["Newer"]))
    assert [r.split()[-1] for r in rows_of(back)] == [str(i) for i in range(69, 19, -1)]
    newest = text(client.get(older_newer(back)["Newer"]))
    assert [r.split()[-1] for r in rows_of(newest)] == [str(i) for i in range(119, 69, -1)]
    assert set(older_newer(newest)) == {"Older"}


def test_rows_of_the_same_moment_are_neither_skipped_nor_repeated(client, auth, users):
    cw = users["caseworker"]
    for i in range(75):
        at(datetime(2026, 2, 2, 9, 0, tzinfo=UTC), cw, "import", detail=f"same {i}")
    db.session.commit()
    auth.login(users["supervisor"])
    first = text(client.get("/audit/", query_string={"action": "import"}))
    second = text(client.get(older_newer(first)["Older"]))
    seen = [r.split()[-1] for r in rows_of(first) + rows_of(second)]
    assert sorted(seen, key=int) == [str(i) for i in range(75)]


def test_a_trail_beyond_the_count_says_more_than(client, auth, users, monkeypatch):
    """A trail of millions is counted up to a cap, and the page says so plainly."""
    monkeypatch.setattr(audit_read, "COUNT_CAP", 30)
    cw = users["caseworker"]
    for i in range(40):
        at(datetime(2026, 1, 1, 12, i, tzinfo=UTC), cw, "import", detail=f"batch {i}")
    db.session.commit()
    auth.login(users["supervisor"])
    html = text(client.get("/audit/", query_string={"action": "import"}))
    assert "More than 30 events match, newest first." in html
    assert "counted up to 30: filter it" in html
    assert len(rows_of(html)) == 40
    exact = text(client.get("/audit/", query_string={"action": "import", "date_from": "2026-01-01",
                                                     "user_id": cw.id, "participant_id": ""}))
    assert "More than 30" in exact


@pytest.mark.parametrize(("query", "message"), [
    ({"older_than": "abc"}, "Not a valid integer value."),
    ({"newer_than": "0"}, "There is no such id"),
    ({"older_than": "99999999999"}, "There is no such id"),
    ({"older_than": "999999"}, "There is no such row of the audit trail to move from."),
    ({"newer_than": "999999", "action": "import"}, "There is no such row of the audit trail to move from."),
])
def test_a_bad_place_to_move_from_is_a_clear_message(client, auth, users, query, message):
    auth.login(users["supervisor"])
    response = client.get("/audit/", query_string=query)
    assert response.status_code == 422
    html = text(response)
    assert message in html
    assert 'href="/audit/' in html.split(message, 1)[1].split("</p>", 1)[0]  # a way back to the newest
    assert rows_of(html) == []


def test_the_trail_page_costs_the_same_whatever_it_holds(client, auth, users):
    cw_id = users["caseworker"].id
    auth.login(users["supervisor"])
    counts = []
    made = 0
    for size in (60, 300):
        cw = db.session.get(User, cw_id)
        for i in range(made, size):
            at(datetime(2026, 1, 1, 12, tzinfo=UTC).replace(minute=i % 60, second=i // 60), cw, "import",
               detail=f"row {i}")
        made = size
        db.session.commit()
        first = text(client.get("/audit/"))
        older = older_newer(first)["Older"]
        for path in ("/audit/", older, "/audit/?action=import"):
            client.get(path)
            db.session.expunge_all()
            with counting() as statements:
                assert client.get(path).status_code == 200
            counts.append((path.split("?")[-1].split("=")[0], len(statements)))
    small, large = counts[:3], counts[3:]
    assert [n for _, n in small] == [n for _, n in large], counts


def test_the_csv_keeps_ids_beside_names_and_local_times(client, auth, users, make_participant):
    cw = users["caseworker"]
    marcus = make_participant(cw, first_name="Marcus", last_name="Reed")
    at(datetime(2026, 7, 4, 19, 5, tzinfo=UTC), cw, "import", marcus, "summer")
    db.session.commit()
    auth.login(users["supervisor"])
    lines = text(client.get("/audit/export.csv", query_string={"action": "import"})).splitlines()
    assert lines[1] == (f"2026-07-04T12:05:00-07:00,{cw.id},Test caseworker,import,Imported,participant,{marcus.id},"
                        f"Marcus Reed,{marcus.id},Marcus Reed,,,summer")


def test_a_row_about_a_user_names_them(client, auth, users):
    admin, cw = users["admin"], users["caseworker"]
    staff.update_user(admin, cw, Role.SUPERVISOR, None)
    db.session.commit()
    auth.login(users["supervisor"])
    [row] = rows_of(text(client.get("/audit/", query_string={"action": "role_change"})))
    assert row.startswith(f"{datetime.now(LA):%Y-%m-%d}")
    assert "Test admin Role changed User Test caseworker" in row
    assert "caseworker->supervisor" in row
    lines = text(client.get("/audit/export.csv", query_string={"action": "role_change"})).splitlines()
    assert f",{admin.id},Test admin,role_change,Role changed,user,{cw.id},Test caseworker,,," in lines[1]


def test_the_api_keeps_its_shape(users, api_as, make_participant):
    make_participant(users["caseworker"], first_name="Marcus", last_name="Reed")
    status, body = api_as(users["supervisor"]).get("/audit", query_string={"action": "create"})
    assert status == 200
    assert body["items"]
    assert {frozenset(item) for item in body["items"]} == {
        frozenset({"at", "user_id", "action", "object_type", "object_id", "ip", "detail"})
    }


def test_a_large_programs_user_picker_is_a_typed_name(client, auth, users, make_user, monkeypatch):
    """Beyond lookup.THRESHOLD users the picker is a text box: a name resolved to its user, a link's id shown by
    name, a name two people share offered as links, a name no one has said; nothing is filtered then (422)."""
    from ceasefire.services import lookup

    monkeypatch.setattr(lookup, "THRESHOLD", 0)
    police, other = users["police"], make_user("police")
    auth.login(users["supervisor"])
    html = text(client.get("/audit/"))
    assert re.search(r'<input type="text" [^>]*id="user_id" name="user" value="" autocomplete="off" '
                     r'data-lookup="/lookup/user"', html)
    assert '<label for="user_id">' in html
    assert 'src="/static/js/lookup.js"' in html
    assert "<option" not in re.search(r'<div class="field[^"]*">\s*<label for="user_id">.*?</div>', html, re.S).group(0)
    response = client.get("/audit/", query_string={"user": f"Test police ({police.email})", "action": "sign_in"})
    assert response.status_code == 200
    html = text(response)
    assert f'<input type="hidden" name="user_id" value="{police.id}">' in html
    assert all("Test police" in row for row in rows_of(html))
    html = text(client.get("/audit/", query_string={"user_id": other.id}))
    assert f'value="Test police ({other.email})"' in html
    response = client.get("/audit/", query_string={"user": "test police", "action": "sign_in"})
    assert response.status_code == 422
    html = text(response)
    assert "More than one user is named “test police”: choose one." in html
    for who in (police, other):
        assert f'href="/audit/?action=sign_in&amp;user_id={who.id}"' in html
    response = client.get("/audit/", query_string={"user": "Nobody Atall"})
    assert response.status_code == 422
    assert "No user is named “Nobody Atall”, and no name starts so: check the spelling." in text(response)
    assert client.get("/audit/", query_string={"user_id": 424242}).status_code == 422
