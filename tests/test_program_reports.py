"""The report pages beyond the pipeline and cohorts: referral outcomes, who is identified (also beside the participant
list), street groups, activity by month and the funder's period report, through the pages and their downloads, over
one small program whose every number is worked out by hand below.

The history (program time zone UTC; pipeline steps at 18:00):

  forums  F1 "March call-in" 2025-03-10, set held;  F2 "May call-in" 2025-05-20, set held;
          F3 2025-04-02 cancelled;  F4 2025-06-15 planned, nobody checked in (neither F3 nor F4 took place)
  groups  North (A, B), South (C), West (no member)
  A  North, born 2008-02-02, none       created 2025-02-01 (16 then), invited to F1 (delivered Feb 5), attended F1;
                                        referred to S Mar 12, accepted Mar 14, enrolled Apr 1;
                                        outcomes arrested 2025-01-20 (before North's first call-in, Mar 10),
                                        employed 2025-06-01 (after)
  B  North, born 2000-02-02, probation  created 2025-02-02 (25 that day), invited to F1 (Feb 6), no-show,
                                        invited to F2 (May 1), attended F2; outcomes shot 2025-03-10 (the call-in's
                                        own day: neither before nor after), arrested 2025-04-01 (after)
  C  South, no birth date, parole       created 2025-02-03, invited to F2 (May 2), attended F2; referred to S
                                        Jun 5, never answered; enforced (occurred 2025-06-10); closed Jun 30
  D  born 2003-01-01, pretrial          created 2024-11-01 (21), closed 2025-01-15
  E  born 1980-06-01, probation         created 2024-12-01 (44), closed 2025-05-11 (161 days later)
  F  born 2007-04-10, none              created 2025-04-10 (18 that day), closed 2025-05-20 (40 days later)
  an enforcement action on the whole North group, occurred 2025-04-15
  custom notifications (home visits): B 2025-04-20, C 2025-06-01
  outreach contacts (the community user's group): A 2025-02-20, E 2025-04-05
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime

import pytest
import sqlalchemy as sa
from helpers import Program, at, counting, set_history
from openpyxl import load_workbook

from ceasefire.extensions import db
from ceasefire.models import (
    AuditEvent,
    CustomNotification,
    EnforcementAction,
    Forum,
    Group,
    Invitation,
    OutreachContact,
    Participant,
    Referral,
)
from ceasefire.models.enums import ForumStatus, OutcomeType, OutreachKind, ReferralStatus, Role
from ceasefire.services import catalog, outcomes
from ceasefire.services import referrals as referral_service


def _delivered(participant: Participant, *days: str) -> None:
    invitations = db.session.scalars(
        sa.select(Invitation).where(Invitation.participant_id == participant.id).order_by(Invitation.id)
    ).all()
    for invitation, day in zip(invitations, days, strict=True):
        invitation.delivered_at = at(day, 12)


def _referral_times(referral: Referral, *moments: datetime) -> None:
    referral.sent_at = moments[0]
    for event, moment in zip(referral.events, moments, strict=True):
        event.at = moment


@dataclass
class World:
    program: Program
    forums: dict[str, Forum]
    groups: dict[str, Group]
    people: dict[str, Participant]


def build(users) -> World:
    sup, provider = users["supervisor"], users["provider"]
    program = Program.build(sup, provider.organization)
    groups = {name: Group(name=name) for name in ("North", "South", "West")}
    db.session.add_all(groups.values())
    db.session.commit()
    forums = {
        "F1": catalog.create_forum(sup, "March call-in", at("2025-03-10")),
        "F2": catalog.create_forum(sup, "May call-in", at("2025-05-20")),
        "F3": catalog.create_forum(sup, "Called off", at("2025-04-02")),
        "F4": catalog.create_forum(sup, "Summer call-in", at("2025-06-15")),
    }
    db.session.commit()
    f1, f2 = forums["F1"].id, forums["F2"].id
    enforce = {"action_type": "arrest", "agency_id": program.police_org.id}
    north, south = groups["North"].id, groups["South"].id
    with program.batch():
        a = program.create(first_name="A", date_of_birth=date(2008, 2, 2), group_id=north)
        program.fire(a, "invite", forum_id=f1, method="letter")
        program.fire(a, "attend")
        ref_a = program.refer(a)
        for status in (ReferralStatus.ACCEPTED, ReferralStatus.ENROLLED):
            referral_service.set_status(provider, ref_a, status)

        b = program.create(first_name="B", date_of_birth=date(2000, 2, 2), supervision_status="probation",
                           group_id=north)
        program.fire(b, "invite", forum_id=f1, method="letter")
        program.fire(b, "no_show")
        program.fire(b, "invite", forum_id=f2, method="outreach")
        program.fire(b, "attend")

        c = program.create(first_name="C", supervision_status="parole", group_id=south)
        program.fire(c, "invite", forum_id=f2, method="letter")
        program.fire(c, "attend")
        ref_c = program.refer(c)
        program.fire(c, "enforce", occurred_on=date(2025, 6, 10), **enforce)
        program.fire(c, "reopen", reason="Back in the area.")
        program.fire(c, "close", reason="moved")

        d = program.create(first_name="D", date_of_birth=date(2003, 1, 1), supervision_status="pretrial")
        program.fire(d, "close", reason="moved")
        e = program.create(first_name="E", date_of_birth=date(1980, 6, 1), supervision_status="probation")
        program.fire(e, "close", reason="moved")
        f = program.create(first_name="F", date_of_birth=date(2007, 4, 10))
        program.fire(f, "close", reason="moved")

        db.session.add(EnforcementAction(group_id=north, agency_id=program.police_org.id, action_type="arrest",
                                         occurred_on=date(2025, 4, 15)))
        for person, kind, day in [
            (a, OutcomeType.ARRESTED, "2025-01-20"), (a, OutcomeType.EMPLOYED, "2025-06-01"),
            (b, OutcomeType.SHOT, "2025-03-10"), (b, OutcomeType.ARRESTED, "2025-04-01"),
        ]:
            outcomes.record_outcome(sup, person, kind, date.fromisoformat(day))
        # No service records field work on this branch yet: the rows are written as its service would.
        community_org = users["community"].organization_id
        db.session.add_all([
            CustomNotification(participant_id=b.id, delivered_at=at("2025-04-20"), recorded_by_id=sup.id),
            CustomNotification(participant_id=c.id, delivered_at=at("2025-06-01"), recorded_by_id=sup.id),
            OutreachContact(participant_id=a.id, organization_id=community_org, contacted_at=at("2025-02-20"),
                            kind=next(iter(OutreachKind))),
            OutreachContact(participant_id=e.id, organization_id=community_org, contacted_at=at("2025-04-05"),
                            kind=next(iter(OutreachKind))),
        ])
        catalog.update_forum(sup, forums["F1"], {"status": ForumStatus.HELD})
        catalog.update_forum(sup, forums["F2"], {"status": ForumStatus.HELD})
        catalog.update_forum(sup, forums["F3"], {"status": ForumStatus.CANCELLED})

        set_history(a, at("2025-02-01"), at("2025-02-05"), at("2025-03-10"))
        _delivered(a, "2025-02-05")
        _referral_times(ref_a, at("2025-03-12"), at("2025-03-14"), at("2025-04-01"))
        set_history(b, at("2025-02-02"), at("2025-02-06"), at("2025-03-11"), at("2025-05-01"), at("2025-05-20"))
        _delivered(b, "2025-02-06", "2025-05-01")
        set_history(c, at("2025-02-03"), at("2025-05-02"), at("2025-05-20"), at("2025-06-10"), at("2025-06-20"),
                 at("2025-06-30"))
        _delivered(c, "2025-05-02")
        _referral_times(ref_c, at("2025-06-05"))
        set_history(d, at("2024-11-01"), at("2025-01-15"))
        set_history(e, at("2024-12-01"), at("2025-05-11"))
        set_history(f, at("2025-04-10"), at("2025-05-20"))
    people = {"A": a, "B": b, "C": c, "D": d, "E": e, "F": f}
    return World(program, forums, groups, people)


@pytest.fixture
def world(users) -> World:
    return build(users)


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def _items(response) -> list[dict[str, str]]:
    lines = _csv(response)
    return [dict(zip(lines[1], line, strict=True)) for line in lines[2:]]


def _measures(response) -> dict[str, str]:
    lines = _csv(response)
    assert lines[1] == ["measure", "value"]
    return dict(lines[2:])


def _flat(html: str) -> str:
    return re.sub(r">\s+<", "><", html)


NOTE = "These counts describe the program; they do not by themselves show its effect."
PAGES = ["/reports/referrals", "/reports/identification", "/reports/groups", "/reports/activity", "/reports/funder"]


@pytest.mark.parametrize("path", PAGES)
def test_every_report_page_says_what_its_counts_are_not(client, auth, users, path):
    auth.login(users["supervisor"])
    response = client.get(path)
    assert response.status_code == 200
    assert NOTE in response.get_data(as_text=True)


# Referral outcomes


def test_referral_outcomes_page_shows_who_leaves_referrals_waiting(client, auth, users, world):
    auth.login(users["caseworker"])
    html = _flat(client.get("/reports/referrals").get_data(as_text=True))
    # S: A's (accepted in 2 days, then enrolled) and C's (sent 2025-06-05, never answered: waiting over 7 and 14)
    assert (f"<td>{users['provider'].organization.name}</td><th scope=\"row\">Transitional jobs</th>"
            "<td>2</td><td>1</td><td>0</td><td>1</td><td>0</td><td>0</td><td>0</td><td>100%</td><td>2.0</td>"
            "<td>1</td><td>1</td>") in html
    [row] = _items(client.get("/reports/referrals?date_from=2025-06-01&format=csv"))
    assert (row["sent"], row["accepted"], row["acceptance_rate"], row["waiting_over_14_days"]) == ("1", "0", "", "1")


def test_a_provider_sees_its_own_referral_statistics(client, auth, users, world, make_org, make_user):
    auth.login(users["provider"])
    assert "Transitional jobs" in client.get("/reports/referrals").get_data(as_text=True)
    auth.logout()
    auth.login(make_user(Role.PROVIDER, make_org(name="Elsewhere")))
    html = client.get("/reports/referrals").get_data(as_text=True)
    assert "Transitional jobs" not in html
    assert "No referral sent in this period." in html


# Who is identified


def test_who_is_identified_page_and_its_file(client, auth, users, world):
    auth.login(users["police"])
    html = _flat(client.get("/reports/identification").get_data(as_text=True))
    # ages at identification: A 16, B 25, C unknown, D 21, E 44, F 18
    assert "By age at identification (6 in all)" in html
    for label, n in (("under 18", 1), ("18 to 24", 2), ("25 to 34", 1), ("35 and over", 1), ("not known", 1)):
        assert f'<th scope="row">{label}</th><td>{n}</td>' in html
    for status, n in (("none", 2), ("probation", 2), ("parole", 1), ("pretrial", 1)):
        assert f'<th scope="row">{status}</th><td>{n}</td>' in html
    response = client.get("/reports/identification?date_from=2025-02-01&date_to=2025-04-30&format=xlsx")
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="identification_from-2025-02-01_to-2025-04-30.xlsx"'
    )
    rows = [list(r) for r in load_workbook(io.BytesIO(response.get_data())).active.iter_rows(values_only=True)]
    assert rows[0][:3] == ["filters", "from=2025-02-01", "to=2025-04-30"]
    measures = {r[0]: r[1] for r in rows[2:]}
    assert measures["total"] == 4  # A B C F
    assert (measures["by_age.under_18"], measures["by_age.18_24"], measures["by_age.unknown"]) == (1, 1, 1)


def test_the_participant_list_shows_who_is_identified_beside_it(client, auth, users, world):
    auth.login(users["supervisor"])
    html = _flat(client.get("/participants/").get_data(as_text=True))
    assert "By age at identification (6 in all)" in html
    assert '<th scope="row">18 to 24</th><td>2</td>' in html
    assert '<th scope="row">probation</th><td>2</td>' in html
    auth.logout()
    auth.login(users["community"])
    html = _flat(client.get("/participants/").get_data(as_text=True))
    assert "By age at identification (6 in all)" in html  # 6 is no small count
    assert '<th scope="row">18 to 24</th><td>&lt;5</td>' in html
    assert '<th scope="row">pretrial</th><td>&lt;5</td>' in html
    auth.logout()
    auth.login(users["provider"])
    assert "By age at identification" not in client.get("/participants/").get_data(as_text=True)


# Street groups

ZERO = {t.value: "0" for t in OutcomeType}


def _spread(prefix: str, counts: dict[str, str]) -> dict[str, str]:
    return {f"{prefix}.{k}": v for k, v in counts.items()}


def test_groups_report(client, auth, users, world):
    auth.login(users["police"])
    html = _flat(client.get("/reports/groups").get_data(as_text=True))
    assert ('<th scope="row">North</th><td>2</td><td>2</td><td>2</td><td>1</td><td>2025-03-10</td>'
            "<td>arrested 1</td><td>arrested 1, employed 1</td>") in html
    assert '<th scope="row">West</th><td>0</td><td>0</td><td>0</td><td>0</td><td>no call-in yet</td><td>—</td>' in html
    north, south, west = _items(client.get("/reports/groups?format=csv"))
    # North: A B identified, both called in and checked in; the action on the group; first call-in F1 (A, Mar 10);
    # before it A's arrest of Jan 20; after it A's job and B's arrest; B's shooting on Mar 10 itself in neither
    assert north == {
        "group_id": str(world.groups["North"].id), "name": "North", "identified": "2", "called_in": "2",
        "attended": "2", "enforcement_actions": "1", "first_call_in": "2025-03-10",
        **_spread("outcomes_before", ZERO | {"arrested": "1"}),
        **_spread("outcomes_after", ZERO | {"arrested": "1", "employed": "1"}),
    }
    assert (south["identified"], south["called_in"], south["attended"], south["enforcement_actions"]) == (
        "1", "1", "1", "1")  # C, F2, the action on C of Jun 10
    assert south["first_call_in"] == "2025-05-20"
    assert all(south[f"outcomes_after.{t.value}"] == "0" for t in OutcomeType)
    assert (west["first_call_in"], west["outcomes_before.arrested"]) == ("", "")


def test_groups_report_in_a_window(client, auth, users, world):
    auth.login(users["supervisor"])
    response = client.get("/reports/groups?date_from=2025-04-01&date_to=2025-12-31&format=csv")
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="groups_from-2025-04-01_to-2025-12-31.csv"'
    )
    north, south, _west = _items(response)
    # nobody identified since April; F2 alone is in the window: B called in and attended; North's action Apr 15
    assert [north[k] for k in ("identified", "called_in", "attended", "enforcement_actions", "first_call_in")] == [
        "0", "1", "1", "1", "2025-05-20"]
    assert [south[k] for k in ("identified", "called_in", "attended", "enforcement_actions")] == ["0", "1", "1", "1"]
    row = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "export")).one()
    assert row.detail == "groups.csv from=2025-04-01 to=2025-12-31"


# Activity by month


def test_activity_by_month(client, auth, users, world):
    auth.login(users["caseworker"])
    response = client.get("/reports/activity?date_from=2025-02-01&date_to=2025-06-30&format=csv")
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="activity_from-2025-02-01_to-2025-06-30.csv"'
    )
    lines = _csv(response)
    assert lines[0] == ["filters", "from=2025-02-01", "to=2025-06-30"]
    counted = {line[0]: dict(zip(lines[1][1:], line[1:], strict=True)) for line in lines[2:]}
    # forums held: F1 (Mar), F2 (May); F3 cancelled and F4 with nobody checked in are not
    # invitations delivered: A Feb 5, B Feb 6, B May 1, C May 2; custom notifications: B Apr 20, C Jun 1;
    # outreach contacts: A Feb 20, E Apr 5; referrals sent: A Mar 12, C Jun 5
    assert lines[1] == ["month", "forums_held", "invitations", "custom_notifications", "outreach_contacts",
                        "referrals"]
    assert {m: tuple(v.values()) for m, v in counted.items()} == {
        "2025-02": ("0", "2", "0", "1", "0"), "2025-03": ("1", "0", "0", "0", "1"),
        "2025-04": ("0", "0", "1", "1", "0"), "2025-05": ("1", "2", "0", "0", "0"),
        "2025-06": ("0", "0", "1", "0", "1"),
    }
    html = _flat(client.get("/reports/activity?date_from=2025-02-01&date_to=2025-06-30").get_data(as_text=True))
    assert '<th scope="row">2025-05</th><td>1</td><td>2</td><td>0</td><td>0</td><td>0</td>' in html


def test_activity_without_a_window_runs_from_the_first_record_to_this_month(client, auth, users, world, app):
    from ceasefire.services.clock import program_today

    auth.login(users["supervisor"])
    lines = _csv(client.get("/reports/activity?format=csv"))
    assert lines[2][0] == "2025-02"  # the first invitation
    assert lines[-1][0] == f"{program_today():%Y-%m}"


def test_activity_for_community_users_is_suppressed(client, auth, users, world):
    auth.login(users["community"])
    lines = _csv(client.get("/reports/activity?date_from=2025-05-01&date_to=2025-05-31&format=csv"))
    row = dict(zip(lines[1], lines[2], strict=True))
    assert row == {"month": "2025-05", "forums_held": "<5", "invitations": "<5", "custom_notifications": "0",
                   "outreach_contacts": "0", "referrals": "0"}


# The funder's report


def test_funder_report_for_a_period(client, auth, users, world):
    auth.login(users["supervisor"])
    html = _flat(client.get("/reports/funder?date_from=2025-03-01&date_to=2025-05-31").get_data(as_text=True))
    assert "At-risk individuals engaged (distinct people)</th><td>4</td>" in html
    measures = _measures(client.get("/reports/funder?date_from=2025-03-01&date_to=2025-05-31&format=csv"))
    # engaged: checked in at F1 (A) or F2 (B, C); A's referral accepted Mar 14 and enrolled Apr 1; E's outreach
    # contact of Apr 5 (A's of Feb 20 is before the period): A B C E
    assert measures["engaged"] == "4"
    assert [measures[f"engaged_by.{way}"] for way in ("attended_forum", "referral_taken_up", "outreach_contact")] == [
        "3", "1", "1"]
    assert measures["implementation.forums_held"] == "2"  # F1, F2 (F3 was cancelled)
    assert measures["implementation.custom_notifications"] == "1"  # B's of Apr 20 (C's is in June)
    # carried over: A B C E identified before March and open on Mar 1 (D closed in January); new: F (Apr 10)
    assert (measures["caseload.carried_over"], measures["caseload.new"], measures["caseload.total"]) == (
        "4", "1", "5")
    # closed in the period: E (Dec 1 -> May 11: 30+31+31+28+31+30+10 = 161 days), F (Apr 10 -> May 20: 40)
    assert (measures["cases_closed"], measures["average_days_to_closure"]) == ("2", "100.5")


def test_funder_report_needs_a_period(client, auth, users, world):
    auth.login(users["supervisor"])
    html = client.get("/reports/funder?date_from=2025-03-01").get_data(as_text=True)
    assert "Choose the period&#39;s first and last day." in html or "Choose the period's first and last day." in html
    assert "Download CSV" not in html


def test_funder_report_for_community_users(client, auth, users, world):
    auth.login(users["community"])
    measures = _measures(client.get("/reports/funder?date_from=2025-03-01&date_to=2025-05-31&format=csv"))
    assert (measures["engaged"], measures["caseload.total"], measures["cases_closed"]) == ("<5", "5", "<5")
    assert measures["average_days_to_closure"] == ""  # built on a suppressed count


# Who may see which page


PAGE_ROLES = {
    "/reports/referrals": {Role.CASEWORKER, Role.PROVIDER, Role.SUPERVISOR},
    "/reports/identification": {Role.CASEWORKER, Role.POLICE, Role.COMMUNITY, Role.SUPERVISOR},
    "/reports/groups": {Role.CASEWORKER, Role.POLICE, Role.SUPERVISOR},
    "/reports/activity": {Role.CASEWORKER, Role.POLICE, Role.COMMUNITY, Role.SUPERVISOR},
    "/reports/funder?date_from=2025-01-01&date_to=2025-12-31": {
        Role.CASEWORKER, Role.POLICE, Role.COMMUNITY, Role.SUPERVISOR},
}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("path", list(PAGE_ROLES))
def test_report_page_policy(client, auth, users, role, path):
    auth.login(users[role])
    allowed = role in PAGE_ROLES[path]
    assert client.get(path).status_code == (200 if allowed else 403)
    sep = "&" if "?" in path else "?"
    assert client.get(f"{path}{sep}format=csv").status_code == (200 if allowed else 403)


def test_report_pages_need_a_sign_in(client):
    for path in PAGE_ROLES:
        response = client.get(path)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


# The number of statements does not grow with the data


def _grow(program: Program, n: int) -> None:
    """n more people through the program: each in a group, invited and checked in, referred, an outcome, an
    enforcement action, a custom notification and an outreach contact; every third one closed."""
    sup = program.supervisor
    forum = catalog.create_forum(sup, f"Forum for {n}", at("2025-03-01"))
    group = Group(name=f"Group of {n}")
    db.session.add(group)
    db.session.commit()
    with program.batch():
        for i in range(n):
            p = program.create(first_name=f"P{i}", date_of_birth=date(1990 + i % 20, 1, 1 + i % 28),
                               group_id=group.id)
            program.fire(p, "invite", forum_id=forum.id, method="letter")
            program.fire(p, "attend")
            referral_service.set_status(program.supervisor, program.refer(p), ReferralStatus.WITHDRAWN)
            outcomes.record_outcome(sup, p, OutcomeType.EMPLOYED, date(2025, 4, 1 + i % 28))
            db.session.add_all([
                CustomNotification(participant_id=p.id, delivered_at=at(f"2025-02-{1 + i % 28:02d}")),
                OutreachContact(participant_id=p.id, organization_id=program.police_org.id,
                                contacted_at=at(f"2025-03-{1 + i % 28:02d}"), kind=next(iter(OutreachKind))),
            ])
            program.fire(p, "enforce", occurred_on=date(2025, 5, 1), action_type="arrest",
                         agency_id=program.police_org.id)
            if i % 3 == 0:
                program.fire(p, "reopen", reason="Back.")
                program.fire(p, "close", reason="moved")
        catalog.update_forum(sup, forum, {"status": ForumStatus.HELD})


def _statements(client, path: str) -> int:
    with counting() as seen:
        response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return len(seen)


COUNTED = [
    "/reports/referrals", "/reports/identification", "/reports/groups", "/reports/activity",
    "/reports/activity?date_from=2024-01-01&date_to=2025-12-31&format=xlsx",
    "/reports/funder?date_from=2025-01-01&date_to=2025-12-31", "/participants/",
]


def test_each_report_page_runs_as_many_statements_for_4_as_for_40_people(client, auth, users):
    program = Program.build(users["supervisor"], users["provider"].organization)
    auth.login(users["supervisor"])
    _grow(program, 4)
    client.get("/reports/groups")  # the session's once-a-minute write is not what is counted here
    small = {path: _statements(client, path) for path in COUNTED}
    _grow(program, 36)
    large = {path: _statements(client, path) for path in COUNTED}
    assert small == large


def test_activity_shows_the_months_asked_for_even_before_the_first_record(client, auth, users, world):
    auth.login(users["supervisor"])
    lines = _csv(client.get("/reports/activity?date_from=2025-01-01&date_to=2025-02-28&format=csv"))
    assert [line[0] for line in lines[2:]] == ["2025-01", "2025-02"]
    assert lines[2][1:] == ["0", "0", "0", "0", "0"]


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])
@pytest.mark.parametrize("report", ["groups", "activity", "funder"])
def test_the_calendars_ends_are_the_whole_history(users, world, make_app, auth, zone, report):
    """From 0001-01-01 to 9999-12-31 (no time UTC can hold at the zone's edge) is the history, never a 500."""
    client = make_app(TIMEZONE=zone).test_client()
    auth.login(users["supervisor"], client=client)
    edges = client.get(f"/reports/{report}?date_from=0001-01-01&date_to=9999-12-31&format=csv")
    assert edges.status_code == 200
    if report == "activity":
        lines = _csv(edges)
        assert lines[2][0] == "2025-02"  # the history's first month, not year 1


def test_days_to_closure_count_the_closures_day_in_the_programs_zone(users, world, make_app, auth):
    """At UTC+14 the closures of 18:00 UTC fall on the next day: E 162 days, F 41, on average 101.5."""
    client = make_app(TIMEZONE="Pacific/Kiritimati").test_client()
    auth.login(users["supervisor"], client=client)
    measures = _measures(client.get("/reports/funder?date_from=2025-03-01&date_to=2025-05-31&format=csv"))
    assert (measures["cases_closed"], measures["average_days_to_closure"]) == ("2", "101.5")


def test_groups_report_binds_no_parameter_a_group(client, auth, users, world):
    """A statewide program has tens of thousands of street groups: the outcome counts take each group's first call-in
    from a table written into the statement, not two parameters a group (PostgreSQL refuses a statement of more than
    65,535 parameters, which 50,000 groups passed: a 500 where the report should be)."""
    bound: list[tuple[str, object]] = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        bound.append((statement, parameters))

    auth.login(users["supervisor"])
    sa.event.listen(db.engine, "before_cursor_execute", keep)
    try:
        assert client.get("/reports/groups?format=csv").status_code == 200
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", keep)
    outcome_counts = [params for statement, params in bound if "group_firsts" in statement]
    assert len(outcome_counts) == 1
    # the two called-in groups' days are in the statement's own text; what is bound (SQLite's julianday offset,
    # twice) is the same for any number of groups
    assert len(outcome_counts[0]) <= 2
