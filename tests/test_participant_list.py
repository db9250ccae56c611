"""Issue #10, lists: the participant list filters by caseworker, forum, supervision status and group, sorts by name,
state and last change, shows the count in each state as tabs, and keeps all of it in the URL. A role gets only the
filters on fields it sees; anything else in the URL is ignored, never applied. The statements a list costs do not
grow with the rows."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from helpers import Program, counting, text

from ceasefire.extensions import db
from ceasefire.models import Group, Organization, Participant, Service, User
from ceasefire.models.base import utcnow
from ceasefire.participants import views as participant_views


def names(html: str) -> list[str]:
    """The names the list's rows show, in order."""
    return re.findall(r'<th scope="row"><a href="/participants/\d+">([^<]+)</a>', html)


def tabs(html: str) -> dict[str, int]:
    nav = re.search(r'<nav class="tabs" aria-label="Participants by state">(.*?)</nav>', html, re.S)
    if nav is None:
        return {}
    return {label.strip(): int(n) for label, n in
            re.findall(r'>([^<>]+?) <span class="count-badge">(\d+)</span>', nav.group(1))}


@pytest.fixture
def listed(users, make_user, make_forum):
    """Five participants: two of caseworker A (one on probation, in the Hustlers, invited to the forum), two of
    caseworker B (one on parole), one of nobody's, assigned to the community group."""
    program = Program.build(users["supervisor"], users["provider"].organization)
    cw_a, cw_b = users["caseworker"], make_user("caseworker")
    hustlers, crew = Group(name="Hustlers"), Group(name="Crew")
    db.session.add_all([hustlers, crew])
    db.session.commit()
    forum = make_forum()
    with program.batch():
        ann = program.create(first_name="Ann", last_name="Able", caseworker_id=cw_a.id, group_id=hustlers.id,
                             supervision_status="probation")
        program.fire(ann, "invite", forum_id=forum.id, method="letter")
        bo = program.create(first_name="Bo", last_name="Baker", caseworker_id=cw_a.id, group_id=crew.id)
        cy = program.create(first_name="Cy", last_name="Cole", caseworker_id=cw_b.id, supervision_status="parole")
        program.fire(cy, "enforce", action_type="arrest", occurred_on=utcnow().date(),
                     agency_id=program.police_org.id)
        dee = program.create(first_name="Dee", last_name="Dunn", caseworker_id=cw_b.id, group_id=hustlers.id)
        eli = program.create(first_name="Eli", last_name="Evans", community_org_id=users["community"].organization_id)
    # the last change: Bo most recently, then Eli, Dee, Cy, Ann
    for p, days in ((bo, 1), (eli, 2), (dee, 3), (cy, 4), (ann, 5)):
        db.session.execute(sa.update(Participant).where(Participant.id == p.id)
                           .values(updated_at=utcnow() - timedelta(days=days)))
    db.session.commit()
    return {"cw_a": cw_a, "cw_b": cw_b, "hustlers": hustlers, "crew": crew, "forum": forum}


def test_filters_sort_and_tabs(listed, users, client, auth):
    auth.login(users["supervisor"])

    def get(**args) -> str:
        response = client.get("/participants/", query_string=args)
        assert response.status_code == 200
        return text(response)

    html = get()
    assert names(html) == ["Able, Ann", "Baker, Bo", "Cole, Cy", "Dunn, Dee", "Evans, Eli"]
    assert tabs(html) == {"All": 5, "Identified": 3, "Invited": 1, "Attended": 0, "Services offered": 0,
                          "Enforced": 1, "Closed": 0}
    assert names(get(caseworker_id=listed["cw_a"].id)) == ["Able, Ann", "Baker, Bo"]
    assert names(get(supervision_status="parole")) == ["Cole, Cy"]
    assert names(get(group_id=listed["hustlers"].id)) == ["Able, Ann", "Dunn, Dee"]
    assert names(get(forum_id=listed["forum"].id)) == ["Able, Ann"]
    assert names(get(sort="changed")) == ["Baker, Bo", "Evans, Eli", "Dunn, Dee", "Cole, Cy", "Able, Ann"]
    # by the pipeline's order of states, then by name
    assert names(get(sort="state")) == ["Baker, Bo", "Dunn, Dee", "Evans, Eli", "Able, Ann", "Cole, Cy"]
    # filters combine; the tabs count within the other filters, whatever the state filter
    html = get(caseworker_id=listed["cw_b"].id, state="enforced", sort="changed")
    assert names(html) == ["Cole, Cy"]
    assert tabs(html)["All"] == 2
    assert tabs(html)["Enforced"] == 1
    assert tabs(html)["Identified"] == 1
    # the tabs keep the other filters in their links: the list is bookmarkable
    assert f'href="/participants/?state=identified&amp;caseworker_id={listed["cw_b"].id}&amp;sort=changed"' in html


