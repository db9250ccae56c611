"""Issue #8's "done when", in the browser: a supervisor answers "how did the January call-in cohort do at 12 months"
and "which provider leaves referrals waiting" from the report pages, downloads each table, and the page, the file
and the API hold the same numbers. The program is tests/test_reports.py's, every number worked out by hand there.
axe-core checks every page."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook
from test_reports import build

REFERRAL_COLUMNS = {"sent": "Sent", "accepted": "Accepted", "declined": "Declined",
                    "waiting_over_7_days": "Waiting over 7 days", "waiting_over_14_days": "Waiting over 14 days"}


def _cells(row) -> list[str]:
    return [cell.strip() for cell in row.locator("th, td").all_text_contents()]


def _show(page, date_from: str, date_to: str) -> None:
    """The report's window typed into its form and shown."""
    page.get_by_label("From").fill(date_from)
    page.get_by_label("To").fill(date_to)
    page.get_by_role("button", name="Show").click()
    page.wait_for_load_state()


def test_a_supervisor_reads_a_cohort_at_12_months_and_the_waiting_referrals(
    page, live_server, sign_in, users, make_user, api_as, assert_accessible, tmp_path
):
    build(users, make_user)
    supervisor = users["supervisor"]
    sign_in(page, supervisor)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Pipeline").is_visible()
    assert "do not by themselves show its effect" in page.content()
    assert_accessible(page)

    # How did the January call-in cohort do at 12 months?
    page.get_by_role("navigation", name="Reports").get_by_role("link", name="Forum cohorts").click()
    page.wait_for_load_state()
    _show(page, "2025-01-01", "2025-03-31")
    assert_accessible(page)
    rows = page.get_by_role("row").filter(has_text="January call-in")
    assert rows.count() == 1
    cells = _cells(rows.first)
    header = _cells(page.get_by_role("row").first)
    shown = dict(zip(header, cells, strict=True))
    # A and C came to their first forum here: two in the cohort; C enforced in February; A employed in July and
    # arrested on the last day of the 12 months (the shooting the day after is outside).
    assert (shown["Held on"], shown["Invited"], shown["Attended"], shown["Cohort"]) == ("2025-01-15", "3", "2", "2")
    assert (shown["Enforced 6m"], shown["Enforced 12m"]) == ("1", "1")
    assert sorted(shown["Outcomes 12m"].split(", ")) == ["arrested 1", "employed 1"]
    assert page.get_by_role("img", name="Bar chart of each forum's cohort").is_visible()

    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    assert download.value.suggested_filename == "cohorts_from-2025-01-01_to-2025-03-31.csv"
    path = tmp_path / "cohorts.csv"
    download.value.save_as(path)
    lines = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert lines[0] == ["filters", "from=2025-01-01", "to=2025-03-31"]
    filed = dict(zip(lines[1], lines[2], strict=True))
    assert len(lines) == 3  # the F2 cohort of August is outside the window
    status, answer = api_as(supervisor).get("/reports/cohorts?from=2025-01-01&to=2025-03-31")
    assert status == 200, answer
    [item] = answer["items"]
    columns = {"invited": "Invited", "attended": "Attended", "cohort": "Cohort", "enforced_6m": "Enforced 6m",
               "enforced_12m": "Enforced 12m"}
    for name, column in columns.items():
        assert filed[name] == shown[column] == str(item[name])
    for kind, n in item["outcomes_12m"].items():
        assert filed[f"outcomes_12m.{kind}"] == str(n)
    assert (item["outcomes_12m"]["employed"], item["outcomes_12m"]["arrested"], item["outcomes_12m"]["shot"]) == (
        1, 1, 0)

    # Which provider leaves referrals waiting?
    page.get_by_role("navigation", name="Reports").get_by_role("link", name="Referral outcomes").click()
    page.wait_for_load_state()
    assert_accessible(page)
    header = _cells(page.get_by_role("row").first)
    shown = {_cells(row)[0]: dict(zip(header, _cells(row), strict=True))
             for row in page.get_by_role("row").all()[1:]}
    assert set(shown) == {"Alpha Jobs", "Zion Learning"}
    # B's referral to Zion Learning's GED classes was sent ten days ago and is still unanswered.
    assert (shown["Zion Learning"]["Service"], shown["Zion Learning"]["Waiting over 7 days"],
            shown["Zion Learning"]["Waiting over 14 days"]) == ("GED classes", "1", "0")
    assert shown["Alpha Jobs"]["Waiting over 7 days"] == "0"

    with page.expect_download() as download:
        page.get_by_role("link", name="Download XLSX").click()
    assert download.value.suggested_filename == "referrals.xlsx"
    path = tmp_path / "referrals.xlsx"
    download.value.save_as(path)
    sheet = load_workbook(path, read_only=True).active
    lines = [list(row) for row in sheet.iter_rows(values_only=True)]
    fields = lines[1]
    filed = {row[fields.index("organization_name")]: dict(zip(fields, row, strict=True)) for row in lines[2:]}
    status, answer = api_as(supervisor).get("/reports/referrals")
    assert status == 200, answer
    for item in answer["items"]:
        row = filed[item["organization_name"]]
        for name in REFERRAL_COLUMNS:
            assert row[name] == item[name]
            assert shown[item["organization_name"]][REFERRAL_COLUMNS[name]] == str(item[name])


def test_every_report_page_is_accessible_with_its_numbers_and_chart(
    page, live_server, sign_in, users, make_user, assert_accessible
):
    build(users, make_user)
    sign_in(page, users["supervisor"])
    page.goto(f"{live_server}/reports/")
    reports = page.get_by_role("navigation", name="Reports").get_by_role("link")
    labels = reports.all_text_contents()
    assert len(labels) == 7, labels
    for label in labels:
        page.get_by_role("navigation", name="Reports").get_by_role("link", name=label, exact=True).click()
        page.wait_for_load_state()
        if page.get_by_label("From").count():
            _show(page, "2025-01-01", "2025-12-31")
        assert page.get_by_role("heading", level=1).text_content().strip(), label
        assert "do not by themselves show its effect" in page.content(), label
        assert_accessible(page)
        for chart in page.locator("img.chart").all():
            assert chart.evaluate("img => img.complete && img.naturalWidth > 0"), (label, chart.get_attribute("src"))


def test_a_supervisor_reads_who_reached_each_stage_in_a_summer(page, live_server, sign_in, users, make_user,
                                                               assert_accessible):
    """The pipeline over July and August 2025, read off the kept days of stage entries (models.stage_days): the
    numbers tests/test_reports.py works out by hand, C's second identification (reopened on 1 July) counted in."""
    build(users, make_user)
    sign_in(page, users["supervisor"])
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
    page.wait_for_load_state()
    _show(page, "2025-07-01", "2025-08-31")
    assert_accessible(page)
    reached = page.get_by_role("table").filter(has=page.get_by_role("columnheader", name="Participants"))
    assert [_cells(row) for row in reached.get_by_role("row").all()[1:]] == [
        ["identified", "2"], ["invited", "3"], ["attended", "3"], ["services offered", "0"], ["enforced", "0"]]
    steps = page.get_by_role("table").filter(has=page.get_by_role("columnheader", name="Median days"))
    days = {row[0]: row for row in map(_cells, steps.get_by_role("row").all()[1:])}
    assert days["identified to invited"][2] == "10.0"
    assert days["invited to attended"][1:3] == ["100%", "144.0"]
    assert days["attended to services offered"][2] == "—"
