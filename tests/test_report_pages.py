"""The report pages: the pipeline and the forum cohorts as tables, filtered, with downloads, through the same policy
as the API (community users' small counts suppressed, providers and admins refused)."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from html import unescape as html_unescape

import pytest
import sqlalchemy as sa
from helpers import Program, counting

from ceasefire.extensions import db
from ceasefire.models import AuditEvent, StatusChange, User
from ceasefire.models.enums import ForumStatus
from ceasefire.services import catalog


def _flat(html: str) -> str:
    return re.sub(r">\s+<", "><", html)


@pytest.fixture
def held_forum(users):
    """Two people checked in at a forum of March 2025 (the cohort of 2), one more invited who did not come."""
    program = Program.build(users["supervisor"])
    forum = catalog.create_forum(users["supervisor"], "Spring call-in",
                                 datetime(2025, 3, 12, 18, tzinfo=UTC))
    with program.batch():
        for name, came in (("Ann", True), ("Bo", True), ("Cy", False)):
            p = program.create(first_name=name)
            program.fire(p, "invite", forum_id=forum.id, method="letter")
            program.fire(p, "attend" if came else "no_show")
        catalog.update_forum(users["supervisor"], forum, {"status": ForumStatus.HELD})
        db.session.execute(sa.update(StatusChange).values(at=datetime(2025, 3, 1, 12, tzinfo=UTC)))
    return forum


def test_the_pipeline_page_shows_the_numbers_and_offers_downloads(client, auth, users, held_forum):
    auth.login(users["supervisor"])
    page = client.get("/reports/?date_from=2025-01-01&date_to=2025-12-31")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Pipeline report" in html
    assert '<th scope="row">invited</th><td>3</td>' in html
    assert '<th scope="row">attended</th><td>2</td>' in html
    assert "67%" in html  # 2 of 3 invited came
    link = html_unescape(re.search(r'href="([^"]*format=csv[^"]*)"', html).group(1))
    download = client.get(link)  # the page's own link, filters kept
    assert download.status_code == 200
    assert download.headers["Content-Disposition"] == (
        'attachment; filename="pipeline_from-2025-01-01_to-2025-12-31.csv"'
    )
    measures = dict(list(csv.reader(io.StringIO(download.get_data(as_text=True))))[2:])
    assert (measures["funnel.invited"], measures["funnel.attended"]) == ("3", "2")
    row = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "export")).one()
    assert row.face == "web"


def test_the_cohort_page(client, auth, users, held_forum):
    auth.login(users["caseworker"])
    html = _flat(client.get("/reports/cohorts").get_data(as_text=True))
    assert f'href="/forums/{held_forum.id}">Spring call-in</a>' in html
    assert "<td>2025-03-12</td><td>3</td><td>2</td>" in html
    response = client.get("/reports/cohorts?format=xlsx")
    assert response.headers["Content-Disposition"] == 'attachment; filename="cohorts.xlsx"'


def test_community_users_see_small_counts_suppressed(client, auth, users, held_forum):
    auth.login(users["community"])
    html = _flat(client.get("/reports/cohorts").get_data(as_text=True))
    assert "<td>2025-03-12</td><td>&lt;5</td><td>&lt;5</td><td>—</td>" in html
    html = client.get("/reports/").get_data(as_text=True)
    assert 'name="group_id"' not in html  # they do not see groups


@pytest.mark.parametrize("role", ["provider", "admin"])
def test_providers_and_admins_get_no_report_page(client, auth, users, role):
    auth.login(users[role])
    for path in ("/reports/", "/reports/cohorts", "/reports/?format=csv"):
        assert client.get(path).status_code == 403
    profile = client.get("/profile").get_data(as_text=True)
    assert 'href="/reports/"' not in profile
    assert ('href="/reports/referrals"' in profile) == (role == "provider")  # their own referral statistics


def test_a_malformed_date_is_said_beside_the_field(client, auth, users):
    auth.login(users["supervisor"])
    response = client.get("/reports/?date_from=2025-13-01")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in html
    assert "Download CSV" not in html
    assert client.get("/reports/?format=pdf").status_code == 422


@pytest.mark.parametrize("path", ["/reports/", "/reports/cohorts", "/reports/referrals", "/reports/identification",
                                  "/reports/groups", "/reports/activity",
                                  "/reports/funder?date_from=2025-01-01&date_to=2025-12-31"])
def test_an_unknown_format_is_refused_before_the_report_is_counted(client, auth, users, path):
    auth.login(users["supervisor"])
    client.get("/reports/")  # the session settled
    with counting() as statements:
        response = client.get(path + ("&" if "?" in path else "?") + "format=pdf")
    assert response.status_code == 422
    assert "csv or xlsx" in response.get_data(as_text=True)
    counted = [s for s in statements if re.search(r"\b(stage_|cohort_|referral|invitations|activity_|"
                                                   r"identification|outreach|custom_notifications)", s)]
    assert counted == []


def _offered(html: str, name: str) -> list[int]:
    select = re.search(rf'<select[^>]*name="{name}".*?</select>', html, re.S)
    assert select is not None, name
    return [int(i) for i in re.findall(r'<option[^>]*value="(\d+)"', select.group(0))]


def _funnel(response) -> dict[str, str]:
    """The pipeline page's stages reached in the period, as it shows them."""
    html = _flat(response.get_data(as_text=True))
    table = html.split("Stages reached in the period", 1)[1].split("</table>", 1)[0]
    return dict(re.findall(r'<tr><th scope="row">([^<]+)</th><td>([^<]+)</td></tr>', table))


