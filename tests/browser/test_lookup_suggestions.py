"""Issue #12 in Chromium: in a program too large for a select, the group field of a new participant suggests names as
the user types (static/js/lookup.js, from /lookup/group), and the name chosen saves that group. Without the script
the same form resolves typed names on the server (tests/test_lookups.py)."""

from __future__ import annotations

import sqlalchemy as sa
from helpers import grow_staff

from ceasefire.extensions import db
from ceasefire.models import Group, Participant
from ceasefire.services import lookup


def _westside_twins() -> list[Group]:
    """A program too large for a select, with two groups whose names start alike."""
    grow_staff(lookup.THRESHOLD + 5)
    twins = [Group(name="Westside Crew", area="West"), Group(name="Westside Crew Juniors", area="West")]
    db.session.add_all(twins)
    db.session.commit()
    return twins


def _choose_group(page, name: str) -> None:
    """Type the start of the twins' names in the Group box, wait for both suggestions, and choose `name` as choosing
    a suggestion puts it in the field."""
    group = page.get_by_label("Group", exact=True)
    group.press_sequentially("westsi", delay=30)
    page.locator("#group_id-suggestions option").nth(1).wait_for(state="attached")
    group.fill(name)


def test_a_typed_group_name_is_suggested_and_saved(users, live_server, page, sign_in, settle, assert_accessible):
    wanted = _westside_twins()[1].id
    sign_in(page, users["caseworker"])
    page.goto(f"{live_server}/participants/new")
    page.get_by_label("First name").fill("Marcus")
    page.get_by_label("Last name").fill("Bell")
    group = page.get_by_label("Group", exact=True)
    group.press_sequentially("westsi", delay=30)
    options = page.locator("#group_id-suggestions option")
    options.nth(1).wait_for(state="attached")
    assert options.evaluate_all("os => os.map(o => o.value)") == [
        "Westside Crew (West)", "Westside Crew Juniors (West)"]
    group.fill("Westside Crew Juniors (West)")  # as choosing the suggestion puts it in the field
    assert page.locator("input[name=group_id-pick]").input_value() == str(wanted)
    assert_accessible(page)
    page.get_by_role("button", name="Add participant").click()
    page.wait_for_load_state()
    settle()
    assert "Marcus Bell added." in page.content()
    assert db.session.scalar(sa.select(Participant.group_id).where(Participant.last_name == "Bell")) == wanted


def test_the_list_filters_by_a_typed_group(users, live_server, page, sign_in, settle, assert_accessible,
                                           make_participant):
    """The participant list of a large program: the group filter is a text box with suggestions; a name two groups
    start with lists both as links to the list filtered by each."""
    twins = _westside_twins()
    make_participant(users["supervisor"], last_name="Bell", group_id=twins[1].id)
    make_participant(users["supervisor"], last_name="Cole", group_id=twins[0].id)
    sign_in(page, users["caseworker"])
    page.goto(f"{live_server}/participants/")
    _choose_group(page, "Westside Crew Juniors (West)")
    assert page.locator("input[name=group-pick]").input_value() == str(twins[1].id)
    assert_accessible(page)
    page.get_by_role("button", name="Search").click()
    page.wait_for_load_state()
    settle()
    listed = page.get_by_role("region", name="Participants table").locator("tbody th[scope=row]")
    assert listed.all_inner_texts() == ["Bell, Test"]
    assert page.get_by_label("Group", exact=True).input_value() == "Westside Crew Juniors (West)"
    page.goto(f"{live_server}/participants/?group=westside")
    assert "No group is named “westside”" in page.content()
    assert_accessible(page)
    page.get_by_role("link", name="Westside Crew (West)", exact=True).click()
    page.wait_for_load_state()
    settle()
    assert listed.all_inner_texts() == ["Cole, Test"]


def test_the_pipeline_report_filters_by_a_typed_group(users, live_server, page, sign_in, settle, assert_accessible,
                                                      make_participant):
    """The pipeline report of a large program: any group is chosen by typing its name (the select listed the first
    100), and the report, its charts and its downloads are that group's."""
    twins = _westside_twins()
    make_participant(users["supervisor"], last_name="Bell", group_id=twins[1].id)
    make_participant(users["supervisor"], last_name="Cole", group_id=twins[0].id)
    make_participant(users["supervisor"], last_name="Dunn", group_id=twins[0].id)
    sign_in(page, users["supervisor"])
    page.goto(f"{live_server}/reports/")
    _choose_group(page, "Westside Crew (West)")
    assert page.locator("input[name=group-pick]").input_value() == str(twins[0].id)
    assert_accessible(page)
    page.get_by_role("button", name="Show").click()
    page.wait_for_load_state()
    settle()
    assert page.get_by_label("Group", exact=True).input_value() == "Westside Crew (West)"
    now = page.locator("h2:has-text('Participants by state now') + table tbody td").first
    assert now.inner_text() == "2"  # identified: Cole and Dunn, not Bell
    chart = page.locator("img.chart").first
    assert f"group_id={twins[0].id}" in (chart.get_attribute("src") or "")
    assert chart.evaluate("img => img.complete && img.naturalWidth > 0")
    assert f"group_id={twins[0].id}" in (page.get_by_role("link", name="Download CSV").get_attribute("href") or "")
