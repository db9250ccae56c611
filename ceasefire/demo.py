"""A believable demo program, built through the same services people use, so its history is real.

Its calendar reads like a program's year: four call-ins held over the past thirteen months and one coming up, each
invitee identified weeks before and invited one to three weeks ahead; check-ins on the forum's evening (the program's
time zone, 18:00); referrals sent over the weeks after a forum and answered days later, some still waiting past 7 and 14
days; enforcement after a forum; outcomes spread over the following year; consents that expire, a few within 30 days.
The services stamp "now"; the demo then moves each new row's time to its place in that calendar."""

from __future__ import annotations

import random
from collections import deque
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from ceasefire.extensions import db
from ceasefire.models import Forum, IdentificationCriterion, Participant, Referral, StatusChange, User
from ceasefire.models.base import utcnow
from ceasefire.models.enums import ForumStatus, OrgKind, OutcomeType, ReferralStatus, Role, ServiceCategory
from ceasefire.services import accounts, catalog, events, fieldwork, outcomes, participants, referrals, retention
from ceasefire.services.clock import local_date, program_today, zone

PASSWORD = "ceasefire-demo-2026"  # noqa: S105 - printed for the demo on purpose

FIRST = [
    "Marcus",
    "Darnell",
    "Andre",
    "Tyrell",
    "Jamal",
    "Deshawn",
    "Luis",
    "Carlos",
    "Jose",
    "Anthony",
    "Kevin",
    "Terrence",
    "Malik",
    "Isaiah",
    "Jaylen",
    "Devonte",
    "Rashad",
    "Miguel",
    "Brandon",
    "Corey",
    "Dominic",
    "Xavier",
    "Trevon",
    "Keshawn",
    "Angel",
    "Elijah",
    "Jordan",
    "Tyrone",
    "Darius",
    "Javier",
]
LAST = [
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Davis",
    "Miller",
    "Wilson",
    "Moore",
    "Taylor",
    "Thomas",
    "Jackson",
    "White",
    "Harris",
    "Martin",
    "Thompson",
    "Garcia",
    "Martinez",
    "Robinson",
    "Clark",
    "Rodriguez",
    "Lewis",
    "Lee",
    "Walker",
    "Hall",
    "Allen",
    "Young",
    "Hernandez",
    "King",
    "Wright",
    "Lopez",
    "Hill",
    "Scott",
    "Green",
    "Adams",
    "Baker",
]
NICKS = [
    "Lil Man",
    "Boogie",
    "Tank",
    "Smoke",
    "Ghost",
    "Dre",
    "Peanut",
    "Bam",
    "Red",
    "Scooter",
    "Juice",
    "Ace",
    "June",
    "Pooh",
    "Mookie",
]
STREETS = [
    "Crenshaw Blvd",
    "Vermont Ave",
    "Florence Ave",
    "Manchester Ave",
    "Western Ave",
    "Slauson Ave",
    "Figueroa St",
    "Central Ave",
    "Normandie Ave",
    "Hoover St",
]
BASES = (
    "Named in a shooting review as a person at very high risk; two prior gun arrests.",
    "Victim of a non-fatal shooting in the last six months; associates in active dispute.",
    "Identified by the district's group audit as an influential member.",
    "Co-arrestee in a recent aggravated battery with a firearm.",
    "Probation officer referral: repeated contact with group members during a conflict.",
)


class NotEmpty(Exception):
    pass


def _stamp_last(participant: Participant, at: datetime) -> None:
    """Move the newest history row to its place in the demo's calendar."""
    change = (
        participant.history[-1]
        if participant.history
        else db.session.scalars(
            sa.select(StatusChange)
            .where(StatusChange.participant_id == participant.id)
            .order_by(StatusChange.id.desc())
            .limit(1)
        ).one()
    )
    change.at = at
    participant.updated_at = at


def _evening(days_from_today: int) -> datetime:
    """18:00 in the program's time zone, so many days from today, as an aware UTC datetime."""
    day = program_today() + timedelta(days=days_from_today)
    return datetime(day.year, day.month, day.day, 18, 0, tzinfo=zone()).astimezone(UTC)


