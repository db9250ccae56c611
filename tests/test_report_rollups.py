"""What the reports keep beside the data (models/counts.py): the people identified by identifying agency, right after
every write and recounted after a bulk load; the identification report over the whole history reads them and
answers as the counted report does."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from helpers import Program, at

from ceasefire.extensions import db
from ceasefire.models import (
    ActivityDay,
    ActivityMonth,
    AgencyCount,
    CustomNotification,
    Invitation,
    OutreachContact,
    Participant,
    activity,
    counts,
)
from ceasefire.models.enums import ForumStatus, OutreachKind, Role
from ceasefire.services import catalog, retention


def _kept_agencies() -> dict | None:
    with db.engine.connect() as conn:
        kept = counts.identified_by_agency(conn)
    return {org: n for org, _name, n in kept} if kept is not None else None


def _agency_rows() -> dict:
    with db.engine.connect() as conn:
        return dict(conn.execute(
            sa.select(Participant.identifying_org_id, sa.func.count(Participant.id))
            .group_by(Participant.identifying_org_id)
        ).all())


def test_agency_counts_follow_create_and_purge_and_the_report_reads_them(users, api_as, make_org, make_user):
    program = Program.build(users["supervisor"])
    police, other_police = users["police"], make_user(Role.POLICE, make_org("police", name="County sheriff"))
    basis = {"identification_basis": "Named in a shooting review."}
    people = [
        program.create(police, **basis), program.create(police, **basis), program.create(other_police, **basis),
        program.create(), program.create(date_of_birth=date(2000, 1, 1)),
    ]
    assert _kept_agencies() == _agency_rows() == {police.organization_id: 2, other_police.organization_id: 1, None: 2}
    api = api_as(users["supervisor"])
    _status, whole = api.get("/reports/identification")
    _status, counted = api.get("/reports/identification?from=1900-01-01")  # counted off the participants
    assert whole == counted
    assert whole["by_identifying_agency"] == [
        {"organization_id": other_police.organization_id, "name": "County sheriff", "count": 1},
        {"organization_id": police.organization_id, "name": police.organization.name, "count": 2},
        {"organization_id": None, "name": None, "count": 2},
    ]
    # a purged person stays identified, by the agency that identified them
    status, body = api.post(f"/participants/{people[2].id}/review", json={"decision": "purge", "reason": "Moved."})
    assert status == 200, body
    assert _kept_agencies() == _agency_rows()
    assert api.get("/reports/identification")[1] == api.get("/reports/identification?from=1900-01-01")[1]
    # community users: small counts suppressed, the same either way
    community = api_as(users["community"])
    small = community.get("/reports/identification")[1]
    assert small == community.get("/reports/identification?from=1900-01-01")[1]
    assert {row["count"] for row in small["by_identifying_agency"]} == {"<5"}


def test_a_bulk_load_is_counted_by_refresh(users, api_as):
    Program.build(users["supervisor"]).create(users["police"], identification_basis="Named in a review.")
    db.session.execute(sa.insert(Participant), [
        {"first_name": f"Bulk{n}", "last_name": "Copy", "state": "identified", "version": 1,
         "identifying_org_id": users["police"].organization_id if n % 2 else None}
        for n in range(5)
    ])
    db.session.commit()
    assert _kept_agencies() != _agency_rows()  # a load around the ORM is not seen ...
    counts.refresh(db.session)
    db.session.commit()
    assert _kept_agencies() == _agency_rows() == {users["police"].organization_id: 3, None: 3}


def test_without_the_kept_agency_counts_the_report_counts(users, api_as):
    Program.build(users["supervisor"]).create(users["police"], identification_basis="Named in a review.")
    db.session.execute(sa.delete(AgencyCount))
    db.session.commit()
    assert _kept_agencies() is None
    api = api_as(users["supervisor"])
    [row] = api.get("/reports/identification")[1]["by_identifying_agency"]
    assert (row["organization_id"], row["count"]) == (users["police"].organization_id, 1)


# The activity report's days


def _kept_days() -> dict:
    with db.engine.connect() as conn:
        rows = conn.execute(sa.select(ActivityDay.measure, ActivityDay.day, ActivityDay.n)).all()
    return {(m, d): n for m, d, n in rows if n and not m.startswith("@")}


def _kept_months() -> dict:
    with db.engine.connect() as conn:
        rows = conn.execute(sa.select(ActivityMonth.measure, ActivityMonth.month, ActivityMonth.n)).all()
    return {(m, d): n for m, d, n in rows if n}


def _check_days() -> None:
    """The days kept are those counted off the records, and the months kept their sums by month."""
    db.session.commit()
    with db.engine.connect() as conn:
        found = activity.counted(conn)
    assert _kept_days() == found
    months: dict = {}
    for (measure, day), n in found.items():
        months[(measure, day.replace(day=1))] = months.get((measure, day.replace(day=1)), 0) + n
    assert _kept_months() == months


def test_activity_days_follow_every_write(users):
    program = Program.build(users["supervisor"], users["provider"].organization)
    sup = users["supervisor"]
    forum = program.forum()  # planned, an hour ago: nothing held yet
    later = catalog.create_forum(sup, "Later", at("2025-05-20"))
    _check_days()
    people = [program.create(first_name=f"P{n}") for n in range(3)]
    program.fire(people[0], "invite", forum_id=forum.id, method="letter")
    program.fire(people[1], "invite", forum_id=forum.id, method="letter")
    program.fire(people[2], "invite", forum_id=later.id, method="letter")
    _check_days()
    program.fire(people[1], "no_show")  # nobody checked in: still not held
    _check_days()
    assert not any(m == "forums_held" for m, _d in _kept_days())
    program.fire(people[0], "attend")  # a check-in: held on its day
    _check_days()
    assert sum(n for (m, _d), n in _kept_days().items() if m == "forums_held") == 1
    catalog.update_forum(sup, later, {"scheduled_at": at("2025-06-02")})  # moved, not held
    catalog.update_forum(sup, later, {"status": ForumStatus.HELD})  # set held
    _check_days()
    catalog.update_forum(sup, later, {"scheduled_at": at("2025-07-01")})  # a held forum moved to another day
    _check_days()
    assert _kept_days()[("forums_held", date(2025, 7, 1))] == 1
    referral = program.refer(people[0])
    referral.sent_at = at("2025-03-03")  # moved by hand, through the ORM
    _check_days()
    # (written as their services write them: the hooks are the ORM's)
    contact = OutreachContact(participant_id=people[2].id, organization_id=users["community"].organization_id,
                              contacted_at=at("2025-04-21"), kind=next(iter(OutreachKind)))
    db.session.add_all([contact, CustomNotification(participant_id=people[1].id, delivered_at=at("2025-04-20"),
                                                    recorded_by_id=sup.id)])
    _check_days()
    db.session.delete(contact)
    _check_days()
    # an UPDATE through the session (a script's): every day counted anew
    db.session.execute(sa.update(Invitation).values(delivered_at=at("2025-02-20")))
    _check_days()
    assert _kept_days()[("invitations", date(2025, 2, 20))] == 3
    # a purge's UPDATE of free text changes no count
    retention.purge(sup, people[2], "review")
    _check_days()


def test_the_activity_report_reads_the_days_as_it_counts(users, api_as, client, auth):
    program = Program.build(users["supervisor"], users["provider"].organization)
    forum = catalog.create_forum(users["supervisor"], "March", at("2025-03-10"))
    person = program.create()
    program.fire(person, "invite", forum_id=forum.id, method="letter")
    catalog.update_forum(users["supervisor"], forum, {"status": ForumStatus.HELD})
    program.refer(person).sent_at = at("2025-04-30", 23)
    # a contact on each side of the edges the windows below cut, and inside their whole months
    for day in ("2025-02-28", "2025-03-01", "2025-03-14", "2025-03-15", "2025-04-10", "2025-05-10", "2025-05-11",
                "2025-05-31", "2025-06-01"):
        db.session.add(OutreachContact(participant_id=person.id, organization_id=users["community"].organization_id,
                                       contacted_at=at(day, 12), kind=next(iter(OutreachKind))))
    db.session.commit()
    auth.login(users["supervisor"])
    windows = ["", "date_from=2025-03-15&date_to=2025-04-30", "date_from=2025-04-30&date_to=2025-04-30",
               "date_from=2025-03-15&date_to=2025-05-10", "date_from=2025-03-01&date_to=2025-05-31",
               "date_from=2025-03-14&date_to=2025-06-01", "date_from=2025-03-01", "date_to=2025-05-10",
               "date_from=2025-05-11&date_to=2025-05-31"]
    paths = [f"/reports/activity?{window}&format=csv" for window in windows]
    read = [client.get(path).get_data(as_text=True) for path in paths]
    db.session.execute(sa.delete(ActivityDay).where(ActivityDay.measure.startswith("@")))
    db.session.commit()
    with db.engine.connect() as conn:
        assert not activity.kept(conn)
    assert read == [client.get(path).get_data(as_text=True) for path in paths]
    assert "2025-04,0,0,0,0,1" in read[2]
    assert "2025-03,0,0,0,1,0" in read[3]  # the 15th alone of March; the forum held on the 10th is before it
    assert "2025-05,0,0,0,1,0" in read[3]  # the 10th, not the 11th
    assert "2025-03,1,0,0,3,0" in read[4]  # the whole of March: the forum, the contacts of the 1st, 14th and 15th


def test_activity_days_kept_in_another_zone_are_not_read(users, make_app, auth):
    """Days kept in UTC say nothing of a program in UTC+14: its report counts (and agrees with itself)."""
    program = Program.build(users["supervisor"], users["provider"].organization)
    program.refer(program.create()).sent_at = at("2025-04-30", 18)  # May 1st at UTC+14
    db.session.commit()
    client = make_app(TIMEZONE="Pacific/Kiritimati").test_client()
    auth.login(users["supervisor"], client=client)
    lines = client.get("/reports/activity?date_from=2025-04-01&date_to=2025-05-31&format=csv").get_data(as_text=True)
    assert "2025-04,0,0,0,0,0" in lines
    assert "2025-05,0,0,0,0,1" in lines
