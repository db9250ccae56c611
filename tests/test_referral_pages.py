"""The referral pages, through the HTTP test client: a provider works their organization's referrals with the
buttons, a caseworker withdraws one, and nobody sees or changes a referral the policy keeps from them."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from helpers import text

from ceasefire.extensions import db
from ceasefire.models import AuditEvent, Organization, Participant, Referral, ReferralEvent, User
from ceasefire.models.enums import ReferralStatus, Role
from ceasefire.services import referrals as referral_service

S = ReferralStatus


def buttons(html: str) -> set[str]:
    """The statuses a referral page offers: the status each of its forms posts."""
    return set(re.findall(r'name="status" value="(\w+)"', html))


def section(html: str, heading_id: str) -> str:
    match = re.search(rf'<section[^>]*aria-labelledby="{heading_id}".*?</section>', html, re.S)
    assert match, f"no section {heading_id}"
    return match.group(0)


@dataclass(frozen=True)
class Stored:
    """What the database holds about one referral, read on a connection of its own."""

    status: str
    reason: str | None
    closed: bool
    events: tuple
    status_audits: int


def stored(referral_id: int) -> Stored:
    with db.engine.connect() as conn:
        status, reason, closed_at = conn.execute(
            sa.select(Referral.status, Referral.reason, Referral.closed_at).where(Referral.id == referral_id)
        ).one()
        events = conn.execute(
            sa.select(ReferralEvent.from_status, ReferralEvent.to_status, ReferralEvent.actor_id, ReferralEvent.reason)
            .where(ReferralEvent.referral_id == referral_id)
            .order_by(ReferralEvent.id)
        ).all()
        audits = conn.scalar(
            sa.select(sa.func.count(AuditEvent.id)).where(
                AuditEvent.action == "referral_status", AuditEvent.object_id == referral_id
            )
        )
    return Stored(S(status).value, reason, closed_at is not None, tuple(tuple(e) for e in events), audits)


@pytest.fixture
def refer(users, make_participant, make_service):
    """A referral from the caseworker to a service of the given provider's organization (the fixture provider's
    by default), for a participant with a consent to share in force."""

    def make(provider: User | None = None, participant: Participant | None = None, **fields) -> Referral:
        provider = provider or users["provider"]
        service = make_service(organization=db.session.get(Organization, provider.organization_id))
        participant = participant or make_participant(users["caseworker"], consent_to_share=True, **fields)
        referral = referral_service.send_referral(users["caseworker"], participant, service, "Keen to start work")
        db.session.commit()
        return referral

    return make


def move(referral: Referral, actor: User, *statuses: str) -> None:
    """Set-up, not the thing tested: walk a referral along its road through the service."""
    for status in statuses:
        reason = "No longer interested" if status == "declined" else None
        referral_service.set_status(actor, referral, S(status), reason)
    db.session.commit()


# Who sees which referrals


def test_a_provider_sees_only_their_organizations_referrals(client, auth, users, make_user, refer):
    other = make_user(Role.PROVIDER)
    own = refer(first_name="Marcus", last_name="Hill", phone="(312) 555-0101", address="12 Oak St")
    theirs = refer(other, first_name="Darnell", last_name="Young", phone="(312) 555-0199")

    assert auth.login(users["provider"]).status_code == 302
    page = text(client.get("/referrals/"))
    assert f"/referrals/{own.id}" in page
    assert "Hill, Marcus" in page
    assert "(312) 555-0101" in page
    assert "12 Oak St" not in page  # a provider sees the phone, not the address
    assert f'href="/referrals/{theirs.id}"' not in page
    assert "Young" not in page
    assert "555-0199" not in page

    detail = text(client.get(f"/referrals/{own.id}"))
    assert "(312) 555-0101" in detail
    assert "12 Oak St" not in detail
    assert client.get(f"/referrals/{theirs.id}").status_code == 404


@pytest.mark.parametrize("role", ["caseworker", "supervisor"])
def test_caseworkers_and_supervisors_see_every_referral(client, auth, users, make_user, refer, role):
    one = refer(last_name="Hill")
    two = refer(make_user(Role.PROVIDER), last_name="Young")
    assert auth.login(users[role]).status_code == 302
    page = text(client.get("/referrals/"))
    assert f'href="/referrals/{one.id}"' in page
    assert f'href="/referrals/{two.id}"' in page
    assert "2 referrals" in page
    assert client.get(f"/referrals/{two.id}").status_code == 200


def test_revoking_consent_closes_the_providers_access_at_once(app, client, auth, users, refer):
    referral = refer(last_name="Hill")
    assert auth.login(users["provider"]).status_code == 302
    assert client.get(f"/referrals/{referral.id}").status_code == 200
    assert f'href="/referrals/{referral.id}"' in text(client.get("/referrals/"))

    caseworker = app.test_client()
    assert auth.login(users["caseworker"], client=caseworker).status_code == 302
    p = referral.participant
    response = caseworker.post(f"/participants/{p.id}/consent/revoke", data={"version": p.version})
    assert response.status_code == 302
    before = stored(referral.id)

    assert client.get(f"/referrals/{referral.id}").status_code == 404
    page = text(client.get("/referrals/"))
    assert f"/referrals/{referral.id}" not in page
    assert "Hill" not in page
    assert client.post(f"/referrals/{referral.id}/status", data={"status": "accepted"}).status_code == 404
    assert stored(referral.id) == before


def test_a_closed_referral_leaves_the_providers_view_after_the_window(app, client, auth, users, refer):
    referral = refer()
    move(referral, users["provider"], "accepted", "enrolled", "completed")
    assert auth.login(users["provider"]).status_code == 302
    assert client.get(f"/referrals/{referral.id}").status_code == 200
    app.config["PROVIDER_CLOSED_REFERRAL_DAYS"] = 0  # every closed referral is now older than the window
    assert client.get(f"/referrals/{referral.id}").status_code == 404
    assert f"/referrals/{referral.id}" not in text(client.get("/referrals/"))


def test_a_provider_of_another_organization_gets_404(client, auth, users, make_user, refer):
    referral = refer()
    before = stored(referral.id)
    assert auth.login(make_user(Role.PROVIDER)).status_code == 302
    assert client.get(f"/referrals/{referral.id}").status_code == 404
    assert client.post(f"/referrals/{referral.id}/status", data={"status": "accepted"}).status_code == 404
    assert client.get("/referrals/999999").status_code == 404
    assert stored(referral.id) == before


@pytest.mark.parametrize("role", ["police", "community", "admin"])
def test_roles_that_work_no_referrals_are_refused(client, auth, users, refer, role):
    referral = refer()
    before = stored(referral.id)
    assert auth.login(users[role]).status_code == 302
    assert client.get("/referrals/").status_code == 403
    assert client.get(f"/referrals/{referral.id}").status_code == 403
    assert client.post(f"/referrals/{referral.id}/status", data={"status": "withdrawn"}).status_code == 403
    assert stored(referral.id) == before


def test_the_pages_need_a_signed_in_user(client, refer):
    referral = refer()
    for path in ("/referrals/", f"/referrals/{referral.id}"):
        response = client.get(path)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]
    assert client.post(f"/referrals/{referral.id}/status", data={"status": "accepted"}).status_code == 302
    assert stored(referral.id).status == "sent"


# Working a referral with the buttons


def test_a_provider_walks_a_referral_to_completed(client, auth, users, refer):
    provider = users["provider"]
    referral = refer()
    assert auth.login(provider).status_code == 302
    for status in ("accepted", "enrolled", "completed"):
        page = text(client.get(f"/referrals/{referral.id}"))
        assert status in buttons(page)
        response = client.post(f"/referrals/{referral.id}/status", data={"status": status})
        assert response.status_code == 302, text(response)
        assert response.headers["Location"].endswith(f"/referrals/{referral.id}")
        assert stored(referral.id).status == status

    after = stored(referral.id)
    assert [(e[0], e[1]) for e in after.events] == [
        (None, "sent"), ("sent", "accepted"), ("accepted", "enrolled"), ("enrolled", "completed"),
    ]
    assert {e[2] for e in after.events[1:]} == {provider.id}
    assert after.closed
    assert after.status_audits == 3

    page = text(client.get(f"/referrals/{referral.id}"))
    assert buttons(page) == set()
    timeline = section(page, "history-h")
    steps = ["<strong>Sent</strong>", "Sent → <strong>Accepted</strong>", "Accepted → <strong>Enrolled</strong>",
             "Enrolled → <strong>Completed</strong>"]
    positions = [timeline.find(step) for step in steps]
    assert all(pos >= 0 for pos in positions), timeline
    assert positions == sorted(positions)


def test_declining_needs_a_reason(client, auth, users, refer):
    referral = refer()
    assert auth.login(users["provider"]).status_code == 302
    page = text(client.get(f"/referrals/{referral.id}"))
    assert re.search(r'<label for="reason">', page)
    assert "<textarea" in page
    before = stored(referral.id)

    for reason in ("", "   "):
        response = client.post(f"/referrals/{referral.id}/status", data={"status": "declined", "reason": reason})
        assert response.status_code == 422
        html = text(response)
        assert "Say why the referral is declined." in html
        assert 'id="reason-error"' in html
        assert 'aria-invalid="true"' in html
        assert stored(referral.id) == before

    response = client.post(f"/referrals/{referral.id}/status",
                           data={"status": "declined", "reason": "Lives outside our service area."})
    assert response.status_code == 302
    after = stored(referral.id)
    assert after.status == "declined"
    assert after.reason == "Lives outside our service area."
    assert after.events[-1][1] == "declined"
    assert "Lives outside our service area." in section(text(client.get(f"/referrals/{referral.id}")), "history-h")


@pytest.mark.parametrize(
    ("road", "posted", "status"),
    [
        ((), "completed", 409),  # sent → completed skips two steps
        ((), "enrolled", 409),
        (("accepted",), "accepted", 409),
        (("accepted",), "declined", 409),
        (("accepted", "enrolled", "completed"), "dropped", 409),  # closed for good
        (("declined",), "accepted", 409),
        ((), "withdrawn", 403),  # the caseworker's step, not the provider's
        ((), "sent", 422),
        ((), "bogus", 422),
    ],
)
def test_a_step_posted_by_hand_is_refused_and_changes_nothing(client, auth, users, refer, road, posted, status):
    referral = refer()
    move(referral, users["provider"], *road)
    before = stored(referral.id)
    assert auth.login(users["provider"]).status_code == 302
    response = client.post(f"/referrals/{referral.id}/status", data={"status": posted, "reason": "By hand"})
    assert response.status_code == status
    assert stored(referral.id) == before
    if status == 409:
        assert "cannot become" in text(response)


def test_a_caseworker_withdraws_an_open_referral(client, auth, users, refer):
    referral = refer()
    move(referral, users["provider"], "accepted")
    assert auth.login(users["caseworker"]).status_code == 302
    page = text(client.get(f"/referrals/{referral.id}"))
    assert buttons(page) == {"withdrawn"}
    assert "<textarea" not in page
    for label in ("Accept", "Decline", "Mark enrolled", "Mark completed", "Mark dropped"):
        assert f">{label}</button>" not in page

    response = client.post(f"/referrals/{referral.id}/status", data={"status": "withdrawn"})
    assert response.status_code == 302
    after = stored(referral.id)
    assert after.status == "withdrawn"
    assert after.closed
    assert after.events[-1][1:3] == ("withdrawn", users["caseworker"].id)
    page = text(client.get(f"/referrals/{referral.id}"))
    assert buttons(page) == set()
    assert "Accepted → <strong>Withdrawn</strong>" in section(page, "history-h")


ROADS = [(), ("accepted",), ("accepted", "enrolled"), ("declined",), ("accepted", "dropped"),
         ("accepted", "enrolled", "completed")]


@pytest.mark.parametrize("role", ["provider", "caseworker", "supervisor"])
@pytest.mark.parametrize("road", ROADS, ids=lambda road: "sent" if not road else road[-1])
def test_the_buttons_shown_are_the_allowed_statuses(client, auth, users, refer, role, road):
    referral = refer()
    move(referral, users["provider"], *road)
    user = users[role]
    assert auth.login(user).status_code == 302
    page = text(client.get(f"/referrals/{referral.id}"))
    allowed = {s.value for s in referral_service.allowed_statuses(user, referral)}
    assert buttons(page) == allowed
    assert ("<textarea" in page) == ("declined" in allowed)


@pytest.mark.parametrize("road", [(), ("accepted",), ("accepted", "enrolled")])
def test_a_supervisor_may_withdraw_too(client, auth, users, refer, road):
    referral = refer()
    move(referral, users["provider"], *road)
    assert auth.login(users["supervisor"]).status_code == 302
    response = client.post(f"/referrals/{referral.id}/status", data={"status": "withdrawn"})
    assert response.status_code == 302
    assert stored(referral.id).status == "withdrawn"


# The list


def test_the_list_filters_by_status_newest_first(client, auth, users, refer):
    first = refer(last_name="Alpha")
    second = refer(last_name="Bravo")
    third = refer(last_name="Charlie")
    move(second, users["provider"], "accepted")
    assert auth.login(users["provider"]).status_code == 302

    page = text(client.get("/referrals/"))
    assert page.index("Charlie") < page.index("Bravo") < page.index("Alpha")

    page = text(client.get("/referrals/?status=accepted"))
    assert f'href="/referrals/{second.id}"' in page
    assert f'href="/referrals/{first.id}"' not in page
    assert f'href="/referrals/{third.id}"' not in page
    assert "1 referral found" in page

    assert client.get("/referrals/?status=nonsense").status_code == 422


def test_the_list_is_paged_fifty_at_a_time(client, auth, users, make_participant, make_service, refer):
    first = refer()
    participant, service = first.participant, first.service
    for _ in range(50):
        referral_service.send_referral(users["caseworker"], participant, service, None)
    db.session.commit()
    assert auth.login(users["provider"]).status_code == 302
    page_one = text(client.get("/referrals/"))
    assert "51 referrals" in page_one
    assert page_one.count('<th scope="row">') == 50
    assert f'href="/referrals/{first.id}"' not in page_one  # the oldest, on the second page
    assert 'rel="next"' in page_one
    page_two = text(client.get("/referrals/?page=2"))
    assert page_two.count('<th scope="row">') == 1
    assert f'href="/referrals/{first.id}"' in page_two


# Around the pages


def test_viewing_a_referral_is_audited(client, auth, users, refer):
    referral = refer()
    assert auth.login(users["provider"]).status_code == 302
    client.get(f"/referrals/{referral.id}")
    row = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "view", AuditEvent.object_type == "referral")
    )
    assert row is not None
    assert row.object_id == referral.id
    assert row.user_id == users["provider"].id


@pytest.mark.parametrize(
    ("role", "shown"),
    [("provider", True), ("caseworker", True), ("supervisor", True),
     ("police", False), ("community", False), ("admin", False)],
)
def test_the_navigation_links_to_referrals_for_roles_that_list_them(client, auth, users, role, shown):
    assert auth.login(users[role]).status_code == 302
    page = text(client.get("/profile"))
    assert ('href="/referrals/"' in page) == shown
    if shown:
        assert '<a href="/referrals/" aria-current="page">Referrals</a>' in text(client.get("/referrals/"))


@pytest.mark.parametrize(
    ("role", "heading"), [("provider", "Waiting for your answer"), ("caseworker", "Your caseload")]
)
def test_the_root_page_is_the_home_page(client, auth, users, role, heading):
    """Issue #10: `/` is the role's home page (a provider's lists the referrals waiting for an answer)."""
    assert auth.login(users[role]).status_code == 302
    response = client.get("/")
    assert response.status_code == 200
    assert heading in text(response)


