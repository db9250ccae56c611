"""The reports of API.md (pipeline, cohorts, referral outcomes, who is identified) and their CSV and XLSX files,
over one small program's history whose every number is worked out by hand below.

The history (all in 2025, program time zone UTC; every pipeline step at 18:00 unless said otherwise):

  forums  F1 "January call-in"  2025-01-15 18:00, set held
          F2 "=SUM(1,1) August" 2025-08-31 18:00, left planned but with check-ins (so it is reported)
          F3 cancelled, F4 planned with nobody checked in (neither reported)
  A  born 2007-01-03, none      created Jan 2, invited to F1 Jan 5, attended F1 Jan 15, referred to S1 Jan 20
                                (accepted Jan 22, enrolled Feb 1, completed Jun 1), services offered Jan 21 06:00;
                                outcomes employed 2025-07-15 (last day of F1's 6 months), arrested 2026-01-15 (last
                                day of F1's 12 months), shot 2026-01-16 (the day after: out)
  B  born 2000-01-03, probation, group G   created Jan 3, invited to F1 Jan 6, no-show Jan 16, re-invited to F2
                                Aug 1, attended F2 Aug 31 (cohort F2); referred to S2 ten days ago, still sent;
                                outcomes incarcerated 2026-02-28 (last day of F2's 6 months: Aug 31 + 6 months is
                                Feb 28), arrested 2025-10-01 and 2025-11-01 (one person, counted once)
  C  no birth date, parole      created Jan 4, invited to F1 Jan 8, attended F1 Jan 15, enforced Feb 10
                                (occurred 2025-02-10), reopened Jul 1, invited to F2 Aug 2, attended F2 Aug 31:
                                two forums, counted once, in F1's cohort
  D  born 1990-02-01, probation, identified by police Feb 1, enforced Mar 1 without ever being invited
  E  born 2001-07-02, none      created Jul 1, invited to F2 Jul 11, attended F2 Aug 31; referred to S1 Sep 1,
                                declined five days later; outcome incarcerated 2026-03-01 (day after F2's 6 months)
  group G: an enforcement action on the whole group on 2025-09-15 (touches B)
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa
from api_support import assert_error
from helpers import Program, at, counting, set_history
from openpyxl import load_workbook

from ceasefire.extensions import db
from ceasefire.models import (
    AuditEvent,
    EnforcementAction,
    Forum,
    Group,
    Organization,
    Participant,
    Referral,
    Service,
)
from ceasefire.models.base import utcnow
from ceasefire.models.enums import ForumStatus, OrgKind, OutcomeType, ReferralStatus, Role
from ceasefire.services import catalog, outcomes
from ceasefire.services import referrals as referral_service
from ceasefire.services.reports import add_months


def _referral_times(referral: Referral, *moments: datetime) -> None:
    referral.sent_at = moments[0]
    for event, moment in zip(referral.events, moments, strict=True):
        event.at = moment


@dataclass
class History:
    program: Program
    forums: dict[str, Forum]
    people: dict[str, Participant]
    group: Group
    s1: Service
    s2: Service
    police_org: Organization


def build(users, make_user) -> History:
    sup, provider = users["supervisor"], users["provider"]
    p1 = provider.organization
    p1.name = "Alpha Jobs"
    p2 = Organization(name="Zion Learning", kind=OrgKind.PROVIDER)
    group = Group(name="G")
    db.session.add_all([p2, group])
    db.session.commit()
    program = Program.build(sup, p1)
    s1 = program.service
    s2 = Service(organization_id=p2.id, name="GED classes", category="education")
    db.session.add(s2)
    db.session.commit()
    forums = {
        "F1": catalog.create_forum(sup, "January call-in", at("2025-01-15")),
        "F2": catalog.create_forum(sup, "=SUM(1,1) August", at("2025-08-31")),
        "F3": catalog.create_forum(sup, "Cancelled one", at("2025-05-01")),
        "F4": catalog.create_forum(sup, "Nobody came", at("2025-06-01")),
    }
    db.session.commit()
    f1, f2 = forums["F1"].id, forums["F2"].id
    enforce = {"action_type": "arrest", "agency_id": program.police_org.id}
    with program.batch():
        a = program.create(first_name="A", date_of_birth=date(2007, 1, 3))
        program.fire(a, "invite", forum_id=f1, method="letter")
        program.fire(a, "attend")
        ref_a = program.refer(a, s1)
        program.fire(a, "offer_services")
        for status in (ReferralStatus.ACCEPTED, ReferralStatus.ENROLLED, ReferralStatus.COMPLETED):
            referral_service.set_status(provider, ref_a, status)

        b = program.create(first_name="B", date_of_birth=date(2000, 1, 3), supervision_status="probation",
                           group_id=group.id)
        program.fire(b, "invite", forum_id=f1, method="letter")
        program.fire(b, "no_show")
        program.fire(b, "invite", forum_id=f2, method="outreach")
        program.fire(b, "attend")
        ref_b = program.refer(b, s2)

        c = program.create(first_name="C", supervision_status="parole")
        program.fire(c, "invite", forum_id=f1, method="letter")
        program.fire(c, "attend")
        program.fire(c, "enforce", occurred_on=date(2025, 2, 10), **enforce)
        program.fire(c, "reopen", reason="Back in the area.")
        program.fire(c, "invite", forum_id=f2, method="letter")
        program.fire(c, "attend")

        d = program.create(users["police"], first_name="D", date_of_birth=date(1990, 2, 1),
                           supervision_status="probation", identification_basis="Named in a shooting review.")
        program.fire(d, "enforce", occurred_on=date(2025, 3, 1), **enforce)

        e = program.create(first_name="E", date_of_birth=date(2001, 7, 2))
        program.fire(e, "invite", forum_id=f2, method="custom_notification")
        program.fire(e, "attend")
        ref_e = program.refer(e, s1)
        referral_service.set_status(provider, ref_e, ReferralStatus.DECLINED, "No places left.")

        db.session.add(EnforcementAction(group_id=group.id, agency_id=program.police_org.id, action_type="arrest",
                                         occurred_on=date(2025, 9, 15)))
        for person, kind, day in [
            (a, OutcomeType.EMPLOYED, "2025-07-15"), (a, OutcomeType.ARRESTED, "2026-01-15"),
            (a, OutcomeType.SHOT, "2026-01-16"), (b, OutcomeType.INCARCERATED, "2026-02-28"),
            (b, OutcomeType.ARRESTED, "2025-10-01"), (b, OutcomeType.ARRESTED, "2025-11-01"),
            (e, OutcomeType.INCARCERATED, "2026-03-01"),
        ]:
            outcomes.record_outcome(sup, person, kind, date.fromisoformat(day))

        catalog.update_forum(sup, forums["F1"], {"status": ForumStatus.HELD})
        catalog.update_forum(sup, forums["F3"], {"status": ForumStatus.CANCELLED})

        set_history(a, at("2025-01-02"), at("2025-01-05"), at("2025-01-15"), at("2025-01-21", 6))
        _referral_times(ref_a, at("2025-01-20"), at("2025-01-22"), at("2025-02-01"), at("2025-06-01"))
        set_history(b, at("2025-01-03"), at("2025-01-06"), at("2025-01-16"), at("2025-08-01"), at("2025-08-31"))
        ten_days_ago = utcnow() - timedelta(days=10)
        _referral_times(ref_b, ten_days_ago)
        set_history(c, at("2025-01-04"), at("2025-01-08"), at("2025-01-15"), at("2025-02-10"), at("2025-07-01"),
                 at("2025-08-02"), at("2025-08-31"))
        set_history(d, at("2025-02-01"), at("2025-03-01"))
        set_history(e, at("2025-07-01"), at("2025-07-11"), at("2025-08-31"))
        _referral_times(ref_e, at("2025-09-01"), at("2025-09-06"))
    return History(program, forums, {"A": a, "B": b, "C": c, "D": d, "E": e}, group, s1, s2, program.police_org)


@pytest.fixture
def history(users, make_user) -> History:
    return build(users, make_user)


def test_add_months_keeps_the_day_or_takes_the_months_last():
    assert add_months(date(2025, 1, 15), 6) == date(2025, 7, 15)
    assert add_months(date(2025, 8, 31), 6) == date(2026, 2, 28)
    assert add_months(date(2023, 8, 31), 6) == date(2024, 2, 29)
    assert add_months(date(2025, 8, 31), 12) == date(2026, 8, 31)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)


# Pipeline


def test_pipeline_over_the_whole_history(users, api_as, history):
    status, body = api_as(users["supervisor"]).get("/reports/pipeline")
    assert status == 200, body
    # now: A services_offered; B, C, E attended; D enforced
    assert body["counts"] == {"identified": 0, "invited": 0, "attended": 3, "services_offered": 1, "enforced": 1,
                              "closed": 0}
    # identified: all five (creation); invited: A B C E (B and C twice, counted once); enforced: C, D
    assert body["funnel"] == [
        {"stage": "identified", "reached": 5}, {"stage": "invited", "reached": 4}, {"stage": "attended", "reached": 4},
        {"stage": "services_offered", "reached": 1}, {"stage": "enforced", "reached": 2},
    ]
    assert body["conversion"] == {"invited_to_attended": 4 / 4, "attended_to_services_offered": 1 / 4}
    # identified -> invited: A 3, B 3, C 4, E 10 days: median (3 + 4) / 2
    # invited -> attended (first entries): A 10, B Jan 6 -> Aug 31 = 25+28+31+30+31+30+31+31 = 237, C 7, E 51
    #   median (10 + 51) / 2 = 30.5;  attended -> services offered: A Jan 15 18:00 -> Jan 21 06:00 = 5.5
    assert body["median_days"] == {"identified_to_invited": 3.5, "invited_to_attended": 30.5,
                                   "attended_to_services_offered": 5.5}


def test_pipeline_in_a_window(users, api_as, history):
    status, body = api_as(users["caseworker"]).get("/reports/pipeline?from=2025-07-01&to=2025-08-31")
    assert status == 200, body
    # entered identified: E created, C reopened (Jul 1); invited: E Jul 11, B Aug 1, C Aug 2; attended: B C E
    assert [s["reached"] for s in body["funnel"]] == [2, 3, 3, 0, 0]
    assert body["counts"]["attended"] == 3  # counts are now, whatever the window
    assert body["conversion"] == {"invited_to_attended": 1.0, "attended_to_services_offered": 0.0}
    # first invited in the window: E alone (10 days); first attended in it: B 237, E 51 -> 144
    assert body["median_days"] == {"identified_to_invited": 10.0, "invited_to_attended": 144.0,
                                   "attended_to_services_offered": None}


def test_pipeline_by_group_and_by_forum(users, api_as, history):
    api = api_as(users["police"])
    status, body = api.get(f"/reports/pipeline?group_id={history.group.id}")
    assert status == 200, body
    assert body["counts"]["attended"] == 1
    assert [s["reached"] for s in body["funnel"]] == [1, 1, 1, 0, 0]
    assert body["median_days"] == {"identified_to_invited": 3.0, "invited_to_attended": 237.0,
                                   "attended_to_services_offered": None}
    status, body = api.get(f"/reports/pipeline?forum_id={history.forums['F2'].id}")
    # invited to F2: B, C, E; C was enforced once, so enforced is reached by 1
    assert [s["reached"] for s in body["funnel"]] == [3, 3, 3, 0, 1]
    assert body["counts"] == {"identified": 0, "invited": 0, "attended": 3, "services_offered": 0, "enforced": 0,
                              "closed": 0}


def test_pipeline_for_community_users_suppresses_small_counts(users, api_as, history):
    status, body = api_as(users["community"]).get("/reports/pipeline?from=2025-07-01&to=2025-08-31")
    assert status == 200, body
    assert body["counts"] == {"identified": 0, "invited": 0, "attended": "<5", "services_offered": "<5",
                              "enforced": "<5", "closed": 0}
    assert [s["reached"] for s in body["funnel"]] == ["<5", "<5", "<5", 0, 0]
    assert body["conversion"] == {"invited_to_attended": None, "attended_to_services_offered": None}
    status, body = api_as(users["community"]).get("/reports/pipeline")
    assert [s["reached"] for s in body["funnel"]] == [5, "<5", "<5", "<5", "<5"]


def test_community_users_may_not_filter_by_group(users, api_as, history):
    """They do not see groups (DESIGN.md §4), as the participant list's filter refuses them too."""
    status, body = api_as(users["community"]).get(f"/reports/pipeline?group_id={history.group.id}")
    assert_error(status, body, 403, "forbidden", "group_id")
    status, body = api_as(users["community"]).get(f"/reports/pipeline?forum_id={history.forums['F2'].id}")
    assert status == 200


