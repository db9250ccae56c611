"""The reports with a row a street group or a service show a page at a time; their files and the API hold every row,
and the pages' rows are those rows, in the same order. A page runs as many statements whatever the number of
groups or services (the measures are counted for the page's groups or services alone)."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
import sqlalchemy as sa
from helpers import counting
from test_program_reports import at, build

from ceasefire.extensions import db
from ceasefire.models import (
    Group,
    Referral,
    Service,
    ServiceReferralCount,
    ServiceReferralMonth,
    TableCount,
    counts,
)
from ceasefire.models.enums import ReferralStatus
from ceasefire.reports import views
from ceasefire.services import referrals as referral_service


@pytest.fixture
def world(users):
    return build(users)


@pytest.fixture
def two_a_page(monkeypatch):
    monkeypatch.setattr(views, "PER_PAGE", 2)


def _rows(html: str) -> list[str]:
    """The table's row headers (a group's or a service's name), in order."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'<th scope="row">([^<]*)</th>', body)


def _file_rows(response, column: str) -> list[str]:
    lines = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    return [dict(zip(lines[1], line, strict=True))[column] for line in lines[2:]]


def test_the_groups_report_pages_through_every_group(client, auth, users, world, two_a_page):
    auth.login(users["police"])
    first = client.get("/reports/groups?date_from=2025-01-01")
    html = first.get_data(as_text=True)
    assert _rows(html) == ["North", "South"]
    assert "3 groups; the downloads hold every row." in html
    assert "Page 1 of 2" in html
    assert 'href="/reports/groups?page=2&amp;date_from=2025-01-01"' in html
    second = client.get("/reports/groups?date_from=2025-01-01&page=2").get_data(as_text=True)
    assert _rows(second) == ["West"]
    assert '<th scope="row">West</th><td>0</td><td>0</td><td>0</td><td>0</td><td>no call-in yet</td>' in re.sub(
        r">\s+<", "><", second)
    # past the end: the last page; the file holds every group, whatever page the link came from
    assert _rows(client.get("/reports/groups?page=9").get_data(as_text=True)) == ["West"]
    assert _file_rows(client.get("/reports/groups?format=csv&page=2"), "name") == ["North", "South", "West"]


@pytest.mark.parametrize("window", ["", "?date_from=2025-04-01&date_to=2025-12-31"])
def test_each_page_of_groups_holds_the_files_rows(client, auth, users, world, two_a_page, window):
    """Every measure of a page's row is the file's (all groups counted together) for that group."""
    auth.login(users["supervisor"])
    joiner = "&" if window else "?"
    lines = list(csv.reader(io.StringIO(client.get(f"/reports/groups{window}{joiner}format=csv")
                                        .get_data(as_text=True))))
    whole = [dict(zip(lines[1], line, strict=True)) for line in lines[2:]]
    shown = []
    for page in (1, 2):
        html = re.sub(r">\s+<", "><", client.get(f"/reports/groups{window}{joiner}page={page}").get_data(as_text=True))
        body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
        shown += re.findall(r'<tr><th scope="row">([^<]*)</th><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td>'
                            r'<td>(\d+)</td><td>([^<]*)</td>', body)
    assert shown == [
        (r["name"], r["identified"], r["called_in"], r["attended"], r["enforcement_actions"],
         r["first_call_in"] or "no call-in yet")
        for r in whole
    ]


def _more_services(program) -> dict[str, Service]:
    """Three more services of the program's provider, and every service by name."""
    for name in ("Anger management", "Welding course", "Unused course"):
        db.session.add(Service(organization_id=program.service.organization_id, name=name, category="employment"))
    db.session.commit()
    return {s.name: s for s in db.session.scalars(sa.select(Service))}


