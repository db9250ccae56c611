"""The report charts: SVG drawn on the server, served as images of their own under a narrow policy (the pages' own
Content-Security-Policy stays as it is), readable without colour, under the same access rules as their pages."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

import pytest
import sqlalchemy as sa
from helpers import Program

from ceasefire.extensions import db
from ceasefire.models import Invitation, StatusChange
from ceasefire.models.enums import ForumStatus, Role
from ceasefire.services import catalog

CHARTS = ["/reports/pipeline.svg", "/reports/pipeline-days.svg", "/reports/cohorts.svg",
          "/reports/activity.svg?measure=invitations"]


@pytest.fixture
def held_forum(users):
    """Two people checked in at a forum of March 2025, one more invited who did not come (as test_report_pages)."""
    program = Program.build(users["supervisor"])
    forum = catalog.create_forum(users["supervisor"], "Spring call-in", datetime(2025, 3, 12, 18, tzinfo=UTC))
    with program.batch():
        for name, came in (("Ann", True), ("Bo", True), ("Cy", False)):
            p = program.create(first_name=name)
            program.fire(p, "invite", forum_id=forum.id, method="letter")
            program.fire(p, "attend" if came else "no_show")
        catalog.update_forum(users["supervisor"], forum, {"status": ForumStatus.HELD})
        db.session.execute(sa.update(StatusChange).values(at=datetime(2025, 3, 1, 12, tzinfo=UTC)))
        db.session.execute(sa.update(Invitation).values(delivered_at=datetime(2025, 2, 20, 12, tzinfo=UTC)))
    return forum


def _root(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - the app's own answer, not untrusted input


def _texts(svg: str) -> list[str]:
    root = _root(svg)
    return [node.text for node in root.iter() if node.tag.endswith("text") and node.text]


def _values(svg: str) -> list[str]:
    """The numbers printed on the bars, in the order of the bars."""
    root = _root(svg)
    return [node.text for node in root.iter() if node.tag.endswith("text") and "value" in (node.get("class") or "")]


def _style_hashes(svg: str) -> set[str]:
    root = _root(svg)
    return {
        "'sha256-" + base64.b64encode(hashlib.sha256((node.text or "").encode()).digest()).decode() + "'"
        for node in root.iter() if node.tag.endswith("style")
    }


def test_the_pipeline_chart_is_an_svg_image_with_its_own_narrow_policy(client, auth, users, held_forum):
    auth.login(users["supervisor"])
    response = client.get("/reports/pipeline.svg?date_from=2025-01-01&date_to=2025-12-31")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    svg = response.get_data(as_text=True)
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp
    assert "script-src 'none'" in csp
    assert "'unsafe-inline'" not in csp
    hashes = _style_hashes(svg)
    assert len(hashes) == 1
    assert f"style-src {hashes.pop()};" in csp  # its one <style> element, by hash, and nothing else
    assert "<script" not in svg
    assert ' style="' not in svg  # a style attribute would need 'unsafe-hashes'
    texts = _texts(svg)
    # each bar is named and carries its number as text: 3 identified, 3 invited, 2 attended, 0, 0
    for stage in ("identified", "invited", "attended", "services offered", "enforced"):
        assert stage in texts
    assert _values(svg) == ["3", "3", "2", "0", "0"]


def test_the_pages_show_the_charts_as_images_and_keep_their_policy(client, auth, users, held_forum):
    auth.login(users["supervisor"])
    page = client.get("/reports/?date_from=2025-01-01")
    html = page.get_data(as_text=True)
    assert '<img class="chart" src="/reports/pipeline.svg?date_from=2025-01-01"' in html
    assert "script-src 'self'; style-src 'self'" in page.headers["Content-Security-Policy"]
    assert '<img class="chart" src="/reports/cohorts.svg"' in client.get("/reports/cohorts").get_data(as_text=True)
    html = client.get("/reports/activity?date_from=2025-02-01&date_to=2025-03-31").get_data(as_text=True)
    srcs = re.findall(r'<img class="chart" src="([^"]+)"', html)
    assert len(srcs) == 5  # one chart for each column of the table
    assert all(client.get(src.replace("&amp;", "&")).status_code == 200 for src in srcs)


def test_a_reports_links_carry_its_filters_alone(client, auth, users):
    """A key of the URL that is no filter of the page (a chart's `measure` typed on the page, a stray one) is left out
    of its links: the activity page answered 500 when its chart links got `measure` twice."""
    auth.login(users["supervisor"])
    response = client.get("/reports/activity?date_from=2025-02-01&measure=referrals&stray=1")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    srcs = re.findall(r'<img class="chart" src="([^"]+)"', html)
    assert len(srcs) == 5
    assert len(set(srcs)) == 5  # each chart its own measure
    assert all("date_from=2025-02-01" in src for src in srcs)
    assert "stray" not in html
    assert 'href="/reports/cohorts?format=csv&amp;date_from=2025-02-01"' in client.get(
        "/reports/cohorts?date_from=2025-02-01&stray=1").get_data(as_text=True)


def test_the_cohort_and_activity_charts_hold_the_tables_numbers(client, auth, users, held_forum):
    auth.login(users["caseworker"])
    texts = _texts(client.get("/reports/cohorts.svg").get_data(as_text=True))
    assert "Spring call-in (2025-03-12): cohort" in texts
    svg = client.get("/reports/activity.svg?measure=invitations&date_from=2025-02-01&date_to=2025-03-31")
    texts = _texts(svg.get_data(as_text=True))
    assert [t for t in texts if t in ("2025-02", "2025-03")] == ["2025-02", "2025-03"]
    assert _values(svg.get_data(as_text=True)) == ["3", "0"]  # the three invitations of February


def test_community_users_see_small_counts_as_no_bar_but_a_label(client, auth, users, held_forum):
    auth.login(users["community"])
    svg = client.get("/reports/pipeline.svg").get_data(as_text=True)
    assert "attended (<5)" in _texts(svg)
    assert _values(svg) == ["0", "0"]  # services offered and enforced; the three others are "<5": no bar


def test_an_unknown_measure_or_a_malformed_date_is_422(client, auth, users):
    auth.login(users["supervisor"])
    assert client.get("/reports/activity.svg?measure=bullets").status_code == 422
    assert client.get("/reports/activity.svg").status_code == 422
    assert client.get("/reports/cohorts.svg?date_from=2025-13-01").status_code == 422


CHART_ROLES = {
    "/reports/pipeline.svg": {Role.CASEWORKER, Role.POLICE, Role.COMMUNITY, Role.SUPERVISOR},
    "/reports/pipeline-days.svg": {Role.CASEWORKER, Role.POLICE, Role.COMMUNITY, Role.SUPERVISOR},
    "/reports/cohorts.svg": {Role.CASEWORKER, Role.POLICE, Role.COMMUNITY, Role.SUPERVISOR},
    "/reports/activity.svg?measure=invitations": {Role.CASEWORKER, Role.POLICE, Role.COMMUNITY, Role.SUPERVISOR},
}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("path", CHARTS)
def test_chart_policy(client, auth, users, role, path):
    auth.login(users[role])
    assert client.get(path).status_code == (200 if role in CHART_ROLES[path] else 403)


@pytest.mark.parametrize("path", CHARTS)
def test_charts_need_a_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_the_cohort_chart_draws_the_periods_latest_forums_and_says_so(client, auth, users, held_forum, monkeypatch):
    """A program's whole history holds thousands of forums: the chart draws the latest few, the table has them all."""
    from ceasefire.reports import charts

    monkeypatch.setattr(charts, "CHART_FORUMS", 1)
    sup = users["supervisor"]
    later = catalog.create_forum(sup, "Autumn call-in", datetime(2025, 10, 8, 18, tzinfo=UTC))
    program = Program.build(sup)
    with program.batch():
        p = program.create(first_name="Di")
        program.fire(p, "invite", forum_id=later.id, method="letter")
        program.fire(p, "attend")
        catalog.update_forum(sup, later, {"status": ForumStatus.HELD})
    auth.login(sup)
    texts = " ".join(_texts(client.get("/reports/cohorts.svg").get_data(as_text=True)))
    assert "Autumn call-in (2025-10-08): cohort" in texts
    assert "Spring call-in" not in texts
    assert "the latest 1 forums of 2; every one is in the table" in texts
    page = client.get("/reports/cohorts").get_data(as_text=True)
    assert "Spring call-in" in page
    assert "Autumn call-in" in page