# Cohorts

ZERO = {t.value: 0 for t in OutcomeType}


def _f1(history) -> dict:
    return {
        "forum_id": history.forums["F1"].id, "title": "January call-in", "held_on": "2025-01-15",
        "invited": 3, "attended": 2, "attendance_rate": 2 / 3,  # A B C invited; A C came
        "cohort": 2, "services_offered": 1, "referrals_accepted": 1, "referrals_completed": 1,  # A C; A
        "enforced_6m": 1, "enforced_12m": 1,  # C on 2025-02-10
        "outcomes_6m": ZERO | {"employed": 1},  # A's job on Jul 15, the window's last day
        "outcomes_12m": ZERO | {"employed": 1, "arrested": 1},  # A's arrest on 2026-01-15 in, the shooting out
    }


def _f2(history) -> dict:
    return {
        "forum_id": history.forums["F2"].id, "title": "=SUM(1,1) August", "held_on": "2025-08-31",
        "invited": 3, "attended": 3, "attendance_rate": 1.0,  # B C E
        "cohort": 2, "services_offered": 0, "referrals_accepted": 0, "referrals_completed": 0,  # B E; E declined
        "enforced_6m": 1, "enforced_12m": 1,  # the action on B's group, 2025-09-15
        "outcomes_6m": ZERO | {"arrested": 1, "incarcerated": 1},  # B twice arrested; B Feb 28 (last day)
        "outcomes_12m": ZERO | {"arrested": 1, "incarcerated": 2},  # E's of Mar 1 too
    }


