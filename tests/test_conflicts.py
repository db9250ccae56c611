"""Issue #10, conflicts that lose nothing: when someone else saved first, the edit page says who and when, shows
their values beside what the user typed, keeps the user's input and applies it on top of the new version in one
step; a pipeline event sent from a stale page says in words what happened meanwhile."""

from __future__ import annotations

import html as html_lib
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from helpers import snapshot

from ceasefire.extensions import db
from ceasefire.models import AuditEvent, Participant


class _Form(HTMLParser):
    """The values a browser would send for the page's form with method post and class card (the edit form)."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}
        self.inside = False
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and "card" in (a.get("class") or ""):
            self.inside = True
        if not self.inside:
            return
        if tag == "input" and a.get("name"):
            self.values[a["name"]] = a.get("value") or ""
        elif tag == "select":
            self.select = a["name"]
            self.values.setdefault(self.select, "")
        elif tag == "option" and self.select and "selected" in a:
            self.values[self.select] = a.get("value") or ""
        elif tag == "textarea":
            self.textarea = a["name"]
            self.values[self.textarea] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data):
        if self.textarea:
            self.values[self.textarea] += data.lstrip("\n")


def form_values(html: str) -> dict[str, str]:
    parser = _Form()
    parser.feed(html)
    return parser.values


def text(response) -> str:
    """The page as a person reads it (entities decoded): for what it says, not for its forms."""
    return html_lib.unescape(response.get_data(as_text=True))


def raw(response) -> str:
    return response.get_data(as_text=True)


def _local_time_of_last_change(app, participant_id: int) -> str:
    at = db.session.scalar(sa.select(AuditEvent.at).where(AuditEvent.object_id == participant_id,
                                                          AuditEvent.object_type == "participant")
                           .order_by(AuditEvent.id.desc()).limit(1))
    return f"{at.astimezone(ZoneInfo(app.config['TIMEZONE'])):%H:%M}"


@pytest.fixture
def two(app, users, auth, make_user):
    """Two caseworkers, each in a browser of their own, and the participant they both edit."""
    dana = make_user("caseworker")
    dana.name = "Dana Rivera"
    db.session.commit()
    first, second = app.test_client(), app.test_client()
    assert auth.login(dana, client=first).status_code == 302
    assert auth.login(users["caseworker"], client=second).status_code == 302
    return first, second, dana


def test_the_second_save_keeps_both_sides(app, users, make_participant, two):
    first, second, _dana = two
    p = make_participant(users["caseworker"], first_name="Marcus", last_name="Reed", phone="(312) 555-0100",
                         address="1 Oak St", aliases="Smoke")
    # both open the edit page at version 1
    mine = form_values(raw(second.get(f"/participants/{p.id}/edit")))
    theirs = form_values(raw(first.get(f"/participants/{p.id}/edit")))
    assert mine["version"] == theirs["version"] == "1"
    # Dana saves first: a new phone and a new address
    saved = first.post(f"/participants/{p.id}/edit", data=theirs | {"phone": "(312) 555-0199",
                                                                    "address": "22 Elm St"})
    assert saved.status_code == 302
    # the second saves a different phone and new aliases, on the page read before
    response = second.post(f"/participants/{p.id}/edit", data=mine | {"phone": "(773) 555-0111",
                                                                    "aliases": "Smoke, Little M"})
    assert response.status_code == 409
    html = text(response)
    assert f"Dana Rivera changed Marcus's record at {_local_time_of_last_change(app, p.id)}." in html
    table = re.search(r'<table>.*?</table>', html.split('id="conflict-h"')[1], re.S).group(0)
    assert re.search(r'<th scope="row">Phone</th><td class="theirs">\(312\) 555-0199</td>'
                     r'<td class="mine">\(773\) 555-0111</td>', table), table
    assert "Aliases" not in table
    assert "Address" not in table
    assert "Their changes to Address are in the form" in html
    kept = form_values(raw(response))
    assert (kept["phone"], kept["aliases"], kept["address"], kept["version"]) == (
        "(773) 555-0111", "Smoke, Little M", "22 Elm St", "2")
    assert snapshot(p.id).version == 2  # nothing of the second's was written
    # one step: the form as it stands lands on top of Dana's version
    applied = second.post(f"/participants/{p.id}/edit", data=kept)
    assert applied.status_code == 302
    with db.engine.connect() as conn:
        row = conn.execute(sa.select(Participant.phone, Participant.aliases, Participant.address, Participant.version)
                           .where(Participant.id == p.id)).one()
    assert tuple(row) == ("(773) 555-0111", "Smoke, Little M", "22 Elm St", 3)


def test_a_page_without_its_base_treats_every_difference_as_a_conflict(users, make_participant, two):
    first, second, _ = two
    p = make_participant(users["caseworker"], first_name="Marcus", last_name="Reed", address="1 Oak St")
    mine = form_values(raw(second.get(f"/participants/{p.id}/edit")))
    theirs = form_values(raw(first.get(f"/participants/{p.id}/edit")))
    assert first.post(f"/participants/{p.id}/edit", data=theirs | {"address": "22 Elm St"}).status_code == 302
    del mine["base"]
    response = second.post(f"/participants/{p.id}/edit", data=mine)
    assert response.status_code == 409
    # no base: the address the second sent (the old one) is kept for them to confirm, beside the new one
    assert re.search(r'<th scope="row">Address</th><td class="theirs">22 Elm St</td><td class="mine">1 Oak St</td>',
                     text(response))
    assert form_values(raw(response))["address"] == "1 Oak St"


def test_an_event_on_a_stale_page_says_what_happened_in_words(app, users, make_participant, make_forum, two):
    first, second, _ = two
    forum = make_forum(datetime.now(UTC))  # the forum's day has come: check-in is open
    p = make_participant(users["caseworker"], first_name="Marcus", last_name="Reed")
    assert first.post(f"/participants/{p.id}/events/invite", data={
        "version": 1, "forum_id": forum.id, "method": "letter"}).status_code == 302
    # the second's page shows version 2; Dana checks Marcus in at the door first
    assert first.post(f"/participants/{p.id}/events/attend", data={"version": 2}).status_code == 302
    before = snapshot(p.id)
    response = second.post(f"/participants/{p.id}/events/attend", data={"version": 2})
    assert response.status_code == 409
    html = text(response)
    assert f"Dana Rivera checked Marcus in at {_local_time_of_last_change(app, p.id)}." in html
    assert "you sent" not in html
    assert snapshot(p.id) == before
    # an event with a form of its own keeps what was typed and now carries the new version
    response = second.post(f"/participants/{p.id}/events/close", data={"version": 2, "reason": "moved"})
    assert response.status_code == 409
    kept = form_values(raw(response))
    assert "Dana Rivera checked Marcus in" in text(response)
    assert (kept["version"], kept["reason"]) == ("3", "moved")


def test_consent_from_a_stale_page_says_who_changed_the_record(app, users, make_participant, two):
    first, second, _ = two
    p = make_participant(users["caseworker"], first_name="Marcus", last_name="Reed")
    theirs = form_values(raw(first.get(f"/participants/{p.id}/edit")))
    assert first.post(f"/participants/{p.id}/edit", data=theirs | {"phone": "(312) 555-0199"}).status_code == 302
    response = second.post(f"/participants/{p.id}/consent", data={"version": 1, "consent_to_share": "yes"})
    assert response.status_code == 409
    assert f"Dana Rivera changed Marcus's record at {_local_time_of_last_change(app, p.id)}." in text(response)
    assert snapshot(p.id).version == 2