def test_a_filter_the_role_may_not_use_is_ignored(listed, users, client, auth):
    """A community user sees neither caseworkers, supervision nor groups: those filters are no part of the form
    and their values in the URL change nothing (the list is the same as without them)."""
    auth.login(users["community"])
    html = text(client.get("/participants/"))
    assert names(html) == ["Evans, Eli"]
    for name in ("caseworker_id", "supervision_status", "group_id"):
        assert f'name="{name}"' not in html
    response = client.get("/participants/", query_string={
        "caseworker_id": listed["cw_a"].id, "supervision_status": "parole", "group_id": listed["hustlers"].id,
    })
    assert response.status_code == 200
    assert names(text(response)) == ["Evans, Eli"]
    assert 'name="forum_id"' in html  # community users see that an assigned participant was invited


def test_a_provider_gets_neither_tabs_nor_a_state_order(listed, users, client, auth):
    auth.login(users["provider"])
    response = client.get("/participants/", query_string={"sort": "changed", "state": "enforced"})
    html = text(response)
    assert response.status_code == 422  # "changed" is no choice of theirs: the form says so and nothing is applied
    assert tabs(html) == {}
    assert 'value="changed"' not in html


def test_a_bad_filter_value_is_a_form_error_not_a_500(listed, users, client, auth):
    auth.login(users["supervisor"])
    response = client.get("/participants/", query_string={"forum_id": "nine", "sort": "shoe size"})
    assert response.status_code == 422
    assert names(text(response)) == ["Able, Ann", "Baker, Bo", "Cole, Cy", "Dunn, Dee", "Evans, Eli"]


def test_the_filtered_list_costs_the_same_at_10_and_60_rows(users, client, auth, make_forum, monkeypatch):
    monkeypatch.setattr(participant_views, "PER_PAGE", 500)
    built = Program.build(users["supervisor"], users["provider"].organization)
    group = Group(name="Hustlers")
    db.session.add(group)
    db.session.commit()
    ids = {"sup": users["supervisor"].id, "police_org": built.police_org.id, "service": built.service.id,
           "group": group.id, "forum": make_forum().id, "cw": users["caseworker"].id}
    auth.login(users["supervisor"])
    path = (f"/participants/?caseworker_id={ids['cw']}&group_id={ids['group']}&forum_id={ids['forum']}"
            "&supervision_status=probation&sort=changed")
    counts = []
    made = 0
    for size in (10, 60):
        program = Program(db.session.get(User, ids["sup"]), db.session.get(Organization, ids["police_org"]),
                          db.session.get(Service, ids["service"]))
        with program.batch():
            for i in range(made, size):
                p = program.create(first_name=f"First{i}", last_name=f"Last{i:03}", caseworker_id=ids["cw"],
                                   group_id=ids["group"], supervision_status="probation")
                program.fire(p, "invite", forum_id=ids["forum"], method="letter")
        made = size
        client.get(path)  # warm the session's once-a-minute write
        db.session.expunge_all()
        with counting() as statements:
            response = client.get(path)
        assert response.status_code == 200
        assert len(names(text(response))) == size
        assert tabs(text(response))["Invited"] == size
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
