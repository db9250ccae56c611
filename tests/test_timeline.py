"""Issue #9, one timeline: the participant page shows pipeline history, invitations, referrals and their status
changes, consent, custom notifications, notes, outreach, enforcement and outcomes, newest first, each only where
the role may see it; read in a fixed number of statements whatever the number of rows."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from helpers import Program, counting

from ceasefire.extensions import db
from ceasefire.models import Participant, User
from ceasefire.models.base import today
from ceasefire.models.enums import OutcomeType, ReferralStatus
from ceasefire.services import fieldwork, outcomes, timeline
from ceasefire.services import referrals as referral_service


@dataclass
class Story:
    participant: Participant
    forum_title: str


def _add_field_work(users: dict[str, User], program: Program, p: Participant, n: int, start: datetime) -> None:
    """n of each kind of field work, an hour apart from `start` on."""
    sup, community, police = users["supervisor"], users["community"], users["police"]
    for i in range(n):
        at = start + timedelta(hours=i)
        fieldwork.record_custom_notification(sup, p, at, f"Porch {i}", "Stop the shooting.", "Nodded.",
                                             [police.id, community.id])
        for visibility in ("all_staff", "police_only", "services_team"):
            fieldwork.write_note(sup, p, f"{visibility} note {i}", visibility)
        fieldwork.log_outreach(community, p, at + timedelta(minutes=30), "call", f"Called {i}")
        outcomes.record_outcome(sup, p, OutcomeType.EMPLOYED, today() - timedelta(days=40 + i))
        outcomes.record_outcome(sup, p, OutcomeType.ARRESTED, today() - timedelta(days=50 + i))
    program._save()


def _story(users: dict[str, User], n: int = 1) -> Story:
    """Someone taken through the whole program: identified, invited to a forum whose day has come, checked in,
    consent, a referral accepted, services offered, field work, then enforcement."""
    users["provider"].organization.name = "Second Chance Employment"
    program = Program.build(users["supervisor"], users["provider"].organization)
    with program.batch():
        forum = program.forum()
        forum.scheduled_at = datetime.now(UTC) - timedelta(days=3)
        p = program.create(first_name="Darnell", last_name="Hayes",
                           community_org_id=users["community"].organization_id)
        program.fire(p, "invite", forum_id=forum.id, method="probation_condition")
        program.fire(p, "attend")
        referral = program.refer(p)
        referral_service.set_status(users["provider"], referral, ReferralStatus.ACCEPTED)
        program.fire(p, "offer_services")
        _add_field_work(users, program, p, n, datetime.now(UTC) - timedelta(days=2))
        program.fire(p, "enforce", action_type="arrest", occurred_on=today() - timedelta(days=1),
                     agency_id=program.police_org.id, incident_ref="RD-1234", description="Shots fired on Oak St.")
    return Story(p, forum.title)


# What each role's timeline holds, by the start of each entry's title (DESIGN.md §4, row by row).
EVERY = {
    "Create: identified", "Invite: identified → invited", "Attend: invited → attended",
    "Offer services: attended → services offered", "Enforce: services offered → enforced",
    "Invited to Call-in forum", "Checked in at Call-in forum",
    "Referral to Transitional jobs (Second Chance Employment): sent",
    "Referral to Transitional jobs (Second Chance Employment): accepted",
    "Consent to share given", "Custom notification at Porch 0",
    "Note (all staff)", "Note (police only)", "Note (services team)", "Outreach call",
    "Enforcement: arrest", "Outcome: employed", "Outcome: arrested",
}
PIPELINE = {t for t in EVERY if ":" in t and t.split(":")[0] in {"Create", "Invite", "Attend", "Offer services",
                                                                  "Enforce"}}
SEES = {
    "supervisor": EVERY,
    "caseworker": EVERY - {"Note (police only)", "Enforcement: arrest"} | {"Enforcement recorded"},
    "police": PIPELINE | {"Invited to Call-in forum", "Checked in at Call-in forum", "Custom notification at Porch 0",
                          "Note (all staff)", "Note (police only)", "Enforcement: arrest", "Outcome: arrested"},
    "provider": {"Referral to Transitional jobs (Second Chance Employment): sent",
                 "Referral to Transitional jobs (Second Chance Employment): accepted", "Consent to share given"},
    "community": {"Attended Call-in forum", "Custom notification at Porch 0", "Outreach call"},
}


def _entries(html: str) -> list[tuple[str, str, str]]:
    """(when, title, the rest) of each line of the page's timeline, in page order."""
    section = re.search(r'aria-labelledby="timeline-h".*?</section>', html, re.S).group(0)
    return [
        (when, what, rest)
        for when, what, rest in re.findall(
            r'<span class="when">([^<]*)</span>\s*<span class="what">([^<]*)</span>(.*?)</li>', section, re.S
        )
    ]


