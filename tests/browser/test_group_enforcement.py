"""Issue #9's journey: police record enforcement against a street group from the browser, touching two of its
members; a member who cannot be enforced is named first and nothing is written. axe-core checks every page."""

from __future__ import annotations

import sqlalchemy as sa

from ceasefire.extensions import db
from ceasefire.models import EnforcementAction, GroupEnforcement, Participant
from ceasefire.models.enums import State
from ceasefire.services import catalog, events


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_police_record_enforcement_on_a_group_touching_two_members(
    page, live_server, sign_in, settle, users, make_participant, assert_accessible
):
    police, sup = users["police"], users["supervisor"]
    group = catalog.create_group(police, {"name": "Four Corner Hustlers", "aliases": "4CH", "area": "West Humboldt"})
    db.session.commit()
    marcus, darnell, andre, kevin = (
        make_participant(police, first_name=first, last_name=last, group_id=group.id)
        for first, last in (("Marcus", "Bell"), ("Darnell", "Hayes"), ("Andre", "Jones"), ("Kevin", "King"))
    )
    events.perform(sup, kevin, kevin.version, "close", {"reason": "moved"})
    db.session.commit()
    ids = {p.last_name: p.id for p in (marcus, darnell, andre, kevin)}

    sign_in(page, police)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Groups").click()
    page.wait_for_load_state()
    assert_accessible(page)
    page.get_by_role("link", name="Four Corner Hustlers").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Members").is_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Record enforcement against the group…").click()
    page.wait_for_load_state()
    assert_accessible(page)
    # First with a closed member among those chosen: refused, naming him, and nothing is written.
    page.get_by_label("Marcus Bell — Identified").check()
    page.get_by_label("Kevin King — Closed").check()
    page.get_by_label("Action", exact=True).select_option("arrest")
    page.get_by_label("Incident or report number").fill("RD-2026-0451")
    page.get_by_label("Description").fill("Group shooting on 16th Street.")
    page.get_by_role("button", name="Record enforcement", exact=True).click()
    page.wait_for_load_state()
    assert "Kevin King (closed)" in page.get_by_role("alert").inner_text()
    assert_accessible(page)
    settle()
    assert (_count(GroupEnforcement), _count(EnforcementAction)) == (0, 0)

    # Then the two members the action touched.
    page.get_by_label("Kevin King — Closed").uncheck()
    assert page.get_by_label("Marcus Bell — Identified").is_checked()
    page.get_by_label("Darnell Hayes — Identified").check()
    page.get_by_role("button", name="Record enforcement", exact=True).click()
    page.wait_for_load_state()
    assert "/groups/" in page.url
    assert "recorded for 2 members" in page.get_by_role("status").inner_text()
    history = page.locator("section", has=page.get_by_role("heading", name="Enforcement history"))
    touched = history.get_by_role("row").nth(1)
    assert "RD-2026-0451" in touched.inner_text()
    assert [link.inner_text() for link in touched.get_by_role("link").all()] == ["Marcus Bell", "Darnell Hayes"]
    assert_accessible(page)

    settle()
    states = dict(db.session.execute(sa.select(Participant.last_name, Participant.state)).all())
    assert states == {"Bell": State.ENFORCED, "Hayes": State.ENFORCED, "Jones": State.IDENTIFIED,
                      "King": State.CLOSED}
    linked = db.session.scalars(sa.select(EnforcementAction.participant_id).order_by(EnforcementAction.participant_id))
    assert list(linked) == sorted([ids["Bell"], ids["Hayes"]])

    # The participant page shows the action; a member already enforced can carry a further one.
    page.get_by_role("link", name="Marcus Bell").first.click()
    page.wait_for_load_state()
    assert "RD-2026-0451" in page.locator("section", has=page.get_by_role("heading", name="Enforcement")).first \
        .inner_text()
    page.get_by_role("link", name="Record a further enforcement action…").click()
    page.wait_for_load_state()
    assert_accessible(page)