def test_the_referral_report_pages_through_the_services_with_referrals(client, auth, users, world, api_as,
                                                                         two_a_page):
    program = world.program
    # two more services with a referral each (C's and A's again), one without any: it has no row
    services = _more_services(program)
    with program.batch():
        program.refer(world.people["C"], services["Anger management"])
        program.refer(world.people["A"], services["Welding course"])
    _status, report = api_as(users["caseworker"]).get("/reports/referrals")
    assert [r["service_name"] for r in report["items"]] == ["Anger management", "Transitional jobs", "Welding course"]
    auth.login(users["caseworker"])
    first = client.get("/reports/referrals").get_data(as_text=True)
    second = client.get("/reports/referrals?page=2").get_data(as_text=True)
    assert _rows(first) == ["Anger management", "Transitional jobs"]
    assert _rows(second) == ["Welding course"]
    assert "3 services; the downloads hold every row." in first
    # each row's numbers are the API's
    for html, items in ((first, report["items"][:2]), (second, report["items"][2:])):
        flat = re.sub(r">\s+<", "><", html)
        for item in items:
            cells = "".join(f"<td>{item[k]}</td>" for k in ("sent", "accepted", "declined", "enrolled", "completed",
                                                             "dropped", "withdrawn"))
            assert f'<th scope="row">{item["service_name"]}</th>{cells}' in flat
    assert _file_rows(client.get("/reports/referrals?format=csv"), "service_name") == [
        "Anger management", "Transitional jobs", "Welding course"]
    # a window leaves out the services with no referral sent in it
    html = client.get("/reports/referrals?date_from=2025-06-01&date_to=2025-06-30").get_data(as_text=True)
    assert _rows(html) == ["Transitional jobs"]
    assert "1 service; the downloads hold every row." in html


def _kept_and_counted() -> tuple[dict[int, tuple], dict[int, tuple]]:
    """Each service's kept count, first and last moments and months, and the same counted off its referrals."""
    kept = {k: tuple(v) for k, *v in db.session.execute(
        sa.select(ServiceReferralCount.service_id, ServiceReferralCount.referrals, ServiceReferralCount.first_sent_at,
                  ServiceReferralCount.last_sent_at).where(ServiceReferralCount.referrals != 0)).all()}
    for month, service_id, n in db.session.execute(sa.select(
            ServiceReferralMonth.month, ServiceReferralMonth.service_id, ServiceReferralMonth.referrals)
            .where(ServiceReferralMonth.referrals != 0)):
        kept[(month, service_id)] = (n,)
    counted = {k: tuple(v) for k, *v in db.session.execute(
        sa.select(Referral.service_id, sa.func.count(Referral.id), sa.func.min(Referral.sent_at),
                  sa.func.max(Referral.sent_at)).group_by(Referral.service_id)).all()}
    for r in db.session.scalars(sa.select(Referral)):
        key = (date(r.sent_at.year, r.sent_at.month, 1), r.service_id)
        counted[key] = (counted.get(key, (0,))[0] + 1,)
    return kept, counted


# the whole history; from, up to and between days; between days with no referral (the services' first before and
# last after: each is probed); a day; months wholly inside a window, and parts of others
WINDOWS = ["", "date_from=2025-06-01", "date_to=2025-06-30", "date_from=2025-06-01&date_to=2025-06-30",
           "date_from=2025-03-01&date_to=2025-03-31", "date_from=2025-05-20&date_to=2025-05-20",
           "date_from=2025-02-15&date_to=2025-07-10", "date_from=2025-06-11&date_to=2025-11-30"]


