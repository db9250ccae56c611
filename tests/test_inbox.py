"""Issue #10, the provider inbox: tabs new / accepted / enrolled / closed, each row with what the policy lets a
provider see, the steps as buttons in the order they come, and a note kept in the referral's history."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from helpers import text

from ceasefire.extensions import db
from ceasefire.models import Referral, ReferralEvent
from ceasefire.models.base import utcnow
from ceasefire.models.enums import Role
from ceasefire.services import referrals as referral_service


def tab_counts(html: str) -> dict[str, int]:
    nav = re.search(r'<nav class="tabs" aria-label="Where the referrals stand">(.*?)</nav>', html, re.S).group(1)
    return {label.strip(): int(n) for label, n in re.findall(r'>([^<>]+?) <span class="count-badge">(\d+)</span>', nav)}


def row(html: str, referral_id: int) -> str:
    match = re.search(rf'<tr>\s*<th scope="row"><a href="/referrals/{referral_id}">.*?</tr>', html, re.S)
    assert match, f"no row for referral {referral_id}"
    return match.group(0)


def steps(row_html: str) -> list[str]:
    return re.findall(r'<button type="submit" name="status" value="(\w+)"', row_html)


@pytest.fixture
def box(users, make_participant, make_service, make_org):
    provider, cw = users["provider"], users["caseworker"]
    jobs = make_service(provider.organization, name="Hope Jobs")
    elsewhere = make_service(make_org(), name="Elsewhere Counselling")
    people = {name: make_participant(cw, first_name=name, last_name="Reed", phone=f"(312) 555-01{i:02}",
                                     consent_to_share=True)
              for i, name in enumerate(("Marcus", "Nia", "Omar", "Pia", "Quinn"))}
    r = {
        "new": referral_service.send_referral(cw, people["Marcus"], jobs, "Wants work before the winter"),
        "accepted": referral_service.send_referral(cw, people["Nia"], jobs, None),
        "enrolled": referral_service.send_referral(cw, people["Omar"], jobs, None),
        "declined": referral_service.send_referral(cw, people["Pia"], jobs, None),
        "other": referral_service.send_referral(cw, people["Quinn"], elsewhere, "Not theirs"),
    }
    db.session.commit()
    referral_service.set_status(provider, r["accepted"], "accepted")
    referral_service.set_status(provider, r["enrolled"], "accepted")
    referral_service.set_status(provider, r["enrolled"], "enrolled")
    referral_service.set_status(provider, r["declined"], "declined", "No places left.")
    db.session.commit()
    moment = utcnow() - timedelta(days=6, hours=2)
    db.session.execute(sa.update(Referral).where(Referral.id == r["new"].id).values(sent_at=moment, updated_at=moment))
    db.session.commit()
    return r


def test_tabs_rows_and_buttons_in_the_order_of_the_steps(box, users, client, auth):
    auth.login(users["provider"])
    html = text(client.get("/referrals/inbox"))
    assert tab_counts(html) == {"New": 1, "Accepted": 1, "Enrolled": 1, "Closed": 1}
    new = row(html, box["new"].id)
    for shown in ("Reed, Marcus", "(312) 555-0100", "Hope Jobs", "Wants work before the winter",
                  '<td class="days">6</td>'):
        assert shown in new, shown
    assert "Date of birth" not in html  # the minimum: name, phone, service, note, days
    assert steps(new) == ["accepted", "declined"]
    assert f"/referrals/{box['other'].id}" not in html
    assert "Quinn" not in html
    accepted = text(client.get("/referrals/inbox?tab=accepted"))
    assert steps(row(accepted, box["accepted"].id)) == ["enrolled", "dropped"]
    enrolled = text(client.get("/referrals/inbox?tab=enrolled"))
    assert steps(row(enrolled, box["enrolled"].id)) == ["completed", "dropped"]
    closed = text(client.get("/referrals/inbox?tab=closed"))
    assert "Reed, Pia" in closed
    assert steps(closed) == []


def test_each_step_keeps_its_note_in_the_history(box, users, client, auth):
    auth.login(users["provider"])
    rid = box["new"].id
    response = client.post(f"/referrals/{rid}/status", data={
        "status": "accepted", "note": "  Called him; starts Monday.  ", "next": "/referrals/inbox?tab=new",
    })
    assert response.status_code == 302
    assert response.headers["Location"] == "/referrals/inbox?tab=new"
    followed = text(client.get("/referrals/inbox?tab=new"))
    assert "Referral to Hope Jobs accepted." in followed
    with db.engine.connect() as conn:
        last = conn.execute(sa.select(ReferralEvent.to_status, ReferralEvent.note, ReferralEvent.reason)
                            .where(ReferralEvent.referral_id == rid).order_by(ReferralEvent.id.desc())).first()
    assert tuple(last) == ("accepted", "Called him; starts Monday.", None)
    page = text(client.get(f"/referrals/{rid}"))
    assert "Called him; starts Monday." in page


def test_declining_from_the_inbox_takes_the_note_as_the_reason(box, users, client, auth):
    auth.login(users["provider"])
    rid = box["new"].id
    refused = client.post(f"/referrals/{rid}/status", data={"status": "declined", "note": " ",
                                                          "next": "/referrals/inbox"})
    assert refused.status_code == 422
    assert "Say why the referral is declined." in text(refused)
    assert db.session.scalar(sa.select(Referral.status).where(Referral.id == rid)) == "sent"
    done = client.post(f"/referrals/{rid}/status", data={"status": "declined", "note": "Lives outside our area.",
                                                       "next": "/referrals/inbox"})
    assert done.status_code == 302
    with db.engine.connect() as conn:
        status, reason = conn.execute(sa.select(Referral.status, Referral.reason).where(Referral.id == rid)).one()
    assert (status, reason) == ("declined", "Lives outside our area.")
    assert tab_counts(text(client.get("/referrals/inbox")))["Closed"] == 2


@pytest.mark.parametrize("role", [r for r in Role if r != Role.PROVIDER])
def test_the_inbox_is_the_providers(box, users, client, auth, role):
    auth.login(users[role])
    assert client.get("/referrals/inbox").status_code == 403


def test_an_unknown_tab_shows_the_new_ones(box, users, client, auth):
    auth.login(users["provider"])
    response = client.get("/referrals/inbox?tab=nonsense&page=99")
    assert response.status_code == 200
    assert "Reed, Marcus" in text(response)