def test_cohorts(users, api_as, history):
    status, body = api_as(users["supervisor"]).get("/reports/cohorts")
    assert status == 200, body
    assert body == {"items": [_f1(history), _f2(history)]}
    status, body = api_as(users["police"]).get("/reports/cohorts?from=2025-01-16")
    assert body == {"items": [_f2(history)]}
    status, body = api_as(users["caseworker"]).get("/reports/cohorts?to=2025-01-15")
    assert body == {"items": [_f1(history)]}


def test_cohorts_for_community_users(users, api_as, history):
    status, body = api_as(users["community"]).get("/reports/cohorts")
    assert status == 200, body
    f1, f2 = body["items"]
    assert f1 == _f1(history) | {
        "invited": "<5", "attended": "<5", "attendance_rate": None, "cohort": "<5", "services_offered": "<5",
        "referrals_accepted": "<5", "referrals_completed": "<5", "enforced_6m": "<5", "enforced_12m": "<5",
        "outcomes_6m": ZERO | {"employed": "<5"}, "outcomes_12m": ZERO | {"employed": "<5", "arrested": "<5"},
    }
    assert f2["services_offered"] == 0
    assert f2["outcomes_12m"]["incarcerated"] == "<5"


# Referral outcomes


def _s1(history) -> dict:
    return {
        "organization_id": history.s1.organization_id, "organization_name": "Alpha Jobs",
        "service_id": history.s1.id, "service_name": "Transitional jobs",
        "sent": 2, "accepted": 1, "declined": 1, "enrolled": 1, "completed": 1, "dropped": 0, "withdrawn": 0,
        "acceptance_rate": 0.5, "median_days_to_answer": 3.5,  # A accepted in 2 days, E declined in 5
        "waiting_over_7_days": 0, "waiting_over_14_days": 0,
    }