def test_the_services_of_a_window_are_counted_off_rows_kept_with_each_referral(client, auth, users, world,
                                                                              two_a_page):
    """The page counts the services with a referral sent in its window off rows kept a service and a month (between
    two days, probing the referrals of those it cannot tell); the rows follow every referral sent, moved to another
    service or another moment, or deleted, and a load around the ORM once counted again; not kept, the page probes
    every service and shows the same, in every window."""
    program = world.program
    services = _more_services(program)
    with program.batch():
        program.refer(world.people["C"], services["Anger management"])
        moved = program.refer(world.people["A"], services["Anger management"])
        gone = program.refer(world.people["B"], services["Unused course"])
    kept, counted = _kept_and_counted()
    assert kept == counted
    assert counted[services["Anger management"].id][0] == 2
    moved.service_id = services["Welding course"].id
    db.session.delete(db.session.get(Referral, gone.id))
    db.session.commit()
    kept, counted = _kept_and_counted()
    assert kept == counted
    assert services["Unused course"].id not in kept
    assert counts.table_rows(db.session, Referral) == sum(v[0] for k, v in counted.items() if isinstance(k, int))
    db.session.execute(sa.update(Referral).where(Referral.id == moved.id).values(sent_at=at("2025-06-10")))
    with program.batch():  # Anger management's first, in a month only part of which is in a window below
        early = program.refer(world.people["B"], services["Anger management"])
    db.session.execute(sa.update(Referral).where(Referral.id == early.id).values(sent_at=at("2025-02-10")))
    db.session.commit()
    kept, counted = _kept_and_counted()
    assert kept == counted
    assert counted[services["Welding course"].id][1] == at("2025-06-10")

    auth.login(users["supervisor"])
    client.get("/reports/referrals")  # the session's once-a-minute write is not what is counted here

    def shown(window: str) -> tuple[list[str], str, list[str]]:
        with counting() as seen:
            pages = [client.get(f"/reports/referrals?{window}&page={n}").get_data(as_text=True) for n in (1, 2)]
        total = re.search(r"(\d+) services?; the downloads hold every row.", pages[0])
        return [row for html in pages for row in _rows(html)], total and total.group(1), seen

    def kept(seen: list[str]) -> bool:
        """Whether the page counted its services off the kept rows (not by probing every service)."""
        return any("count(" in s and "FROM service_referral_counts" in s for s in seen)

    found = {}
    for window in WINDOWS:
        rows, total, seen = shown(window)
        found[window] = rows, total
        assert kept(seen), (window, seen)
    assert found[""] == (["Anger management", "Transitional jobs", "Welding course"], "3")
    # the test's own referrals are sent today, the world's in 2025; the one moved to June 2025 is Welding course's,
    # the one moved to February Anger management's
    assert {window: total for window, (_rows, total) in found.items()} == dict(zip(WINDOWS, "33321020", strict=True))
    assert found["date_to=2025-06-30"][0][:3] == ["Anger management", "Transitional jobs", "Welding course"]
    db.session.execute(sa.delete(TableCount).where(TableCount.table_name == "referrals"))
    db.session.commit()
    for window in WINDOWS:  # not kept: probed, the same
        rows, total, seen = shown(window)
        assert (rows, total) == found[window], window
        assert not kept(seen)

    with program.batch():
        extra = program.refer(world.people["D"], services["Unused course"])
    db.session.execute(sa.insert(Referral), [{
        "participant_id": extra.participant_id, "service_id": services["Unused course"].id, "status": "sent",
        "sent_at": at("2025-03-15"), "updated_at": at("2025-03-15")}])
    db.session.commit()
    counts.refresh(db.session)
    db.session.commit()
    kept, counted = _kept_and_counted()
    assert kept == counted
    assert counted[services["Unused course"].id][0] == 2
    assert counts.table_rows(db.session, Referral) == sum(v[0] for k, v in counted.items() if isinstance(k, int))
    rows, total, _seen = shown("")
    assert (rows, total) == (["Anger management", "Transitional jobs", "Unused course", "Welding course"], "4")
    rows, total, _seen = shown("date_from=2025-03-01&date_to=2025-03-31")  # the load's referral is in March
    assert (rows[:2], total) == (["Transitional jobs", "Unused course"], "2")


def _statements(client, path: str) -> int:
    with counting() as seen:
        response = client.get(path)
    assert response.status_code == 200
    return len(seen)


def test_a_page_of_groups_or_services_runs_as_many_statements_for_3_as_for_40(client, auth, users, world,
                                                                            two_a_page):
    program = world.program
    auth.login(users["supervisor"])
    paths = ["/reports/groups", "/reports/groups?page=2", "/reports/referrals",
             "/reports/referrals?date_from=2025-01-01&page=2"]
    client.get("/reports/groups")  # the session's once-a-minute write is not what is counted here
    small = {path: _statements(client, path) for path in paths}

    def grow(n: int) -> None:
        for i in range(n):
            group = Group(name=f"Zone {i}")  # after North, South and West: the same first page
            service = Service(organization_id=program.service.organization_id, name=f"Grown {i}",
                              category="employment")
            db.session.add_all([group, service])
            db.session.flush()
            with program.batch():
                person = program.create(first_name=f"G{i}", group_id=group.id)
                # answered: each service on a page has a median to find, as on the small program's pages
                referral_service.set_status(users["provider"], program.refer(person, service),
                                            ReferralStatus.ACCEPTED)

    grow(40)
    db.session.commit()
    large = {path: _statements(client, path) for path in paths}
    assert small == large