def test_the_pipeline_filters_are_selects_in_a_small_program(client, auth, users, held_forum):
    sup = users["supervisor"]
    crew = catalog.create_group(sup, {"name": "Zulu Crew"})
    db.session.commit()
    auth.login(sup)
    html = client.get("/reports/").get_data(as_text=True)
    assert crew.id in _offered(html, "group_id")
    assert held_forum.id in _offered(html, "forum_id")
    assert "lookup.js" not in html
    auth.logout()
    auth.login(users["community"])
    html = client.get("/reports/").get_data(as_text=True)
    assert 'name="group_id"' not in html  # community users see no group
    assert held_forum.id in _offered(html, "forum_id")


def test_a_large_programs_pipeline_is_filtered_by_any_group_or_forum_typed_by_name(
    client, auth, users, held_forum, monkeypatch
):
    """Beyond lookup.THRESHOLD rows (a statewide program has some 50,000 groups and 40,000 forums) the filters are
    text boxes, as the participant list's: any group or forum is chosen by its name, not only the first hundred a
    select could list; the report, its charts and its files are of the row the name was resolved to, and a name
    that fits none is said on the page, with no report counted."""
    from ceasefire.services import lookup

    monkeypatch.setattr(lookup, "THRESHOLD", 0)
    sup = users["supervisor"]
    crew = catalog.create_group(sup, {"name": "Zulu Crew"})
    autumn = catalog.create_forum(sup, "Autumn call-in", datetime(2025, 3, 20, 18, tzinfo=UTC))
    program = Program.build(sup)
    with program.batch():
        dee = program.create(first_name="Dee", group_id=crew.id)
        program.fire(dee, "invite", forum_id=autumn.id, method="letter")
    auth.login(sup)
    html = client.get("/reports/").get_data(as_text=True)
    assert re.search(r'<input type="text" [^>]*id="group_id" name="group" value="" autocomplete="off" '
                     r'data-lookup="/lookup/group"', html)
    assert re.search(r'<input type="text" [^>]*id="forum_id" name="forum" value=""', html)
    assert "<option" not in html
    assert 'src="/static/js/lookup.js"' in html
    assert _funnel(client.get("/reports/"))["invited"] == "4"

    by_name = client.get("/reports/", query_string={"forum": "Spring call-in"})
    assert by_name.status_code == 200
    html = by_name.get_data(as_text=True)
    assert f'<input type="hidden" name="forum_id" value="{held_forum.id}">' in html
    assert f'src="/reports/pipeline.svg?forum_id={held_forum.id}"' in html
    assert f'href="/reports/?format=csv&amp;forum_id={held_forum.id}"' in html
    assert _funnel(by_name) == _funnel(client.get(f"/reports/?forum_id={held_forum.id}"))
    assert _funnel(by_name)["invited"] == "3"

    by_group = client.get("/reports/", query_string={"group": "zulu crew"})
    assert _funnel(by_group)["invited"] == "1"
    assert 'value="Zulu Crew"' in client.get(f"/reports/?group_id={crew.id}").get_data(as_text=True)

    unknown = client.get("/reports/", query_string={"group": "Nobody Atall"})
    html = unknown.get_data(as_text=True)
    assert "No group is named “Nobody Atall”, and no name starts so: check the spelling." in html
    assert "Stages reached in the period" not in html
    assert client.get("/reports/pipeline.svg", query_string={"group": "Nobody Atall"}).status_code == 422
    assert client.get("/reports/", query_string={"forum_id": 424242}).get_data(as_text=True).count(
        "There is no such forum") == 1