def _s2(history) -> dict:
    return {
        "organization_id": history.s2.organization_id, "organization_name": "Zion Learning",
        "service_id": history.s2.id, "service_name": "GED classes",
        "sent": 1, "accepted": 0, "declined": 0, "enrolled": 0, "completed": 0, "dropped": 0, "withdrawn": 0,
        "acceptance_rate": None, "median_days_to_answer": None,
        "waiting_over_7_days": 1, "waiting_over_14_days": 0,  # B's, sent ten days ago
    }


def test_referral_outcomes(users, api_as, history):
    status, body = api_as(users["supervisor"]).get("/reports/referrals")
    assert status == 200, body
    assert body == {"items": [_s1(history), _s2(history)]}
    status, body = api_as(users["caseworker"]).get("/reports/referrals?from=2025-09-01&to=2025-12-31")
    assert body == {"items": [_s1(history) | {
        "sent": 1, "accepted": 0, "enrolled": 0, "completed": 0, "acceptance_rate": 0.0, "median_days_to_answer": 5.0,
    }]}


def test_a_provider_gets_its_own_organizations_rows(users, api_as, history):
    status, body = api_as(users["provider"]).get("/reports/referrals")
    assert (status, body) == (200, {"items": [_s1(history)]})


@pytest.mark.parametrize("role", [Role.POLICE, Role.COMMUNITY, Role.ADMIN])
def test_referral_outcomes_are_not_for_police_community_or_admins(users, api_as, role):
    status, body = api_as(users[role]).get("/reports/referrals")
    assert_error(status, body, 403, "forbidden")


