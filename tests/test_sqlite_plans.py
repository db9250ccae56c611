"""What SQLite reads for the pages that grew with the program (issue #12). SQLite keeps no statistics unless ANALYZE
runs, and without them it takes an equality on an indexed column for a narrow condition: `purged_at IS NULL`, a
referral's status, a provider's organization. At 150,000 participants those plans read every referral of a status
and sorted them for a page of ten (the referral list 62 ms, the supervisor's home 110, a provider's list of people
300), where the 1,000 took a few milliseconds. Each page's statement is checked here by the plan SQLite makes of it,
as the page sent it: the plan is the same at any size, since no statistics tell SQLite the size. PostgreSQL plans
by the statistics it keeps; there each page is only asked for."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

import pytest
import sqlalchemy as sa
from helpers import Program, sent, sqlite_plan

from ceasefire.extensions import db
from ceasefire.models import Group, Invitation, Organization
from ceasefire.models.enums import ReferralStatus
from ceasefire.services import referrals as referral_service


def _plans(fetch: Callable[[], int], *words: str) -> list[str]:
    """SQLite's plans of the statements of a request that hold every one of `words`, each planned twice: with the
    indexes as the test database has them, and with every index of the tables it reads built again in the reverse
    order. Without statistics SQLite breaks a tie between two indexes by their order, which differs between a
    database the migrations built and one the bulk seed built (it sets indexes aside and builds them again at the
    end); a plan checked here holds in both. None on PostgreSQL (the request is still made and must answer 200)."""
    with sent() as statements:
        assert fetch() == 200
    if db.engine.dialect.name != "sqlite":
        return []
    chosen = [(s, p) for s, p in statements if all(word in s for word in words)]
    assert chosen, f"no statement holds {words}"
    plans = [sqlite_plan(s, p) for s, p in chosen]
    _indexes_reversed({table for s, _p in chosen for table in re.findall(r"(?:FROM|JOIN) (\w+)", s)})
    return plans + [sqlite_plan(s, p) for s, p in chosen]


def _indexes_reversed(tables: set[str]) -> None:
    """Drop every index of `tables` that a CREATE INDEX made, and build them again in the reverse order."""
    conn = db.session.connection()
    for table in tables:
        indexes = conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL"
            " ORDER BY rowid", (table,)).all()
        for name, _sql in indexes:
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
        for _name, sql in reversed(indexes):
            conn.exec_driver_sql(sql)


@pytest.fixture
def program(users) -> Program:
    """The provider's organization with a service, and a participant invited to a forum and referred to it."""
    program = Program.build(users["supervisor"], db.session.get(Organization, users["provider"].organization_id))
    program.refer(program.bring_to("invited"))
    return program


def test_the_referral_list_walks_the_order_of_sending(program, users, api_as):
    api = api_as(users["caseworker"])
    for plan in _plans(lambda: api.get("/referrals")[0], "FROM referrals", "ORDER BY referrals.sent_at DESC"):
        assert "ix_referrals_sent" in plan, plan
        assert "TEMP B-TREE" not in plan, plan
        assert "ix_participants_purged_at" not in plan, plan


def test_the_supervisors_home_reads_the_waiting_and_the_due_off_their_indexes(program, users, client, auth):
    auth.login(users["supervisor"])
    fetch = lambda: client.get("/").status_code  # noqa: E731
    for plan in _plans(fetch, "FROM referrals", "ORDER BY referrals.updated_at"):
        assert "ix_referrals_waiting" in plan, plan
        assert "TEMP B-TREE" not in plan, plan
    for plan in _plans(fetch, "FROM participants", "review_due_on <"):
        assert "ix_participants_review_due_on" in plan, plan


def test_a_providers_pages_read_its_services_referrals(program, users, client, auth, api_as):
    """Its home and inbox read the referrals of its organization's services (a few hundred at 150,000), never every
    referral of a status; its list of people is read from those referrals, not by walking every participant."""
    auth.login(users["provider"])
    for path in ("/", "/referrals/inbox?tab=accepted"):
        for plan in _plans(lambda: client.get(path).status_code, "FROM referrals", "ORDER BY"):  # noqa: B023
            assert "SEARCH referrals USING INDEX ix_referrals_service_" in plan, (path, plan)
            assert "ix_referrals_status_sent" not in plan, (path, plan)
    api = api_as(users["provider"])
    for plan in _plans(lambda: api.get("/participants")[0], "FROM participants", "LIMIT"):
        assert "LIST SUBQUERY" in plan, plan
        assert "SCAN participants" not in plan, plan
        assert "ix_services_organization_id" in plan, plan


def test_the_forum_filter_reads_the_forums_invitations(program, users, client, auth):
    forum_id = db.session.scalar(sa.select(Invitation.forum_id))
    auth.login(users["caseworker"])
    fetch = lambda: client.get(f"/participants/?forum_id={forum_id}").status_code  # noqa: E731
    for plan in _plans(fetch, "FROM participants", "invitations"):
        assert "ix_invitations_forum" in plan, plan
        assert "SCAN participants" not in plan, plan