class Calendar:
    """Times for one participant's history, each after the one before and none after now."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.now = utcnow() - timedelta(hours=1)

    def _office(self, day: date) -> datetime:
        """A time in office hours (9:00 to 17:59, program time) on `day`."""
        rng = self.rng
        return datetime(day.year, day.month, day.day, rng.randint(9, 17), rng.randint(0, 59),
                        tzinfo=zone()).astimezone(UTC)

    def before(self, at: datetime, days: tuple[int, int]) -> datetime:
        earlier = self._office(local_date(at) - timedelta(days=self.rng.randint(*days)))
        return earlier if earlier < at else at - timedelta(minutes=self.rng.randint(20, 180))

    def after(self, at: datetime, days: tuple[int, int], hours: tuple[int, int] | None = None) -> datetime | None:
        """A time some days after `at` in office hours (or, with `hours`, that many hours from `at`'s own time), or
        None when it would be in the future."""
        rng = self.rng
        if hours is not None:
            later = at + timedelta(days=rng.randint(*days), hours=rng.randint(*hours), minutes=rng.randint(0, 59))
        else:
            later = self._office(local_date(at) + timedelta(days=rng.randint(*days)))
            if later <= at:
                later = at + timedelta(minutes=rng.randint(20, 180))
        return later if later <= self.now else None


DEMO_CRITERIA = (
    "Involved in a shooting, as victim or suspect, in the last 12 months",
    "Identified by two sources as a member of an active group",
    "On supervision for a violent offence",
)


def seed(count: int = 200) -> list[tuple[str, str]]:
    if db.session.scalar(sa.select(sa.func.count(User.id))):
        raise NotEmpty("The database already has users; seed-demo only fills an empty database.")
    rng = random.Random(2026)

    admin = accounts.create_user(None, "admin@demo.ceasefire.test", "IT Admin", Role.ADMIN, PASSWORD)
    org = {}
    for key, name, kind in (
        ("pd", "Southside Police Division", OrgKind.POLICE),
        ("probation", "County Adult Probation", OrgKind.PROBATION),
        ("parole", "State Parole, Region 3", OrgKind.PAROLE),
        ("da", "County District Attorney", OrgKind.PROSECUTOR),
        ("jobs", "Second Chance Employment", OrgKind.PROVIDER),
        ("health", "Westside Behavioral Health", OrgKind.PROVIDER),
        ("housing", "Safe Haven Housing", OrgKind.PROVIDER),
        ("edu", "Next Step GED Academy", OrgKind.PROVIDER),
        ("mothers", "Mothers Against Senseless Killings", OrgKind.COMMUNITY),
        ("faith", "Faith Leaders for Peace", OrgKind.COMMUNITY),
    ):
        org[key] = catalog.create_organization(admin, {"name": name, "kind": kind})

    users = {}
    for key, name, role, org_key in (
        ("caseworker", "Dana Rivera", Role.CASEWORKER, None),
        ("caseworker2", "Sam Okafor", Role.CASEWORKER, None),
        ("police", "Sgt. Pat Kowalski", Role.POLICE, "pd"),
        ("provider", "Lena Brooks", Role.PROVIDER, "jobs"),
        ("provider2", "Omar Haddad", Role.PROVIDER, "health"),
        ("provider3", "Maya Chen", Role.PROVIDER, "housing"),
        ("provider4", "Luis Ortega", Role.PROVIDER, "edu"),
        ("community", "Rev. Grace Ellis", Role.COMMUNITY, "mothers"),
        ("supervisor", "Dr. Ruth Alvarez", Role.SUPERVISOR, None),
    ):
        users[key] = accounts.create_user(
            None, f"{key}@demo.ceasefire.test", name, role, PASSWORD, org[org_key].id if org_key else None
        )
    users["admin"] = admin
    cw, police = users["caseworker"], users["police"]

    services = [
        catalog.create_service(admin, {"organization_id": org[o].id, "name": n, "category": c, "capacity": cap})
        for o, n, c, cap in (
            ("jobs", "Transitional jobs crew", ServiceCategory.EMPLOYMENT, 25),
            ("jobs", "Job readiness workshop", ServiceCategory.EMPLOYMENT, 40),
            ("health", "Trauma counselling", ServiceCategory.MENTAL_HEALTH, 30),
            ("health", "Outpatient substance use treatment", ServiceCategory.SUBSTANCE_USE, 20),
            ("housing", "Emergency relocation", ServiceCategory.RELOCATION, 8),
            ("housing", "Transitional housing", ServiceCategory.HOUSING, 12),
            ("edu", "GED classes", ServiceCategory.EDUCATION, 35),
            ("edu", "Mentoring circle", ServiceCategory.MENTORING, 30),
        )
    ]
    groups = [
        catalog.create_group(police, {"name": n, "aliases": a, "area": area})
        for n, a, area in (
            ("Florence Avenue Crew", "FAC, Flo Boys", "Florence-Firestone"),
            ("Manchester Park Bloods", "MPB", "Manchester Square"),
            ("Slauson Young Gunz", "SYG", "Slauson & Western"),
            ("Vermont Knockaz", "VK", "Vermont Knolls"),
            ("Hoover Street Set", "HSS", "Vermont Square"),
            ("Central Lil Locs", None, "Central-Alameda"),
        )
    ]

    # Four call-ins held over the past thirteen months (the oldest has a full 12-month window) and one coming up.
    places = ("Jesse Owens Park Gym", "Greater Hope Baptist Church", "South Los Angeles Sports Activity Center",
              "Algin Sutton Recreation Center", "Westside Community Center")
    forums = [
        catalog.create_forum(
            cw,
            f"Call-in forum, {local_date(when):%B %Y}",
            when,
            location=place,
            speakers="Division commander; a mother who lost her son; Second Chance Employment",
        )
        for when, place in zip(
            (_evening(-395), _evening(-240), _evening(-120), _evening(-30), _evening(21)), places, strict=True
        )
    ]

    # How far through the pipeline each participant gets, in these proportions. Interleaved, so that the first
    # participants already reach every stage and a small demo (--participants 40) still shows each one.
    weights = {"identified": 18, "invited": 12, "no_show": 6, "attended": 14, "services_offered": 30,
               "enforced": 8, "closed": 8, "reopened": 4}
    plan = [target for _share, target in sorted(
        ((k / n, target) for target, n in weights.items() for k in range(n)), key=lambda entry: entry[0]
    )]
    paths = deque(REFERRAL_PATHS)
    if not retention.active_criteria():  # the migration lists three; a database built otherwise has none
        db.session.add_all(IdentificationCriterion(name=name) for name in DEMO_CRITERIA)
        db.session.flush()
    criteria = [c.id for c in retention.active_criteria()]
    for i in range(count):
        calendar = Calendar(rng)
        target = plan[i % len(plan)]
        forum = _forum_for(target, forums, i, rng)
        identified_at = _identified_at(target, forum, calendar)
        creator = police if i % 3 else cw
        data: dict[str, Any] = {
            "first_name": rng.choice(FIRST),
            "last_name": rng.choice(LAST),
            "aliases": rng.choice(NICKS) if rng.random() < 0.6 else None,
            "date_of_birth": date(program_today().year - rng.randint(16, 34), rng.randint(1, 12), rng.randint(1, 28)),
            "phone": f"(323) 555-{rng.randint(1000, 9999)}",
            "address": f"{rng.randint(100, 6999)} {rng.choice(STREETS)}",
            "group_id": rng.choice(groups).id,
            "supervision_status": rng.choice(["none", "none", "probation", "parole", "pretrial"]),
            "caseworker_id": rng.choice([cw.id, users["caseworker2"].id]),
            "community_org_id": rng.choice([org["mothers"].id, org["faith"].id, None]),
        }
        if data["supervision_status"] in ("probation", "parole"):
            data["supervising_agency"] = org[data["supervision_status"]].name
        if creator is police:
            data["identification_basis"] = rng.choice(BASES)
            data["criteria"] = rng.sample(criteria, rng.randint(1, min(2, len(criteria))))
        p = participants.create_participant(creator, data)
        p.identified_on = local_date(identified_at)
        p.review_due_on = p.identified_on + retention.review_period()
        retention.keep_age_band(p)
        p.created_at = identified_at
        _stamp_last(p, identified_at)
        _walk(p, target, forum, forums, services, users, calendar, org, paths, identified_at)

    for forum in forums[:-1]:
        forum.status = ForumStatus.HELD
    db.session.flush()
    return [(u.role.value, u.email) for u in users.values()]


def _forum_for(target: str, forums: list[Forum], i: int, rng: random.Random) -> Forum | None:
    """The forum a participant is invited to: the coming one for those invited now, a past one (more of them to
    the recent ones) for those who came or did not; none for those only identified or enforced straight away."""
    if target == "identified" or (target == "enforced" and i % 2):
        return None
    if target == "invited":
        return forums[-1]
    return rng.choices(forums[:-1], weights=(2, 3, 3, 4))[0]


def _identified_at(target: str, forum: Forum | None, calendar: Calendar) -> datetime:
    if forum is None:
        return calendar.before(calendar.now, (3, 150))
    return calendar.before(forum.scheduled_at, (25, 80))


def _fire(p: Participant, actor: User, event: str, when: datetime, **data) -> None:
    invitation = events.open_invitation(p) if event == "attend" else None
    events.perform(actor, p, p.version, event, data)
    _stamp_last(p, when)
    if event == "invite":
        invited = events.open_invitation(p)
        if invited is None:
            raise RuntimeError(f"inviting participant {p.id} left no open invitation")
        invited.delivered_at = when
        invited.delivered_by_id = actor.id
    elif invitation is not None:
        invitation.checked_in_at = when


def _walk(p, target, forum, forums, services, users, calendar, org, paths, identified_at) -> None:
    cw, police, sup = users["caseworker"], users["police"], users["supervisor"]
    rng = calendar.rng
    if target == "identified":
        return
    if forum is None:  # enforced without a call-in, after the latest forum held since they were identified
        held = [f.scheduled_at for f in forums[:-1] if f.scheduled_at > identified_at] or [identified_at]
        _enforce(p, police, calendar.after(held[-1], (5, 25)) or calendar.now, org, rng)
        return
    invite_at = calendar.before(forum.scheduled_at, (7, 21))
    method = rng.choice(["letter", "custom_notification"] if target == "invited"
                        else ["probation_condition", "custom_notification", "parole_condition"])
    invite_at = min(max(invite_at, identified_at + timedelta(days=1)), calendar.now)
    _fire(p, cw, "invite", invite_at, forum_id=forum.id, method=method)
    _field_work(p, method, invite_at, forum, users, calendar)
    if target == "invited":
        return
    if target == "no_show":
        _fire(p, cw, "no_show", forum.scheduled_at + timedelta(days=1, hours=rng.randint(0, 20)))
        return
    # Doors open at 17:30; people come in up to an hour after.
    _fire(p, rng.choice([cw, police]), "attend", forum.scheduled_at - timedelta(minutes=rng.randint(-60, 30)))
    if target == "attended":
        _outcomes(p, cw, forum, calendar)
        return
    if target == "enforced":
        _enforce(p, police, calendar.after(forum.scheduled_at, (20, 90)) or calendar.now, org, rng)
        _outcomes(p, cw, forum, calendar)
        return
    last = _refer(p, cw, forum, services, users, calendar, paths)
    if target == "closed":
        _fire(p, cw, "close", calendar.after(last, (10, 60)) or calendar.now,
              reason=rng.choice(["completed", "moved", "incarcerated", "declined"]))
    elif target == "reopened":
        closed_at = calendar.after(last, (5, 30)) or calendar.now
        _fire(p, cw, "close", closed_at, reason="moved")
        _fire(p, sup, "reopen", calendar.after(closed_at, (3, 40)) or calendar.now,
              reason="Moved back to the area; new contact with the group.")
    _outcomes(p, cw, forum, calendar)


RESPONSES = ("Listened; said he would come.", "His mother answered and promised to bring him.",
             "Quiet, took the letter.", "Said he wants out of the conflict.")


def _field_work(p: Participant, method: str, invited_at: datetime, forum: Forum, users, calendar: Calendar) -> None:
    """What the street side records: the home visit that delivered a custom-notification invitation (police and the
    community group together), a community group's outreach to those assigned to it after the forum, and a note."""
    rng = calendar.rng
    police, community, cw = users["police"], users["community"], users["caseworker"]
    if method == "custom_notification":
        visit = fieldwork.record_custom_notification(
            police, p, invited_at, f"Front porch, {p.address}",
            "You are at risk; your community wants you alive and free. Come to the forum: help is on offer.",
            rng.choice(RESPONSES), team_user_ids=[police.id, community.id],
        )
        visit.recorded_at = invited_at
    if p.community_org_id == community.organization_id:
        at: datetime | None = forum.scheduled_at
        for _ in range(rng.randint(0, 3)):
            at = calendar.after(at, (3, 30)) if at is not None else None
            if at is None:
                break
            contact = fieldwork.log_outreach(community, p, at, rng.choice(["visit", "call", "event"]),
                                             rng.choice(("Checked in; doing all right.", "Asked about a job lead.",
                                                         "No answer; left word with his aunt.")))
            contact.created_at = at
    if rng.random() < 0.3:
        written = calendar.after(invited_at, (1, 5))
        if written is not None:
            note = fieldwork.write_note(cw, p, "Mother is the best contact; call after 6pm.", "all_staff")
            note.created_at = written


def _enforce(p: Participant, police: User, when: datetime, org, rng: random.Random) -> None:
    _fire(p, police, "enforce", when,
          action_type=rng.choice(["arrest", "warrant", "probation_violation"]),
          occurred_on=local_date(when),
          description="Arrested after a shooting involving the group.",
          agency_id=org["pd"].id)


def _refer(p, cw, forum, services, users, calendar: Calendar, paths: deque) -> datetime:
    """Consent and one or two referrals in the weeks after the forum, answered days later; services offered with
    the first. Returns the time of the last thing that happened."""
    rng = calendar.rng
    days_since = max(2, (calendar.now - forum.scheduled_at).days)
    consent_at = calendar.after(forum.scheduled_at, (0, min(7, days_since - 1)), (-2, 2)) or calendar.now
    consent = events.record_consent(cw, p, p.version)
    consent.given_on = local_date(consent_at)
    consent.created_at = consent_at
    # A year's consent, renewed for those whose first year has run out; a few end within the next 30 days.
    if rng.random() < 0.15:
        consent.expires_on = program_today() + timedelta(days=rng.randint(5, 30))
    else:
        renewed = program_today() + timedelta(days=rng.randint(31, 300))
        consent.expires_on = max(consent.given_on + timedelta(days=365), renewed)
    last = consent_at
    for n, service in enumerate(rng.sample(services, rng.randint(1, 2))):
        sent_at = calendar.after(consent_at, (0, max(0, min(35, days_since - 2)))) or calendar.now
        ref = referrals.send_referral(cw, p, service, "Met at the forum; keen to start.")
        ref.sent_at = ref.updated_at = sent_at
        for event in ref.events:
            event.at = sent_at
        provider = next(u for u in users.values() if u.organization_id == service.organization_id)
        last = max(last, _advance_referral(ref, provider, cw, paths, calendar, may_withdraw=n > 0))
        if n == 0:
            _fire(p, cw, "offer_services", sent_at)
    return last


REFERRAL_PATHS = (
    (),
    ("accepted",),
    ("accepted", "enrolled"),
    ("accepted", "enrolled", "completed"),
    ("accepted", "dropped"),
    ("accepted", "enrolled", "dropped"),
    ("declined",),
    ("withdrawn",),
)


def _advance_referral(ref: Referral, provider, cw, paths: deque, calendar: Calendar, may_withdraw: bool) -> datetime:
    """Spread referrals over every status: each takes the first path in the queue it can follow (a provider must
    report the provider's statuses; the first referral of a participant is never withdrawn; none sent over a month ago
    is still unanswered or merely accepted), which goes last. Each answer comes days after the step before; a step
    that would fall in the future is left for later."""

    waiting_long = (calendar.now - ref.sent_at).days > 30

    def possible(path) -> bool:
        if path in ((), ("accepted",)):  # still waiting on the provider: only those sent in the last month
            return not waiting_long
        return may_withdraw if path == ("withdrawn",) else True

    path = next(p for p in paths if possible(p))
    paths.remove(path)
    paths.append(path)
    at = ref.sent_at
    for status in path:
        when = calendar.after(at, (1, 10) if status in ("accepted", "declined", "withdrawn") else (7, 60))
        if when is None:
            break
        if status == "withdrawn":
            referrals.set_status(cw, ref, ReferralStatus.WITHDRAWN)
        else:
            reason = "Outside our catchment area." if status == "declined" else None
            referrals.set_status(provider, ref, ReferralStatus(status), reason)
        ref.events[-1].at = ref.updated_at = when
        if ref.closed_at is not None:
            ref.closed_at = when
        at = when
    return at


# What becomes of people in the year after a call-in, roughly in these proportions.
OUTCOME_WEIGHTS = {
    OutcomeType.EMPLOYED: 30, OutcomeType.ENROLLED_EDUCATION: 20, OutcomeType.ARRESTED: 20,
    OutcomeType.ARRESTED_VIOLENT: 8, OutcomeType.INCARCERATED: 10, OutcomeType.SHOT: 10, OutcomeType.KILLED: 2,
}


def _outcomes(p: Participant, cw: User, forum: Forum, calendar: Calendar) -> None:
    rng = calendar.rng
    for _ in range(rng.choice((0, 0, 1, 1, 2))):
        when = calendar.after(forum.scheduled_at, (10, 365))
        if when is None:
            continue
        kind = rng.choices(list(OUTCOME_WEIGHTS), weights=list(OUTCOME_WEIGHTS.values()))[0]
        outcome = outcomes.record_outcome(cw, p, kind, local_date(when))
        outcome.recorded_at = calendar.after(when, (0, 5)) or calendar.now
        if kind in (OutcomeType.KILLED, OutcomeType.INCARCERATED):
            return