# Who is identified


def test_who_is_identified(users, api_as, history):
    status, body = api_as(users["police"]).get("/reports/identification")
    assert status == 200, body
    # ages at identification: A 17 (birthday the next day), B 25, C unknown, D 35, E 23 (birthday the next day)
    assert body == {
        "total": 5,
        "by_age": {"under_18": 1, "18_24": 1, "25_34": 1, "35_plus": 1, "unknown": 1},
        "by_supervision": {"none": 2, "probation": 2, "parole": 1, "pretrial": 0},
        "by_identifying_agency": [
            {"organization_id": users["police"].organization_id, "name": users["police"].organization.name,
             "count": 1},
            {"organization_id": None, "name": None, "count": 4},
        ],
    }
    status, body = api_as(users["supervisor"]).get("/reports/identification?from=2025-02-01&to=2025-07-01")
    assert (body["total"], body["by_age"]["35_plus"], body["by_age"]["18_24"]) == (2, 1, 1)  # D and E
    status, body = api_as(users["community"]).get("/reports/identification")
    assert body["total"] == 5
    assert body["by_supervision"] == {"none": "<5", "probation": "<5", "parole": "<5", "pretrial": 0}
    assert [row["count"] for row in body["by_identifying_agency"]] == ["<5", "<5"]


# Who may ask, and bad filters


@pytest.mark.parametrize("report", ["pipeline", "cohorts", "identification"])
@pytest.mark.parametrize("role", [Role.PROVIDER, Role.ADMIN])
def test_providers_and_admins_get_no_program_report(users, api_as, report, role):
    status, body = api_as(users[role]).get(f"/reports/{report}")
    assert_error(status, body, 403, "forbidden")