def test_the_pipeline_report_finds_the_purged_off_their_index(program, users, client, auth):
    auth.login(users["supervisor"])
    for plan in _plans(lambda: client.get("/reports/").status_code, "FROM participants", "purged_at IS NOT NULL"):
        assert "ix_participants_purged_at" in plan, plan


def test_the_community_home_reads_each_persons_contacts(program, users, client, auth):
    auth.login(users["community"])
    for plan in _plans(lambda: client.get("/").status_code, "FROM participants", "outreach_contacts"):
        assert "ix_outreach_contacts_participant_id" in plan, plan
        assert "ix_outreach_contacts_organization_id" not in plan, plan


def test_the_referral_outcomes_read_each_services_answers_in_their_order(users, client, auth):
    """The medians of the time to answer: each service's kept times read off their index, none worked out."""
    provider = users["provider"]
    program = Program.build(users["supervisor"], provider_org=db.session.get(Organization, provider.organization_id))
    referral = program.refer(program.create(first_name="Ann"))
    referral_service.set_status(provider, referral, ReferralStatus.ACCEPTED)
    db.session.commit()
    auth.login(users["supervisor"])
    for path in ("/reports/referrals", f"/reports/referrals?date_from={date.today().replace(day=1).isoformat()}"):
        for plan in _plans(lambda: client.get(path).status_code, "FROM referrals", "answer_us"):  # noqa: B023
            assert "COVERING INDEX ix_referrals_answers" in plan, (path, plan)


@pytest.mark.parametrize("window", ["", "&date_from=2025-01-01", "&date_from=2025-01-01&date_to=2025-12-31"])
def test_the_pipeline_report_of_a_group_or_forum_reads_its_peoples_entries(program, users, client, auth, window):
    """Filtered by a group or a forum, the report reads the stage entries of those people (a few dozen) through the
    entries' (participant, stage) key: never a whole stage through the indexes of spans or times, then each entry's
    person looked up (a group's report took a second at 150,000)."""
    group = Group(name="Westside Crew")
    db.session.add(group)
    db.session.flush()
    program.bring_to("attended", group_id=group.id)
    forum_id = db.session.scalar(sa.select(Invitation.forum_id))
    auth.login(users["supervisor"])
    for path in (f"/reports/?forum_id={forum_id}{window}", f"/reports/?group_id={group.id}{window}"):
        plans = _plans(lambda: client.get(path).status_code, "FROM stage_entries")  # noqa: B023
        for plan in plans:
            steps = [step for step in plan.split(" | ") if "stage_entries" in step]
            assert steps, (path, plan)
            for step in steps:
                assert "sqlite_autoindex_stage_entries_1 (participant_id=? AND stage=?)" in step, (path, step)


def test_the_pipeline_report_of_a_past_quarter_reads_the_reentered_by_their_last_entry(program, users, client, auth):
    """Who entered a stage before a closed window and again after it: read off the index of stages entered more than
    once from the window's end on, not every entry of the stage first entered before the window (166 ms at
    150,000 for a quarter of last year)."""
    auth.login(users["supervisor"])
    fetch = lambda: client.get("/reports/?date_from=2025-07-01&date_to=2025-09-30").status_code  # noqa: E731
    for plan in _plans(fetch, "FROM stage_entries", "stage_entries.entries"):
        steps = [step for step in plan.split(" | ") if "SEARCH stage_entries" in step]
        assert steps, plan
        for step in steps:
            assert "ix_stage_entries_reentered (stage=? AND last_at>?)" in step, plan


def test_a_state_beside_a_group_or_a_caseload_reads_the_narrower_index(program, users, client, auth):
    """The list of one state within a group or a caseworker's caseload walks the group's or the caseload's index in
    name order, never every person of the state (a group's three invited were found among 25,000 at 150,000)."""
    group = Group(name="Westside Crew")
    db.session.add(group)
    db.session.flush()
    program.bring_to("invited", group_id=group.id, caseworker_id=users["caseworker"].id)
    auth.login(users["caseworker"])
    for path, index in ((f"/participants/?state=invited&group_id={group.id}", "ix_participants_group_by_name"),
                        (f"/participants/?state=invited&caseworker_id={users['caseworker'].id}",
                         "ix_participants_caseworker_by_name")):
        for plan in _plans(lambda: client.get(path).status_code, "FROM participants", "LIMIT"):  # noqa: B023
            assert index in plan, (path, plan)
            assert "TEMP B-TREE" not in plan, (path, plan)


def test_the_activity_report_reads_whole_months_off_the_kept_months(program, users, client, auth):
    """Over the whole history (some 950 days of five measures at 150,000: 4,500 rows, where 1,000 people's sparse
    days were 830) the report reads the months it holds whole off the months kept, the days only of the two months
    its window cuts, and each measure's first and last day off one end of its days."""
    auth.login(users["supervisor"])
    fetch = lambda: client.get("/reports/activity?date_from=2024-03-15").status_code  # noqa: E731
    with sent() as statements:
        assert fetch() == 200
    read = [s for s, _p in statements if "activity_" in s]
    assert any("FROM activity_months" in s for s in read), read
    for plan in _plans(fetch, "FROM activity_"):
        assert "SCAN" not in plan.replace("SCAN CONSTANT ROW", ""), plan
        assert "USE TEMP B-TREE" not in plan, plan