def _cohort_rows(html: str) -> list[list[str]]:
    """The cohort table's rows: the forum's id, then its cells."""
    rows = re.findall(r'<tr><th scope="row"><a href="/forums/(\d+)">[^<]*</a></th>(.*?)</tr>', _flat(html))
    return [[fid, *re.findall(r"<td>(.*?)</td>", cells)] for fid, cells in rows]


def _api_cells(item: dict) -> list[str]:
    rate = item["attendance_rate"]
    return [str(item["forum_id"]), item["held_on"], str(item["invited"]), str(item["attended"]),
            "%.0f%%" % (rate * 100) if rate is not None else "—",
            *(str(item[key]) for key in ("cohort", "services_offered", "referrals_accepted", "referrals_completed",
                                         "enforced_6m", "enforced_12m")),
            *(", ".join(f"{kind.replace('_', ' ')} {n}" for kind, n in item[key].items() if n != 0) or "—"
              for key in ("outcomes_6m", "outcomes_12m"))]


def _more_held_forums(supervisor, *days: int) -> None:
    for day in days:
        forum = catalog.create_forum(supervisor, f"Forum of April {day}", datetime(2025, 4, day, 18, tzinfo=UTC))
        catalog.update_forum(supervisor, forum, {"status": ForumStatus.HELD})
    db.session.commit()


def test_the_cohort_page_shows_a_page_of_forums_with_the_apis_numbers(client, auth, users, api_as, held_forum,
                                                                      monkeypatch):
    from ceasefire.reports import views

    monkeypatch.setattr(views, "PER_PAGE", 2)
    _more_held_forums(users["supervisor"], 20, 5)
    status, body = api_as(users["supervisor"]).get("/reports/cohorts?from=2025-01-01")
    assert status == 200
    assert len(body["items"]) == 3
    auth.login(users["supervisor"])
    first = client.get("/reports/cohorts?date_from=2025-01-01").get_data(as_text=True)
    second = client.get("/reports/cohorts?date_from=2025-01-01&page=2").get_data(as_text=True)
    assert "3 forums in this period, oldest first, 2 a page" in first
    assert "Page 1 of 2" in first
    assert html_unescape('href="/reports/cohorts?page=2&amp;date_from=2025-01-01"') in html_unescape(first)
    assert "Page 2 of 2" in second
    # the pages together are the API's rows, in its order (the spring forum's cohort of 2 first)
    assert _cohort_rows(first) + _cohort_rows(second) == [_api_cells(item) for item in body["items"]]
    assert _cohort_rows(first)[0][1:6] == ["2025-03-12", "3", "2", "67%", "2"]
    # past the last page: the last page; the downloads keep every row and no page
    assert _cohort_rows(client.get("/reports/cohorts?date_from=2025-01-01&page=9").get_data(as_text=True)) \
        == _cohort_rows(second)
    link = html_unescape(re.search(r'href="([^"]*format=csv[^"]*)"', second).group(1))
    assert "page" not in link
    lines = list(csv.reader(io.StringIO(client.get(link).get_data(as_text=True))))
    assert [line[0] for line in lines[2:]] == [str(item["forum_id"]) for item in body["items"]]