@pytest.mark.parametrize("report", ["pipeline", "cohorts", "referrals", "identification"])
@pytest.mark.parametrize(("query", "field"), [
    ("from=2025-13-01", "from"), ("to=yesterday", "to"), ("from=2025-1-1", "from"), ("format=pdf", "format"),
])
def test_a_malformed_date_or_format_is_422(users, api_as, report, query, field):
    status, body = api_as(users["supervisor"]).get(f"/reports/{report}?{query}")
    assert_error(status, body, 422, "validation_failed", field)


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])
@pytest.mark.parametrize("report", ["pipeline", "cohorts", "referrals", "identification"])
def test_the_first_and_last_days_there_are_leave_the_window_open(users, api_as, make_app, history, zone, report):
    """Midnight of 0001-01-01 at UTC+14, or after 9999-12-31 at UTC-11, is no time UTC can hold: an open end."""
    headers = api_as(users["supervisor"]).headers
    client = make_app(TIMEZONE=zone).test_client()
    whole = client.get(f"/api/v1/reports/{report}", headers=headers)
    edges = client.get(f"/api/v1/reports/{report}?from=0001-01-01&to=9999-12-31", headers=headers)
    assert (whole.status_code, edges.status_code) == (200, 200)
    assert edges.get_json() == whole.get_json()


# Exports


def _export_rows() -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "export")))


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def _sheet_rows(sheet) -> list[list]:
    """Each row's values, without the empty cells a sheet pads short rows with."""
    rows = []
    for row in sheet.iter_rows(values_only=True):
        values = list(row)
        while values and values[-1] is None:
            values.pop()
        rows.append(values)
    return rows


def _download(client, token_api, path):
    return client.get("/api/v1" + path, headers=token_api.headers)


def test_cohorts_as_csv(users, api_as, client, history):
    api = api_as(users["supervisor"])
    response = _download(client, api, "/reports/cohorts?from=2025-01-01&to=2025-12-31&format=csv")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="cohorts_from-2025-01-01_to-2025-12-31.csv"'
    )
    assert response.mimetype == "text/csv"
    lines = _csv(response)
    assert lines[0] == ["filters", "from=2025-01-01", "to=2025-12-31"]
    header = lines[1]
    assert header[:6] == ["forum_id", "title", "held_on", "invited", "attended", "attendance_rate"]
    assert "outcomes_6m.shot" in header
    assert "outcomes_12m.enrolled_education" in header
    f1, f2 = (dict(zip(header, line, strict=True)) for line in lines[2:])
    assert f1["title"] == "January call-in"
    assert f2["title"] == "'=SUM(1,1) August"  # a spreadsheet would run it: written as text
    for cells, expected in ((f1, _f1(history)), (f2, _f2(history))):
        assert cells["cohort"] == str(expected["cohort"])
        assert cells["outcomes_12m.incarcerated"] == str(expected["outcomes_12m"]["incarcerated"])
        assert float(cells["attendance_rate"]) == pytest.approx(expected["attendance_rate"])
    [row] = _export_rows()
    assert (row.user_id, row.object_type) == (users["supervisor"].id, "report")
    assert row.detail == "cohorts.csv from=2025-01-01 to=2025-12-31"


def test_cohorts_as_xlsx_hold_the_same_numbers_as_the_json(users, api_as, client, history):
    api = api_as(users["caseworker"])
    _status, body = api.get("/reports/cohorts")
    response = _download(client, api, "/reports/cohorts?format=xlsx")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="cohorts.xlsx"'
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = _sheet_rows(sheet)
    assert rows[0] == ["filters"]
    header = rows[1]
    for line, item in zip(rows[2:], body["items"], strict=True):
        cells = dict(zip(header, line, strict=True))
        for key, value in item.items():
            if isinstance(value, dict):
                for inner, n in value.items():
                    assert cells[f"{key}.{inner}"] == n
            else:
                assert cells[key] == value, key
    title = next(row for row in sheet.iter_rows() if row[1].value == "=SUM(1,1) August")[1]
    assert title.data_type == "s"  # a string cell, not a formula


