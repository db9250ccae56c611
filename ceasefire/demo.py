"""A believable demo program, built through the same services people use, so its history is real."""

from __future__ import annotations

import random
from collections import deque
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from ceasefire.extensions import db
from ceasefire.models import IdentificationCriterion, Participant, StatusChange, User
from ceasefire.models.base import utcnow
from ceasefire.models.enums import ForumStatus, OrgKind, ReferralStatus, Role, ServiceCategory
from ceasefire.services import accounts, catalog, events, participants, referrals, retention

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
    "Oak St",
    "Kedzie Ave",
    "Pulaski Rd",
    "Garfield Blvd",
    "Halsted St",
    "63rd St",
    "Ashland Ave",
    "Cicero Ave",
    "Madison St",
    "Division St",
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


def _back(days_ago: int, rng: random.Random) -> datetime:
    return utcnow() - timedelta(days=days_ago, hours=rng.randint(0, 10), minutes=rng.randint(0, 59))


def _stamp_last(participant: Participant, at: datetime) -> None:
    """Move the newest history row into the past, so the demo has a believable timeline."""
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
        ("pd", "Metro Police Department", OrgKind.POLICE),
        ("probation", "County Adult Probation", OrgKind.PROBATION),
        ("parole", "State Parole, District 4", OrgKind.PAROLE),
        ("da", "County Prosecutor's Office", OrgKind.PROSECUTOR),
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
            ("Black P Stones (Garfield set)", "BPS, Stones", "Garfield Park"),
            ("Four Corner Hustlers", "4CH", "West Humboldt"),
            ("Young Money Gang", "YMG", "Englewood, 63rd & Halsted"),
            ("Latin Kings (Division)", "LK", "Humboldt Park"),
            ("OTF Crew", "Only The Family", "Auburn Gresham"),
            ("Hood Boys", None, "Chatham"),
        )
    ]

    now = utcnow()
    forum_dates = [now - timedelta(days=150), now - timedelta(days=60), now + timedelta(days=21)]
    forums = [
        catalog.create_forum(
            cw,
            f"Call-in forum, {when:%B %Y}",
            when.replace(hour=18, minute=0, second=0, microsecond=0),
            location=place,
            speakers="District commander; a mother who lost her son; Second Chance Employment",
        )
        for when, place in zip(
            forum_dates,
            ("Garfield Park Fieldhouse", "Greater Hope Baptist Church", "Westside Community Center"),
            strict=True,
        )
    ]

    # How far through the pipeline each participant gets, in these proportions. Interleaved, so that the first
    # participants already reach every stage and a small demo (--participants 40) still shows each one.
    weights = {"identified": 18, "invited": 12, "no_show": 6, "attended": 14, "services_offered": 30,
               "enforced": 8, "closed": 8, "reopened": 4}
    plan = [target for _share, target in sorted(
        ((k / n, target) for target, n in weights.items() for k in range(n)), key=lambda entry: entry[0]
    )]
    outcomes = deque(REFERRAL_PATHS)
    if not retention.active_criteria():  # the migration lists three; a database built otherwise has none
        db.session.add_all(IdentificationCriterion(name=name) for name in DEMO_CRITERIA)
        db.session.flush()
    criteria = [c.id for c in retention.active_criteria()]
    for i in range(count):
        target = plan[i % len(plan)]
        creator = police if i % 3 else cw
        days_ago = rng.randint(30, 170)
        data: dict[str, Any] = {
            "first_name": rng.choice(FIRST),
            "last_name": rng.choice(LAST),
            "aliases": rng.choice(NICKS) if rng.random() < 0.6 else None,
            "date_of_birth": date(now.year - rng.randint(16, 34), rng.randint(1, 12), rng.randint(1, 28)),
            "phone": f"(312) 555-{rng.randint(1000, 9999)}",
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
        p.identified_on = (now - timedelta(days=days_ago)).date()
        p.review_due_on = p.identified_on + retention.review_period()
        retention.keep_age_band(p)
        _stamp_last(p, _back(days_ago, rng))
        _walk(p, target, forums, services, users, rng, days_ago, org, outcomes)

    forums[0].status = ForumStatus.HELD
    forums[1].status = ForumStatus.HELD
    db.session.flush()
    return [(u.role.value, u.email) for u in users.values()]


def _fire(p: Participant, actor: User, event: str, when: datetime, **data) -> None:
    invitation = events.open_invitation(p) if event == "attend" else None
    events.perform(actor, p, p.version, event, data)
    _stamp_last(p, when)
    if event == "invite":
        invited = events.open_invitation(p)
        if invited is None:
            raise RuntimeError(f"inviting participant {p.id} left no open invitation")
        invited.delivered_at = when
    elif invitation is not None:
        invitation.checked_in_at = when


def _walk(p, target, forums, services, users, rng, days_ago, org, outcomes) -> None:
    cw, police, sup = users["caseworker"], users["police"], users["supervisor"]
    # One gap per participant, at most a seventh of their time, so the k-th step comes after the one before it
    # and all six of them before today (days_ago is at least 30).
    gap = rng.randint(3, min(12, days_ago // 7))
    step = lambda k: _back(days_ago - k * gap, rng)  # noqa: E731
    if target == "identified":
        return
    if target == "enforced":
        _fire(
            p,
            police,
            "enforce",
            step(2),
            action_type=rng.choice(["arrest", "warrant", "probation_violation"]),
            occurred_on=step(2).date(),
            description="Group member arrested after a shooting.",
            agency_id=org["pd"].id,
        )
        return
    past = forums[0] if days_ago > 100 else forums[1]
    upcoming = forums[2]
    if target == "invited":
        _fire(p, cw, "invite", step(1), forum_id=upcoming.id, method=rng.choice(["letter", "custom_notification"]))
        return
    _fire(p, cw, "invite", step(1), forum_id=past.id, method=rng.choice(["probation_condition", "custom_notification"]))
    if target == "no_show":
        _fire(p, cw, "no_show", step(2))
        return
    _fire(p, cw, "attend", step(2))
    if target == "attended":
        return
    if target in ("services_offered", "closed", "reopened"):
        events.record_consent(cw, p, p.version)
        chosen = rng.sample(services, rng.randint(1, 2))
        for n, service in enumerate(chosen):
            ref = referrals.send_referral(cw, p, service, "Met at the forum; keen to start.")
            provider = (
                users["provider"]
                if service.organization.name == "Second Chance Employment"
                else users["provider2"]
                if service.organization.name == "Westside Behavioral Health"
                else None
            )
            _advance_referral(ref, provider, cw, outcomes, may_withdraw=n > 0)
        _fire(p, cw, "offer_services", step(3))
    if target == "closed":
        _fire(p, cw, "close", step(5), reason=rng.choice(["completed", "moved", "incarcerated", "declined"]))
    if target == "reopened":
        _fire(p, cw, "close", step(5), reason="moved")
        _fire(p, sup, "reopen", step(6), reason="Moved back to the area; new contact with the group.")


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


def _advance_referral(ref, provider, cw, outcomes: deque, may_withdraw: bool) -> None:
    """Spread referrals over every status: each takes the first path in the queue it can follow (a provider must
    report the provider's statuses; the first referral of a participant is never withdrawn), which goes last."""

    def possible(path) -> bool:
        return may_withdraw if path == ("withdrawn",) else provider is not None or not path

    path = next(p for p in outcomes if possible(p))
    outcomes.remove(path)
    outcomes.append(path)
    for status in path:
        if status == "withdrawn" and may_withdraw:
            referrals.set_status(cw, ref, ReferralStatus.WITHDRAWN)
        elif status != "withdrawn" and provider is not None:
            reason = "Outside our catchment area." if status == "declined" else None
            referrals.set_status(provider, ref, ReferralStatus(status), reason)