def test_the_cohort_page_runs_as_many_statements_for_3_forums_as_for_9(client, auth, users, held_forum,
                                                                      monkeypatch):
    from helpers import counting

    from ceasefire.reports import views

    monkeypatch.setattr(views, "PER_PAGE", 2)
    auth.login(users["supervisor"])
    _more_held_forums(users["supervisor"], 20, 5)
    seen = []
    supervisor_id = users["supervisor"].id
    for more in ((), (1, 2, 3, 4, 6, 7)):
        _more_held_forums(db.session.get(User, supervisor_id), *more)
        assert client.get("/reports/cohorts").status_code == 200  # the session's own writes are not counted here
        db.session.expunge_all()  # the test's objects (the signed-in user) loaded alike each time
        with counting() as statements:
            assert client.get("/reports/cohorts?page=2").status_code == 200
        seen.append(list(statements))
    assert len(seen[0]) == len(seen[1])


@pytest.mark.parametrize("kept", [True, False], ids=["days kept", "days not kept"])
def test_the_cohort_page_and_chart_count_the_forums_the_api_lists(client, auth, users, api_as, held_forum,
                                                                 monkeypatch, kept):
    """The count of a period's forums (read off the activity report's days of forums held when they are kept, else
    counted) is the number of the API's rows: held forums, and forums not cancelled with a check-in; never a
    cancelled one, nor one planned with nobody checked in. The chart draws the latest of them."""
    from ceasefire.models import ActivityDay
    from ceasefire.reports import charts

    monkeypatch.setattr(charts, "CHART_FORUMS", 1)
    sup = users["supervisor"]
    _more_held_forums(sup, 5)  # held, nobody checked in
    cancelled = catalog.create_forum(sup, "Cancelled", datetime(2025, 4, 20, 18, tzinfo=UTC))
    catalog.update_forum(sup, cancelled, {"status": ForumStatus.CANCELLED})
    catalog.create_forum(sup, "Planned", datetime(2025, 5, 2, 18, tzinfo=UTC))
    program = Program.build(sup)
    today = program.forum()  # planned, with a check-in: listed
    with program.batch():
        p = program.create(first_name="Di")
        program.fire(p, "invite", forum_id=today.id, method="letter")
        program.fire(p, "attend")
    if not kept:
        db.session.execute(sa.delete(ActivityDay).where(ActivityDay.measure.like("@%")))
    db.session.commit()
    auth.login(sup)
    for query in ("", "?from=2025-04-01", "?to=2025-03-31", "?from=2025-03-12&to=2025-03-12",
                  "?from=2025-03-13&to=2025-04-04", "?from=2025-04-21", "?to=2025-06-30"):
        status, body = api_as(sup).get("/reports/cohorts" + query)
        assert status == 200
        n = len(body["items"])
        args = query.replace("from=", "date_from=").replace("to=", "date_to=")
        page = client.get("/reports/cohorts" + args).get_data(as_text=True)
        assert f'{n} forum{"" if n == 1 else "s"} in this period' in page, query
        chart = client.get("/reports/cohorts.svg" + args).get_data(as_text=True)
        assert (f"the latest 1 forums of {n};" in chart) == (n > 1), query
        # the chart draws the latest forum listed (past the planned one of May 2)
        drawn = {f"{item['title']} ({item['held_on']}): cohort" for item in body["items"] if item["title"] in chart}
        assert drawn == ({f"{body['items'][-1]['title']} ({body['items'][-1]['held_on']}): cohort"} if n else set())
