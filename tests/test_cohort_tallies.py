"""Each forum's kept cohort counts (ceasefire.models.cohort_tallies) equal the report's statement run afresh after
every write they depend on beside those of test_stage_entries (which checks them too after each of its changes):
outcomes recorded, moved in time, changed in type or person, deleted; enforcement against a member, against a group
(with its members' own actions, and as one row for the whole group), a member moved to another group, an action
deleted; invitations not checked in; a forum created; UPDATEs and DELETEs run through the session. And the report
answers the same when a forum's row is missing or was counted for another day (the time zone changed)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from helpers import Program, check_tallies

from ceasefire.extensions import db
from ceasefire.models import EnforcementAction, Group, Invitation, Outcome, Participant, cohort_tallies
from ceasefire.models.enums import DeliveryMethod, OutcomeType, State
from ceasefire.services import catalog, groups, outcomes


def _tally(forum_id: int) -> dict:
    with db.engine.connect() as conn:
        row = conn.execute(sa.select(cohort_tallies.TALLIES).where(cohort_tallies.TALLIES.c.forum_id == forum_id)).one()
    return dict(row._mapping)


def _cohort(program: Program, forum_id: int, *names: str, group: Group | None = None) -> list[Participant]:
    people = []
    with program.batch():
        for name in names:
            p = program.create(first_name=name, group_id=group.id if group else None)
            program.fire(p, "invite", forum_id=forum_id, method="letter")
            program.fire(p, "attend")
            people.append(p)
    return people


def _back_in_time(forum) -> None:
    """The forum (today's, so that its people could be checked in) moved five days back, as a program entering its
    history does: outcomes and actions of today fall in its windows."""
    forum.scheduled_at -= timedelta(days=5)
    db.session.commit()


def test_outcomes_recorded_moved_and_deleted_are_kept(users):
    program = Program.build(users["supervisor"])
    forum = program.forum()
    ann, bo = _cohort(program, forum.id, "Ann", "Bo")
    check_tallies()
    _back_in_time(forum)
    held = cohort_tallies.held_on(forum.scheduled_at)
    check_tallies()
    assert _tally(forum.id)["cohort"] == 2
    # an outcome today is in both windows; one recorded before the forum in none
    record = outcomes.record_outcome(users["supervisor"], ann, OutcomeType.EMPLOYED, date.today())
    outcomes.record_outcome(users["supervisor"], bo, OutcomeType.ARRESTED, held - timedelta(days=3))
    db.session.commit()
    check_tallies()
    assert (_tally(forum.id)["employed_6m"], _tally(forum.id)["arrested_12m"]) == (1, 0)
    # moved back before the forum, to another type, to another person
    record.occurred_on = held - timedelta(days=1)
    db.session.commit()
    check_tallies()
    assert _tally(forum.id)["employed_12m"] == 0
    record.occurred_on = date.today()
    record.type = OutcomeType.SHOT
    db.session.commit()
    check_tallies()
    record.participant_id = bo.id
    db.session.commit()
    check_tallies()
    assert _tally(forum.id)["shot_6m"] == 1
    db.session.delete(record)
    db.session.commit()
    check_tallies()
    assert _tally(forum.id)["shot_6m"] == 0


def test_enforcement_on_members_and_groups_and_a_group_move_are_kept(users):
    program = Program.build(users["supervisor"])
    forum = program.forum()
    north, south = Group(name="North"), Group(name="South")
    db.session.add_all([north, south])
    db.session.commit()
    ann, bo = _cohort(program, forum.id, "Ann", "Bo", group=north)
    (cy,) = _cohort(program, forum.id, "Cy", group=south)
    _back_in_time(forum)
    enforce = {"action_type": "arrest", "agency_id": program.police_org.id}
    program.fire(ann, "enforce", occurred_on=date.today(), **enforce)
    check_tallies()
    assert _tally(forum.id)["enforced_12m"] == 1
    # against the group, touching Bo (his own action, linked to the group's)
    groups.enforce_group(users["supervisor"], north, [bo.id], "arrest", date.today(), program.police_org.id)
    db.session.commit()
    check_tallies()
    assert _tally(forum.id)["enforced_6m"] == 2
    # one row for the whole of South, as it is: Cy, then Ann too once she joins it, then nobody once it is moved
    whole = EnforcementAction(group_id=south.id, agency_id=program.police_org.id, action_type="arrest",
                              occurred_on=date.today())
    db.session.add(whole)
    db.session.commit()
    check_tallies()
    assert _tally(forum.id)["enforced_6m"] == 3
    ann.group_id = south.id
    db.session.commit()
    check_tallies()
    cy.group_id = None
    db.session.commit()
    check_tallies()
    assert _tally(forum.id)["enforced_6m"] == 2  # Ann, Bo
    whole.group_id = north.id
    db.session.commit()
    check_tallies()
    whole.occurred_on = cohort_tallies.held_on(forum.scheduled_at) - timedelta(days=1)
    db.session.commit()
    check_tallies()
    db.session.delete(whole)
    db.session.commit()
    check_tallies()
    action = db.session.scalars(sa.select(EnforcementAction).where(EnforcementAction.participant_id == ann.id)).one()
    db.session.delete(action)
    db.session.commit()
    check_tallies()
    assert _tally(forum.id)["enforced_6m"] == 1  # Bo


def test_invitations_and_forums_and_statements_through_the_session_are_kept(users):
    program = Program.build(users["supervisor"])
    forum = catalog.create_forum(users["supervisor"], "Spring call-in", datetime.now(UTC) - timedelta(days=2))
    db.session.commit()
    check_tallies()
    assert _tally(forum.id)["invited"] == 0
    waiting = program.bring_to(State.IDENTIFIED)
    invitation = Invitation(forum_id=forum.id, participant_id=waiting.id, method=DeliveryMethod.LETTER)
    db.session.add(invitation)
    db.session.commit()
    check_tallies()
    assert (_tally(forum.id)["invited"], _tally(forum.id)["attended"]) == (1, 0)
    other = program.forum()
    (ann,) = _cohort(program, other.id, "Ann")
    _back_in_time(other)
    outcomes.record_outcome(users["supervisor"], ann, OutcomeType.EMPLOYED, date.today())
    db.session.commit()
    db.session.execute(sa.update(Outcome).where(Outcome.participant_id == ann.id)
                       .values(occurred_on=date.today() - timedelta(days=30)))
    db.session.commit()
    check_tallies()
    db.session.execute(sa.update(Participant).values(group_id=None))
    db.session.execute(sa.delete(Outcome))
    db.session.commit()
    check_tallies()
    db.session.execute(sa.update(Invitation).where(Invitation.id == invitation.id).values(forum_id=other.id))
    db.session.commit()
    check_tallies()
    db.session.delete(db.session.get(Invitation, invitation.id))
    db.session.commit()
    check_tallies()
    assert _tally(forum.id)["invited"] == 0


def test_the_report_counts_a_forum_whose_row_is_missing_or_for_another_day(users, api_as, make_app):
    program = Program.build(users["supervisor"])
    forum = program.forum()
    (ann,) = _cohort(program, forum.id, "Ann")
    _back_in_time(forum)
    outcomes.record_outcome(users["supervisor"], ann, OutcomeType.EMPLOYED, date.today())
    db.session.commit()
    api = api_as(users["supervisor"])
    status, kept = api.get("/reports/cohorts")
    assert status == 200
    assert kept["items"][0]["outcomes_6m"]["employed"] == 1
    with db.engine.begin() as conn:
        conn.execute(sa.update(cohort_tallies.TALLIES).values(held=0, employed_6m=7))  # counted for another day
    assert api.get("/reports/cohorts")[1] == kept
    with db.engine.begin() as conn:
        conn.execute(sa.delete(cohort_tallies.TALLIES))
    assert api.get("/reports/cohorts")[1] == kept
    db.session.execute(sa.text("SELECT 1"))
    cohort_tallies.refresh(db.session)
    db.session.commit()
    check_tallies()
