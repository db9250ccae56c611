"""Issue #10, home pages: each role signs in to a page that says what needs it now, and the navigation holds only
links the user may follow (every one answers 200, for every role)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from helpers import Program, counting, text

from ceasefire.extensions import db
from ceasefire.models import (
    Consent,
    EnforcementAction,
    Group,
    Organization,
    Participant,
    Referral,
    Service,
    StatusChange,
    User,
)
from ceasefire.models.base import today, utcnow
from ceasefire.models.enums import ActionType, Role
from ceasefire.services import events, fieldwork, retention
from ceasefire.services import referrals as referral_service
from ceasefire.services.clock import program_today

NAV = re.compile(r'<nav aria-label="Main">(.*?)</nav>', re.S)


def section(html: str, heading_id: str) -> str:
    match = re.search(rf'<section[^>]*aria-labelledby="{heading_id}".*?</section>', html, re.S)
    assert match, f"no section {heading_id}"
    return match.group(0)


def nav_links(html: str) -> list[str]:
    return re.findall(r'<a href="([^"]+)"', NAV.search(html).group(1))


def _age(participant: Participant, days: int) -> None:
    """The participant entered their state `days` ago."""
    db.session.execute(
        sa.update(StatusChange).where(StatusChange.participant_id == participant.id)
        .values(at=utcnow() - timedelta(days=days))
    )
    db.session.commit()


def _last_moved(referral: Referral, days: float) -> None:
    moment = utcnow() - timedelta(days=days)
    db.session.execute(sa.update(Referral).where(Referral.id == referral.id).values(sent_at=moment, updated_at=moment))
    db.session.commit()


@pytest.mark.parametrize("role", list(Role))
def test_every_navigation_link_answers_200_for_every_role(users, client, auth, role):
    assert auth.login(users[role]).status_code == 302
    response = client.get("/", follow_redirects=True)
    assert response.status_code == 200
    links = nav_links(text(response))
    assert "/" in links
    for link in links:
        assert client.get(link, follow_redirects=True).status_code == 200, (role, link)
    # The links each role must have, and those it must not (other pages may add links: each must answer 200).
    everyone = {"/", "/profile"}
    case = {"/participants/", "/forums/"}
    shown = {
        Role.CASEWORKER: everyone | case | {"/referrals/", "/reports/"},
        Role.POLICE: everyone | case | {"/reports/"},
        Role.PROVIDER: everyone | case | {"/referrals/inbox", "/referrals/"},
        Role.COMMUNITY: everyone | case | {"/reports/"},
        Role.SUPERVISOR: everyone | case | {"/referrals/", "/reports/", "/audit/"},
        Role.ADMIN: everyone,
    }[role]
    hidden = {"/participants/", "/forums/", "/referrals/inbox", "/referrals/", "/reports/", "/audit/"} - shown
    assert shown <= set(links)
    assert not hidden & set(links)


def test_signing_in_lands_on_the_home_page_and_admins_in_the_admin_area(users, client, auth):
    assert auth.login(users["caseworker"]).headers["Location"] == "/"
    auth.logout()
    assert auth.login(users["admin"]).headers["Location"] == "/admin/"
    assert client.get("/").headers["Location"] == "/admin/"


def test_caseworker_home(users, make_user, client, auth, make_forum, make_service):
    cw = users["caseworker"]
    other_cw = make_user(Role.CASEWORKER)
    program = Program.build(users["supervisor"], users["provider"].organization)
    with program.batch():
        old = program.create(first_name="Andre", last_name="Oldest", caseworker_id=cw.id)
        new = program.create(first_name="Bea", last_name="Newer", caseworker_id=cw.id)
        theirs = program.create(first_name="Carl", last_name="Theirs", caseworker_id=other_cw.id)
        closed = program.create(first_name="Dee", last_name="Closed", caseworker_id=cw.id)
        program.fire(closed, "close", reason="moved")
    _age(old, 20)
    _age(new, 3)
    eve = program.bring_to("invited", first_name="Eve", last_name="Invited", caseworker_id=cw.id)
    events.open_invitation(eve).forum.scheduled_at = datetime.now(UTC) + timedelta(days=14)  # a forum in 14 days
    db.session.commit()
    # the next forum: one in two days with two people invited (neither this caseworker's); a past one
    soon = make_forum(datetime.now(UTC) + timedelta(days=2))
    make_forum(datetime.now(UTC) - timedelta(days=3))
    with program.batch():
        finn = program.create(first_name="Finn", last_name="Other", caseworker_id=other_cw.id)
        for p in (finn, theirs):
            program.fire(p, "invite", forum_id=soon.id, method="letter")
    # referrals of the caseworker's: one waiting 9 days, one sent yesterday, one accepted and moved 8 days ago
    service = make_service(users["provider"].organization, name="Hope Jobs")
    with program.batch():
        program.consent(old)
    waiting = referral_service.send_referral(cw, old, service, "Needs work")
    fresh = referral_service.send_referral(cw, old, service, "Second")
    db.session.commit()
    _last_moved(waiting, 9.5)
    _last_moved(fresh, 1)
    # consents: Andre's expires in 12 days; Theirs' in 5 (not this caseworker's)
    consent = db.session.scalar(sa.select(Consent).where(Consent.participant_id == old.id))
    consent.expires_on = today() + timedelta(days=12)
    db.session.add(Consent(participant_id=theirs.id, given_on=today(), expires_on=today() + timedelta(days=5)))
    db.session.commit()

    auth.login(cw)
    html = text(client.get("/"))
    caseload = section(html, "caseload-h")
    assert "Identified <span class=\"muted\">(2)</span>" in caseload
    assert caseload.index("Andre Oldest") < caseload.index("Bea Newer")
    assert "20 days in this state" in caseload
    assert "Invited <span class=\"muted\">(1)</span>" in caseload
    assert "Eve Invited" in caseload
    assert "Theirs" not in caseload
    assert "Dee Closed" not in caseload
    forum = section(html, "forum-h")
    assert "2 invited" in forum
    assert f"/forums/{soon.id}" in forum
    waiting_html = section(html, "waiting-h")
    assert f"/referrals/{waiting.id}" in waiting_html
    assert f"/referrals/{fresh.id}" not in waiting_html
    assert '<td class="days">9</td>' in waiting_html
    consents = section(html, "consents-h")
    assert "Andre Oldest" in consents
    assert "in 12 days" in consents
    assert "Theirs" not in consents


def test_caseworker_waiting_holds_what_they_sent_and_what_their_caseload_was_sent(users, make_user, client, auth,
                                                                                   make_service):
    """Theirs: referrals they sent (for anyone's caseload) and referrals for their caseload (sent by anyone)."""
    cw, other = users["caseworker"], make_user(Role.CASEWORKER)
    program = Program.build(users["supervisor"], users["provider"].organization)
    with program.batch():
        mine = program.create(first_name="Mia", last_name="Mine", caseworker_id=cw.id)
        elsewhere = program.create(first_name="Eli", last_name="Elsewhere", caseworker_id=other.id)
        for p in (mine, elsewhere):
            program.consent(p)
    service = make_service(users["provider"].organization, name="Hope Jobs")
    sent_by_me = referral_service.send_referral(cw, elsewhere, service, None)
    for_my_caseload = referral_service.send_referral(other, mine, service, None)
    neither = referral_service.send_referral(other, elsewhere, service, None)
    db.session.commit()
    for r in (sent_by_me, for_my_caseload, neither):
        _last_moved(r, 10)
    auth.login(cw)
    waiting = section(text(client.get("/")), "waiting-h")
    assert f"/referrals/{sent_by_me.id}" in waiting
    assert f"/referrals/{for_my_caseload.id}" in waiting
    assert f"/referrals/{neither.id}" not in waiting


def test_provider_home_and_other_providers_referrals_stay_out(users, client, auth, make_service, make_participant,
                                                           make_user, make_org):
    provider = users["provider"]
    service = make_service(provider.organization, name="Hope Jobs")
    elsewhere = make_service(make_org(), name="Other Org Counselling")
    cw = users["caseworker"]
    people = [make_participant(cw, first_name=n, last_name="Reed", consent_to_share=True)
              for n in ("Marcus", "Nia", "Omar", "Pia")]
    new = referral_service.send_referral(cw, people[0], service, "Wants a job soon")
    stale = referral_service.send_referral(cw, people[1], service, None)
    enrolled = referral_service.send_referral(cw, people[2], service, None)
    other = referral_service.send_referral(cw, people[3], elsewhere, None)
    db.session.commit()
    referral_service.set_status(provider, stale, "accepted")
    referral_service.set_status(provider, enrolled, "accepted")
    referral_service.set_status(provider, enrolled, "enrolled")
    db.session.commit()
    _last_moved(new, 4.2)
    _last_moved(stale, 10)

    auth.login(provider)
    html = text(client.get("/"))
    first = section(html, "new-h")
    assert "Reed, Marcus" in first
    assert "Wants a job soon" in first
    assert '<td class="days">4</td>' in first
    assert "Reed, Nia" in section(html, "stale-h")
    assert '<td class="days">10</td>' in section(html, "stale-h")
    assert "Reed, Nia" in section(html, "accepted-h")
    assert "Reed, Omar" in section(html, "enrolled-h")
    assert "Reed, Omar" not in section(html, "stale-h")
    assert "Pia" not in html
    assert f"/referrals/{other.id}" not in html


def test_police_home(users, client, auth, make_forum):
    police = users["police"]
    program = Program.build(users["supervisor"])
    group = Group(name="Four Corner Hustlers")
    quiet = Group(name="Quiet Crew")
    db.session.add_all([group, quiet])
    db.session.commit()
    forum = make_forum(datetime.now(UTC) + timedelta(days=5))
    with program.batch():
        marcus = program.create(first_name="Marcus", last_name="Reed", group_id=group.id)
        program.fire(marcus, "invite", forum_id=forum.id, method="probation_condition")
        program.create(first_name="Sam", last_name="Still", group_id=quiet.id)
    _age(db.session.scalar(sa.select(Participant).where(Participant.last_name == "Still")), 90)
    db.session.add_all([
        EnforcementAction(participant_id=marcus.id, agency_id=program.police_org.id, action_type=ActionType.ARREST,
                          occurred_on=today() - timedelta(days=2)),
        EnforcementAction(group_id=group.id, agency_id=program.police_org.id, action_type=ActionType.WARRANT,
                          occurred_on=today() - timedelta(days=40)),
    ])
    db.session.commit()

    auth.login(police)
    html = text(client.get("/"))
    roster = section(html, "roster-h")
    assert "Reed, Marcus" in roster
    assert "Probation condition" in roster
    recent = section(html, "enforcement-h")
    assert "Arrest" in recent
    assert "Marcus Reed" in recent
    assert "Warrant" not in recent
    groups = section(html, "groups-h")
    # Four Corner Hustlers: one member, one enforcement in 30 days (the warrant is older), two pipeline changes
    assert re.search(r"Four Corner Hustlers</a></th>\s*<td>1</td><td>1</td><td>2</td>", groups), groups
    assert "Quiet Crew" not in groups


def test_police_home_lists_the_groups_active_most_recently_first(users, client, auth):
    program = Program.build(users["supervisor"])
    busy, lately, still = Group(name="Busy Crew"), Group(name="Lately Set"), Group(name="Still Boys")
    db.session.add_all([busy, lately, still])
    db.session.commit()
    with program.batch():
        b = [program.create(first_name=f"B{i}", last_name="Busy", group_id=busy.id) for i in range(3)]
        late = program.create(first_name="Lee", last_name="Lately", group_id=lately.id)
        quiet = program.create(first_name="Sam", last_name="Still", group_id=still.id)
    for p in b:
        _age(p, 5)  # three changes, five days ago
    _age(late, 1)  # one change, yesterday
    _age(quiet, 45)  # outside the 30 days
    db.session.add(EnforcementAction(group_id=busy.id, agency_id=program.police_org.id,
                                     action_type=ActionType.WARRANT, occurred_on=today() - timedelta(days=6)))
    db.session.commit()
    auth.login(users["police"])
    groups = section(text(client.get("/")), "groups-h")
    assert "latest first" in groups
    assert groups.index("Lately Set") < groups.index("Busy Crew")
    assert re.search(r"Busy Crew</a></th>\s*<td>3</td><td>1</td><td>3</td>", groups), groups
    assert "Still Boys" not in groups


def test_community_home_shows_assigned_people_and_forums(users, client, auth, make_participant, make_forum):
    community = users["community"]
    make_participant(users["caseworker"], first_name="Tia", last_name="Assigned",
                     community_org_id=community.organization_id)
    make_participant(users["caseworker"], first_name="Uma", last_name="Elsewhere")
    forum = make_forum(datetime.now(UTC) + timedelta(days=9))
    auth.login(community)
    html = text(client.get("/"))
    assigned = section(html, "assigned-h")
    assert "Assigned, Tia" in assigned
    assert "Identified" in assigned
    assert "(1)" in assigned
    assert "Elsewhere" not in html
    assert f"/forums/{forum.id}" in section(html, "forums-h")


def test_community_home_lists_outreach_due_never_reached_first(users, client, auth, make_participant):
    community = users["community"]
    mine = {"community_org_id": community.organization_id}
    never = make_participant(users["caseworker"], first_name="Ann", last_name="Never", **mine)
    long_ago = make_participant(users["caseworker"], first_name="Ben", last_name="Longago", **mine)
    lately = make_participant(users["caseworker"], first_name="Cal", last_name="Lately", **mine)
    closed = make_participant(users["caseworker"], first_name="Dot", last_name="Closed", **mine)
    events.close(users["supervisor"], closed, closed.version, "moved")
    now = datetime.now(UTC)
    fieldwork.log_outreach(community, long_ago, now - timedelta(days=20), "visit", "Talked at the door.")
    fieldwork.log_outreach(community, lately, now - timedelta(days=3), "call", "Doing well.")
    db.session.commit()
    auth.login(community)
    due = section(text(client.get("/")), "outreach-h")
    # Ann (never reached) first, then Ben (20 days); Cal was reached 3 days ago, Dot's case is closed.
    assert due.index("Ann Never") < due.index("Ben Longago")
    assert "never reached" in due
    assert "20 days ago" in due
    assert "Cal Lately" not in due
    assert "Dot Closed" not in due
    assert f"/participants/{never.id}#outreach" in due


def test_supervisor_home_counts_and_waiting_longest(users, client, auth, make_participant, make_service):
    sup = users["supervisor"]
    program = Program.build(sup, users["provider"].organization)
    program.bring_to("invited")
    program.bring_to("identified")
    program.bring_to("identified")
    service = make_service(users["provider"].organization, name="Hope Jobs")
    p = make_participant(sup, first_name="Vic", last_name="Longest", consent_to_share=True)
    q = make_participant(sup, first_name="Wes", last_name="Shorter", consent_to_share=True)
    longest = referral_service.send_referral(sup, p, service, None)
    shorter = referral_service.send_referral(sup, q, service, None)
    db.session.commit()
    _last_moved(longest, 20)
    _last_moved(shorter, 2)
    auth.login(sup)
    html = text(client.get("/"))
    counts = section(html, "counts-h")
    # four identified (two walked there, Vic and Wes) and one invited
    assert re.search(r"Identified</a></dt><dd>4</dd>", counts), counts
    assert re.search(r"Invited</a></dt><dd>1</dd>", counts), counts
    funnel = section(html, "funnel-h")
    # all five were identified (the invited one too); one invited, none further
    assert re.search(r"Identified</span> <strong>5</strong>", funnel), funnel
    assert re.search(r"Invited</span> <strong>1</strong>", funnel), funnel
    assert "Invited to attended: 0%" in funnel
    assert "/reports/" in funnel  # the days between steps: the pipeline report, a link away
    waiting = section(html, "waiting-h")
    assert waiting.index("Longest, Vic") < waiting.index("Shorter, Wes")


def test_supervisor_home_lists_reviews_falling_due_and_open_removal_requests(users, client, auth, make_participant):
    sup, cw = users["supervisor"], users["caseworker"]
    day = program_today()
    overdue = make_participant(cw, first_name="Ola", last_name="Overdue")
    soon = make_participant(cw, first_name="Sam", last_name="Soon")
    later = make_participant(cw, first_name="Lou", last_name="Later")
    for person, offset in ((overdue, -5), (soon, 10), (later, 60)):
        person.review_due_on = day + timedelta(days=offset)
    late_request = retention.file_removal_request(cw, soon, day - timedelta(days=35), "self", "Not in any group.")
    fresh_request = retention.file_removal_request(cw, later, day, "attorney", "Moved away.")
    db.session.commit()
    auth.login(sup)
    html = text(client.get("/"))
    reviews = section(html, "reviews-h")
    assert "(2)" in reviews
    assert reviews.index("Ola Overdue") < reviews.index("Sam Soon")
    assert "5 days overdue" in reviews
    assert "Lou Later" not in reviews
    removals = section(html, "removals-h")
    assert removals.index(f"Request {late_request.id}") < removals.index(f"Request {fresh_request.id}")
    assert "5 days overdue" in removals
    assert "30 days left" in removals


def test_each_home_page_costs_the_same_at_5_and_25_participants(users, app, auth, make_forum):
    """Every role's home runs a fixed number of statements, whatever the size of the program."""
    built = Program.build(users["supervisor"], users["provider"].organization)
    group = Group(name="Hustlers")
    db.session.add(group)
    db.session.commit()
    ids = {"sup": users["supervisor"].id, "police_org": built.police_org.id, "service": built.service.id,
           "group": group.id, "forum": make_forum(datetime.now(UTC) + timedelta(days=3)).id,
           "cw": users["caseworker"].id, "community": users["community"].organization_id}
    clients = {}
    for role in ("caseworker", "provider", "police", "community", "supervisor"):
        clients[role] = app.test_client()
        assert auth.login(users[role], client=clients[role]).status_code == 302
    counts: dict[str, list[int]] = {role: [] for role in clients}
    made = 0
    for size in (5, 25):
        program = Program(db.session.get(User, ids["sup"]), db.session.get(Organization, ids["police_org"]),
                          db.session.get(Service, ids["service"]))
        with program.batch():
            for i in range(made, size):
                p = program.create(first_name=f"First{i}", last_name=f"Last{i:03}", caseworker_id=ids["cw"],
                                   group_id=ids["group"], community_org_id=ids["community"])
                program.refer(p)
                program.fire(p, "invite", forum_id=ids["forum"], method="letter")
                if i % 3 == 0:
                    program.fire(p, "enforce", action_type="arrest", occurred_on=today(),
                                 agency_id=ids["police_org"], description="Arrested.")
        made = size
        db.session.execute(sa.update(Referral).values(updated_at=utcnow() - timedelta(days=8)))
        db.session.execute(sa.update(Consent).values(expires_on=today() + timedelta(days=10)))
        db.session.commit()
        for role, browser in clients.items():
            browser.get("/")  # warm the session's once-a-minute write
            db.session.expunge_all()
            with counting() as statements:
                assert browser.get("/").status_code == 200
            counts[role].append(len(statements))
    for role, (small, large) in counts.items():
        assert small == large, (role, small, large)