@pytest.mark.parametrize("role", ["provider", "caseworker", "supervisor", "police"])
def test_the_participant_page_links_each_referral_the_user_may_open(client, auth, users, make_user, refer, role):
    own = refer()
    other = refer(make_user(Role.PROVIDER), participant=own.participant)
    assert auth.login(users[role]).status_code == 302
    services = section(text(client.get(f"/participants/{own.participant_id}")), "services-h")
    # police learn only that services were offered; a provider sees only their own organization's referral
    assert (f'href="/referrals/{own.id}"' in services) == (role != "police")
    assert (f'href="/referrals/{other.id}"' in services) == (role in ("caseworker", "supervisor"))


def test_the_participant_page_links_no_referral_a_provider_may_not_open(app, client, auth, users, refer):
    old = refer()
    move(old, users["provider"], "declined")
    app.config["PROVIDER_CLOSED_REFERRAL_DAYS"] = 0
    current = refer(participant=old.participant)  # keeps the participant in the provider's scope
    assert auth.login(users["provider"]).status_code == 302
    services = section(text(client.get(f"/participants/{old.participant_id}")), "services-h")
    assert f'href="/referrals/{current.id}"' in services
    assert f'href="/referrals/{old.id}"' not in services


# CSRF, on as in production


@pytest.mark.usefixtures("csrf_on")
class TestCsrf:
    def test_a_status_post_without_the_token_is_refused(self, client, auth, users, refer):
        referral = refer()
        before = stored(referral.id)
        auth.login_with_csrf(users["provider"])
        response = client.post(f"/referrals/{referral.id}/status", data={"status": "accepted"})
        assert response.status_code == 400
        assert stored(referral.id) == before

    def test_every_form_on_the_page_carries_the_token(self, client, auth, users, refer):
        referral = refer()
        auth.login_with_csrf(users["provider"])
        page = text(client.get(f"/referrals/{referral.id}"))
        forms = re.findall(r'<form method="post" action="/referrals/\d+/status".*?</form>', page, re.S)
        assert len(forms) == 2  # accept, and decline with its reason
        tokens = [re.search(r'name="csrf_token" value="([^"]+)"', f) for f in forms]
        assert all(tokens)
        response = client.post(f"/referrals/{referral.id}/status",
                               data={"status": "declined", "reason": "Full this month.",
                                     "csrf_token": tokens[0].group(1)})
        assert response.status_code == 302
        assert stored(referral.id).status == "declined"