def test_pipeline_as_measure_value_lines(users, api_as, client, history):
    api = api_as(users["community"])
    _status, body = api.get("/reports/pipeline?from=2025-07-01&to=2025-08-31")
    response = _download(client, api, "/reports/pipeline?from=2025-07-01&to=2025-08-31&format=csv")
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="pipeline_from-2025-07-01_to-2025-08-31.csv"'
    )
    lines = _csv(response)
    assert lines[:2] == [["filters", "from=2025-07-01", "to=2025-08-31"], ["measure", "value"]]
    measures = dict(lines[2:])
    assert measures["counts.attended"] == "<5" == body["counts"]["attended"]
    assert measures["funnel.invited"] == "<5"
    assert measures["funnel.services_offered"] == "0"
    assert measures["conversion.invited_to_attended"] == ""
    assert measures["median_days.invited_to_attended"] == "144.0"
    assert len(_export_rows()) == 1


def test_identification_as_xlsx(users, api_as, client, history):
    api = api_as(users["supervisor"])
    response = _download(client, api, "/reports/identification?format=xlsx&from=2025-01-01")
    assert response.headers["Content-Disposition"] == 'attachment; filename="identification_from-2025-01-01.xlsx"'
    rows = _sheet_rows(load_workbook(io.BytesIO(response.get_data())).active)
    assert rows[:2] == [["filters", "from=2025-01-01"], ["measure", "value"]]
    measures = dict(rows[2:])
    assert measures["total"] == 5
    assert measures["by_age.under_18"] == 1
    assert measures["by_supervision.probation"] == 2
    assert measures[f"by_identifying_agency.{users['police'].organization.name}"] == 1
    assert measures["by_identifying_agency.none"] == 4


def test_pipeline_export_with_group_and_forum_filters_is_named_after_them(users, api_as, client, history):
    api = api_as(users["supervisor"])
    gid, fid = history.group.id, history.forums["F2"].id
    response = _download(client, api, f"/reports/pipeline?forum_id={fid}&group_id={gid}&format=csv")
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="pipeline_group_id-{gid}_forum_id-{fid}.csv"'
    )
    assert _csv(response)[0] == ["filters", f"group_id={gid}", f"forum_id={fid}"]


# The number of statements does not grow with the data


def _grow(program: Program, users, n: int) -> None:
    """n more people through the pipeline: invited to a forum, checked in, referred, some with outcomes."""
    forum = catalog.create_forum(program.supervisor, f"Forum for {n}", at("2025-03-01"))
    with program.batch():
        for i in range(n):
            p = program.create(first_name=f"P{i}", date_of_birth=date(2000, 1, 1 + i % 28))
            program.fire(p, "invite", forum_id=forum.id, method="letter")
            program.fire(p, "attend")
            program.refer(p)
            outcomes.record_outcome(program.supervisor, p, OutcomeType.EMPLOYED, date(2025, 4, 1))
        catalog.update_forum(program.supervisor, forum, {"status": ForumStatus.HELD})


def _statements(client, api, path: str) -> int:
    with counting() as seen:
        response = _download(client, api, path)
    assert response.status_code == 200, response.get_json()
    return len(seen)


REPORT_PATHS = ["/reports/pipeline", "/reports/pipeline?from=2025-01-01&to=2030-12-31", "/reports/cohorts",
                "/reports/referrals", "/reports/identification",
                "/reports/cohorts?format=xlsx"]


def test_each_report_runs_as_many_statements_for_5_as_for_50_people(users, api_as, client, make_user):
    program = Program.build(users["supervisor"], users["provider"].organization)
    api = api_as(users["supervisor"])
    _grow(program, users, 5)
    assert api.get("/forums")[0] == 200  # the token's last use is written once a minute: not what is counted here
    small = {path: _statements(client, api, path) for path in REPORT_PATHS}
    _grow(program, users, 45)
    large = {path: _statements(client, api, path) for path in REPORT_PATHS}
    assert small == large
    assert all(n <= 12 for n in large.values()), large