@pytest.mark.parametrize("role", list(SEES))
def test_each_role_reads_the_timeline_the_policy_allows(users, client, auth, role):
    story = _story(users)
    auth.login(users[role])
    response = client.get(f"/participants/{story.participant.id}")
    assert response.status_code == 200
    titles = {what.replace("&gt;", ">") for _, what, _ in _entries(response.get_data(as_text=True))}
    assert titles == SEES[role]


def test_a_supervisor_reads_the_whole_timeline_newest_first(users, client, auth):
    story = _story(users)
    auth.login(users["supervisor"])
    entries = _entries(client.get(f"/participants/{story.participant.id}").get_data(as_text=True))
    assert len(entries) == len(EVERY)
    # Times show as "YYYY-MM-DD HH:MM UTC", days as "YYYY-MM-DD" (the start of the day): newest first.
    moments = [when if len(when) > 10 else when + " 00:00" for when, _, _ in entries]
    assert moments == sorted(moments, reverse=True)
    assert entries[0][1] == "Enforce: services offered → enforced".replace(">", "&gt;")
    details = " ".join(rest for _, _, rest in entries)
    for shown in ("RD-1234 — Shots fired on Oak St.", "Message: Stop the shooting. Response: Nodded.",
                  "Called 0", "police_only note 0", "By probation condition"):
        assert shown in details, shown


def test_the_enforcement_a_caseworker_sees_is_a_date(users, client, auth):
    story = _story(users)
    auth.login(users["caseworker"])
    html = client.get(f"/participants/{story.participant.id}").get_data(as_text=True)
    [line] = [e for e in _entries(html) if e[1] == "Enforcement recorded"]
    assert line[0] == (today() - timedelta(days=1)).isoformat()
    assert "RD-1234" not in html
    assert "Shots fired" not in html


def _statements(supervisor_id: int, participant_id: int) -> tuple[int, int]:
    db.session.expunge_all()  # as a fresh request finds it: nothing loaded yet
    sup = db.session.get(User, supervisor_id)
    p = db.session.get(Participant, participant_id)
    with counting() as statements:
        entries = timeline.timeline(sup, p)
    return len(statements), len(entries)


def test_the_timeline_costs_a_fixed_number_of_statements(users):
    sup = users["supervisor"].id
    few_id, many_id = _story(users, 1).participant.id, _story(users, 5).participant.id
    few, rows_few = _statements(sup, few_id)
    many, rows_many = _statements(sup, many_id)
    # 5 of each kind of field work instead of 1: 4 more custom notifications, 12 notes, 4 outreach contacts and
    # 8 outcomes.
    assert rows_many - rows_few == 4 + 12 + 4 + 8
    # History 1, invitations with their forums 1, referrals with service and provider 1, their status changes 1,
    # consents 1, custom notifications and their two teams 3, notes and their authors 2, outreach contacts with
    # their groups and users 1, enforcement and its agencies 2, outcomes 1, the names of everyone else 1: 15.
    assert (few, many) == (15, 15)
