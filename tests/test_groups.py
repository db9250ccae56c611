"""Street groups and group enforcement (issue #9), through the pages as people use them: the group list and page by
role, creating and editing groups, one enforcement action against a whole group (each member touched gets their own
action and the enforce event, all or none), a further action on someone already enforced, and the incident or
description every enforcement form asks for."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa
from api_support import records
from helpers import counting, csrf_token_of, snapshot, text

from ceasefire.errors import Forbidden, ValidationFailed
from ceasefire.extensions import db
from ceasefire.models import (
    AuditEvent,
    EnforcementAction,
    Group,
    GroupEnforcement,
    Invitation,
    Participant,
    StatusChange,
    User,
)
from ceasefire.models.base import today
from ceasefire.models.enums import Role, State
from ceasefire.services import catalog, events
from ceasefire.services import groups as group_service

INCIDENT_NEEDED = "Give the incident or report number, or describe what happened."


def section(html: str, heading_id: str) -> str:
    """The <section> a heading labels, or "" when the page has none."""
    match = re.search(rf'<section[^>]*aria-labelledby="{heading_id}".*?</section>', html, re.S)
    return match.group(0) if match else ""


def reload(participant: Participant) -> Participant:
    db.session.expire_all()
    return db.session.get(Participant, participant.id)


def fire(actor: User, participant: Participant, name: str, **data) -> None:
    events.perform(actor, participant, participant.version, name, data)
    db.session.commit()


def history(participant: Participant) -> list[str]:
    return list(db.session.scalars(
        sa.select(StatusChange.event).where(StatusChange.participant_id == participant.id).order_by(StatusChange.id)
    ))


def actions_of(participant: Participant) -> list[EnforcementAction]:
    db.session.expire_all()
    return list(db.session.scalars(
        sa.select(EnforcementAction).where(EnforcementAction.participant_id == participant.id)
        .order_by(EnforcementAction.id)
    ))


@dataclass
class Gang:
    group: Group
    other_group: Group
    marcus: Participant  # identified
    darnell: Participant  # invited to a forum
    tyrone: Participant  # already enforced (a warrant, RD-100)
    andre: Participant  # identified, never chosen
    kevin: Participant  # closed
    outsider: Participant  # a member of the other group


@pytest.fixture
def gang(users, make_participant, make_forum) -> Gang:
    police, sup = users["police"], users["supervisor"]
    group = catalog.create_group(police, {"name": "Four Corner Hustlers", "aliases": "4CH", "area": "West Humboldt"})
    other = catalog.create_group(police, {"name": "Black P Stones", "aliases": None, "area": "Englewood"})
    db.session.commit()

    def member(first: str, last: str, group_id: int = group.id) -> Participant:
        return make_participant(police, first_name=first, last_name=last, group_id=group_id,
                                community_org_id=users["community"].organization_id)

    marcus, darnell, tyrone = member("Marcus", "Bell"), member("Darnell", "Hayes"), member("Tyrone", "Irving")
    andre, kevin, outsider = member("Andre", "Jones"), member("Kevin", "King"), member("Leon", "Lowe", other.id)
    fire(sup, darnell, "invite", forum_id=make_forum().id, method="letter")
    fire(police, tyrone, "enforce", action_type="warrant", occurred_on=today() - timedelta(days=30),
         incident_ref="RD-100", description="Warrant served at home.")
    fire(sup, kevin, "close", reason="moved")
    return Gang(group, other, marcus, darnell, tyrone, andre, kevin, outsider)


def _enforce_form(gang: Gang, *members: Participant, **extra) -> dict:
    return {
        "members": [str(p.id) for p in members], "action_type": "arrest", "occurred_on": today().isoformat(),
        "agency_id": "", "incident_ref": "RD-2026-0451", "description": "Group shooting on 16th Street.",
    } | extra


# Who may open which page: every route of the group pages and the further-enforcement page, for all six roles.

VIEWERS = {"caseworker", "police", "supervisor"}
EDITORS = {"police", "supervisor"}
ROLES = [role.value for role in Role]


def _group_routes(app) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/groups") or rule.endpoint == "participants.add_enforcement":
            found |= {(method, rule.rule) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return found


# (method, rule) -> (roles allowed, the status they get). A role that never sees groups gets 403 whatever the id;
# the others 403 when their role may not do it. The further-enforcement page is about the participant: a provider,
# who does not see them, is told they do not exist; a community user, who does, is refused.
PAGE_MATRIX = {
    ("GET", "/groups/"): (VIEWERS, 200),
    ("GET", "/groups/new"): (EDITORS, 200),
    ("POST", "/groups/new"): (EDITORS, 422),
    ("GET", "/groups/<int:group_id>"): (VIEWERS, 200),
    ("GET", "/groups/<int:group_id>/edit"): (EDITORS, 200),
    ("POST", "/groups/<int:group_id>/edit"): (EDITORS, 422),
    ("GET", "/groups/<int:group_id>/enforcement"): (EDITORS, 200),
    ("POST", "/groups/<int:group_id>/enforcement"): (EDITORS, 422),
    ("GET", "/participants/<int:participant_id>/enforcement"): (EDITORS, 200),
    ("POST", "/participants/<int:participant_id>/enforcement"): (EDITORS, 422),
}


def test_every_group_route_is_in_the_matrix(app):
    assert _group_routes(app) == set(PAGE_MATRIX)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "rule"), sorted(PAGE_MATRIX))
def test_group_routes_by_role(client, auth, users, gang, method, rule, role):
    allowed, success = PAGE_MATRIX[(method, rule)]
    auth.login(users[role])
    path = rule.replace("<int:group_id>", str(gang.group.id)).replace("<int:participant_id>", str(gang.tyrone.id))
    before = records()
    response = client.open(path, method=method, data={})  # an empty form: refused by the form, never written
    if role in allowed:
        expected = success
    elif "participant_id" in rule and role == "provider":
        expected = 404
    else:
        expected = 403
    assert response.status_code == expected, text(response)
    assert records() == before


@pytest.mark.parametrize("role", ROLES)
def test_a_group_that_does_not_exist(client, auth, users, role):
    auth.login(users[role])
    for path in ("/groups/987654", "/groups/987654/edit", "/groups/987654/enforcement"):
        expected = 404 if role in VIEWERS else 403
        assert client.get(path).status_code == expected, (role, path)


# What each role sees


def test_police_and_supervisors_see_the_whole_group(client, auth, users, gang):
    for role in ("police", "supervisor"):
        auth.login(users[role])
        listing = text(client.get("/groups/"))
        row = re.search(rf'<tr>\s*<th scope="row"><a href="/groups/{gang.group.id}">Four Corner Hustlers</a></th>'
                        r"(.*?)</tr>", listing, re.S)
        assert row, listing
        assert [c.strip() for c in re.findall(r"<td>(.*?)</td>", row.group(1))] == ["4CH", "West Humboldt", "5"]
        page = text(client.get(f"/groups/{gang.group.id}"))
        details = section(page, "details-h")
        assert "4CH" in details
        assert "West Humboldt" in details
        members = section(page, "members-h")
        names = re.findall(r'<a href="/participants/\d+">([^<]+)</a>', members)
        assert names == ["Marcus Bell", "Darnell Hayes", "Tyrone Irving", "Andre Jones", "Kevin King"]
        assert "Leon Lowe" not in page
        tyrone = re.search(r"Tyrone Irving</a></th>(.*?)</tr>", members, re.S).group(1)
        assert "Enforced" in tyrone
        assert f"{(today() - timedelta(days=30)).isoformat()} · Warrant" in tyrone
        marcus = re.search(r"Marcus Bell</a></th>(.*?)</tr>", members, re.S).group(1)
        assert "Identified" in marcus
        assert "None" in marcus
        assert "No enforcement recorded against this group." in section(page, "history-h")
        auth.logout()


def test_caseworkers_see_the_name_alone(client, auth, users, gang):
    group_service.enforce_group(users["police"], gang.group, [gang.marcus.id], "arrest", today(), None,
                                "Shots fired.", "RD-555")
    db.session.commit()
    auth.login(users["caseworker"])
    listing = text(client.get("/groups/"))
    assert "Four Corner Hustlers" in listing
    for hidden in ("4CH", "West Humboldt", "Members", "New group"):
        assert hidden not in listing, hidden
    page = text(client.get(f"/groups/{gang.group.id}"))
    assert "<h1>Four Corner Hustlers</h1>" in page
    for hidden in ("4CH", "West Humboldt", "Marcus", "Tyrone", "RD-555", "Shots fired", "Arrest", "RD-100",
                   "members-h", "history-h", "/edit", "/enforcement"):
        assert hidden not in page, hidden
    # The enforcement itself: on the participant's page a caseworker learns that it happened and when, nothing more.
    person = text(client.get(f"/participants/{gang.marcus.id}"))
    enforcement = section(person, "enforcement-h")
    assert today().isoformat() in enforcement
    for hidden in ("RD-555", "Shots fired", "further enforcement"):
        assert hidden not in person, hidden
    assert "Arrest" not in enforcement  # the page's outcome form offers "Arrested": the action's type is what is hidden


def test_the_navigation_links_the_groups_for_those_who_see_them(client, auth, users):
    for role in ROLES:
        auth.login(users[role])
        page = text(client.get("/profile"))
        assert ('href="/groups/"' in page) is (role in VIEWERS), role
        auth.logout()


def test_group_pages_render_without_inline_script_or_style(client, auth, users, gang):
    auth.login(users["supervisor"])
    for path in ("/groups/", "/groups/new", f"/groups/{gang.group.id}", f"/groups/{gang.group.id}/edit",
                 f"/groups/{gang.group.id}/enforcement", f"/participants/{gang.tyrone.id}/enforcement"):
        html = text(client.get(path))
        assert "style=" not in html, path
        assert "<script" not in html, path


# Creating and editing groups


def test_police_create_and_edit_a_group(client, auth, users):
    auth.login(users["police"])
    response = client.post("/groups/new", data={"name": " Gangster Disciples ", "aliases": "GDs", "area": ""})
    assert response.status_code == 302, text(response)
    group = db.session.scalar(sa.select(Group).where(Group.name == "Gangster Disciples"))
    assert (group.aliases, group.area) == ("GDs", None)
    assert response.headers["Location"].endswith(f"/groups/{group.id}")

    again = client.post("/groups/new", data={"name": "gangster disciples"})
    assert again.status_code == 422
    assert "A group with this name exists." in text(again)
    assert db.session.scalar(sa.select(sa.func.count(Group.id))) == 1

    form = text(client.get(f"/groups/{group.id}/edit"))
    assert 'value="Gangster Disciples"' in form
    response = client.post(f"/groups/{group.id}/edit", data={"name": "Gangster Disciples", "aliases": "GDs, BGDs",
                                                             "area": "Roseland"})
    assert response.status_code == 302, text(response)
    db.session.expire_all()
    group = db.session.get(Group, group.id)
    assert (group.aliases, group.area) == ("GDs, BGDs", "Roseland")
    audit = db.session.execute(
        sa.select(AuditEvent.action, AuditEvent.detail)
        .where(AuditEvent.object_type == "group", AuditEvent.object_id == group.id).order_by(AuditEvent.id)
    ).all()
    assert [tuple(a) for a in audit] == [("create", None), ("update", "aliases, area")]


def test_a_group_keeps_a_name_of_its_own(client, auth, users, gang):
    auth.login(users["supervisor"])
    before = records()
    for name in ("", "   ", "black p stones"):
        response = client.post(f"/groups/{gang.group.id}/edit", data={"name": name, "aliases": "x"})
        assert response.status_code == 422, name
    assert "A group with this name exists." in text(response)
    assert records() == before
    response = client.post(f"/groups/{gang.group.id}/edit", data={"name": "four corner hustlers", "aliases": "4CH"})
    assert response.status_code == 302  # its own name, in another case, is still its own


# Enforcement against a whole group


def test_police_record_enforcement_on_a_group_touching_three_members(client, auth, users, gang):
    police = users["police"]
    marcus, darnell, tyrone, andre = gang.marcus, gang.darnell, gang.tyrone, gang.andre
    versions = {p.id: p.version for p in (marcus, darnell, tyrone, andre)}
    auth.login(police)
    form = text(client.get(f"/groups/{gang.group.id}/enforcement"))
    assert re.findall(r'<label for="members-\d+">([^<]+)</label>', form) == [
        "Marcus Bell — Identified", "Darnell Hayes — Invited", "Tyrone Irving — Enforced", "Andre Jones — Identified",
        "Kevin King — Closed",
    ]
    response = client.post(f"/groups/{gang.group.id}/enforcement", data=_enforce_form(gang, marcus, darnell, tyrone))
    assert response.status_code == 302, text(response)
    assert response.headers["Location"].endswith(f"/groups/{gang.group.id}#history-h")

    [action] = db.session.scalars(sa.select(GroupEnforcement)).all()
    assert (action.group_id, action.agency_id, action.incident_ref, action.recorded_by_id) == (
        gang.group.id, police.organization_id, "RD-2026-0451", police.id)
    for p in (marcus, darnell):
        [own] = actions_of(p)
        assert (own.group_enforcement_id, own.group_id, own.action_type, own.occurred_on, own.incident_ref,
                own.description) == (action.id, None, "arrest", today(), "RD-2026-0451",
                                     "Group shooting on 16th Street.")
        assert reload(p).state == State.ENFORCED
        assert reload(p).version == versions[p.id] + 1
        assert history(p)[-1] == "enforce"
    # Darnell was invited: leaving the pipeline settles his invitation as not attended.
    assert db.session.scalar(sa.select(Invitation.attended).where(Invitation.participant_id == darnell.id)) is False
    # Tyrone was enforced already: a second action, no state change, no history row.
    first, second = actions_of(tyrone)
    assert (first.incident_ref, first.group_enforcement_id) == ("RD-100", None)
    assert second.group_enforcement_id == action.id
    assert reload(tyrone).state == State.ENFORCED
    assert history(tyrone) == ["create", "enforce"]
    assert reload(tyrone).version == versions[tyrone.id] + 1
    # Andre was not chosen: nothing.
    assert actions_of(andre) == []
    assert reload(andre).state == State.IDENTIFIED
    assert reload(andre).version == versions[andre.id]

    page = text(client.get(f"/groups/{gang.group.id}"))
    [row] = re.findall(r"<tbody>\s*<tr>(.*?)</tr>", section(page, "history-h"), re.S)
    assert "RD-2026-0451" in row
    assert "Group shooting on 16th Street." in row
    assert re.findall(r'<a href="/participants/\d+">([^<]+)</a>', row) == ["Marcus Bell", "Darnell Hayes",
                                                                         "Tyrone Irving"]
    members = section(page, "members-h")
    andre_row = re.search(r"Andre Jones</a></th>(.*?)</tr>", members, re.S).group(1)
    assert "None" in andre_row
    assert f"{today().isoformat()} · Arrest" in re.search(r"Tyrone Irving</a></th>(.*?)</tr>", members, re.S).group(1)
    # Andre's own record shows no enforcement: the group's action touched the chosen members alone.
    assert "No enforcement recorded." in section(text(client.get(f"/participants/{andre.id}")), "enforcement-h")
    assert "RD-2026-0451" in section(text(client.get(f"/participants/{marcus.id}")), "enforcement-h")


def test_a_member_who_cannot_be_enforced_is_named_and_nothing_is_written(client, auth, users, gang):
    auth.login(users["police"])
    before, marcus = records(), snapshot(gang.marcus.id)
    response = client.post(f"/groups/{gang.group.id}/enforcement",
                           data=_enforce_form(gang, gang.marcus, gang.kevin, gang.darnell))
    assert response.status_code == 409
    page = text(response)
    assert "Nothing was recorded: enforcement cannot be recorded against Kevin King (closed)." in page
    assert "Marcus Bell (" not in page
    assert records() == before
    assert snapshot(gang.marcus.id) == marcus
    # The form keeps what was chosen, to correct and send again.
    assert re.search(rf'<input checked id="members-\d+" name="members" type="checkbox" value="{gang.marcus.id}">', page)


@pytest.mark.parametrize(("extra", "message"), [
    ({"incident_ref": "", "description": "  "}, INCIDENT_NEEDED),
    ({"members": []}, "Choose at least one member of the group."),
    ({"occurred_on": (today() + timedelta(days=1)).isoformat()}, "The date is in the future."),
    ({"action_type": "shot"}, "Not a valid choice."),
])
def test_the_group_form_refuses_bad_input_and_writes_nothing(client, auth, users, gang, extra, message):
    auth.login(users["supervisor"])
    before = records()
    agency = {"agency_id": str(users["police"].organization_id)}  # a supervisor belongs to no agency: they name one
    response = client.post(f"/groups/{gang.group.id}/enforcement",
                           data=_enforce_form(gang, gang.marcus) | agency | extra)
    assert response.status_code == 422
    assert message in text(response)
    assert records() == before


def test_a_member_of_another_group_cannot_be_chosen(client, auth, users, gang):
    auth.login(users["police"])
    before = records()
    response = client.post(f"/groups/{gang.group.id}/enforcement", data=_enforce_form(gang, gang.outsider))
    assert response.status_code == 422
    assert "field-error" in text(response)
    assert records() == before
    with pytest.raises(ValidationFailed) as refused:  # the service, called without the form, refuses as well
        group_service.enforce_group(users["police"], gang.group, [gang.marcus.id, gang.outsider.id], "arrest",
                                    today(), None, None, "RD-1")
    db.session.rollback()
    assert refused.value.fields == {"members": "Choose members of this group only."}
    assert records() == before


def test_a_group_action_that_fails_halfway_keeps_nothing(users, gang, monkeypatch):
    """All or none: when the second member's own verb fails after the first was written, the caller's rollback
    takes the first one back too."""
    calls = []
    real = events.record_enforcement

    def failing(*args, **kwargs):
        calls.append(args[1].id)
        if len(calls) == 2:
            raise ValidationFailed("Disk full.")
        return real(*args, **kwargs)

    monkeypatch.setattr(events, "record_enforcement", failing)
    before = records()
    with pytest.raises(ValidationFailed):
        group_service.enforce_group(users["police"], gang.group, [gang.marcus.id, gang.andre.id], "arrest", today(),
                                    None, None, "RD-9")
    db.session.rollback()
    assert calls == [gang.marcus.id, gang.andre.id]
    assert records() == before


# A further enforcement action on someone already enforced, and the incident every enforcement form asks for


def test_a_second_arrest_after_enforcement(client, auth, users, gang):
    police, tyrone = users["police"], gang.tyrone
    version = tyrone.version
    auth.login(police)
    page = text(client.get(f"/participants/{tyrone.id}"))
    assert f'href="/participants/{tyrone.id}/enforcement"' in section(page, "enforcement-h")
    assert "Record a further enforcement action" in text(client.get(f"/participants/{tyrone.id}/enforcement"))

    before = records()
    response = client.post(f"/participants/{tyrone.id}/enforcement", data={
        "version": version, "action_type": "arrest", "occurred_on": today().isoformat(), "incident_ref": "",
        "description": "",
    })
    assert response.status_code == 422
    assert INCIDENT_NEEDED in text(response)
    assert records() == before

    response = client.post(f"/participants/{tyrone.id}/enforcement", data={
        "version": version, "action_type": "arrest", "occurred_on": today().isoformat(), "incident_ref": "",
        "description": "Arrested with a gun, two weeks after the warrant.",
    })
    assert response.status_code == 302, text(response)
    _, second = actions_of(tyrone)
    assert (second.action_type, second.incident_ref, second.description, second.agency_id, second.recorded_by_id) == (
        "arrest", None, "Arrested with a gun, two weeks after the warrant.", police.organization_id, police.id)
    tyrone = reload(tyrone)
    assert (tyrone.state, tyrone.version) == (State.ENFORCED, version + 1)
    assert history(tyrone) == ["create", "enforce"]
    table = section(text(client.get(f"/participants/{tyrone.id}")), "enforcement-h")
    assert "RD-100" in table
    assert "Arrested with a gun" in table

    stale = client.post(f"/participants/{tyrone.id}/enforcement", data={
        "version": version, "action_type": "arrest", "occurred_on": today().isoformat(), "incident_ref": "RD-7",
    })
    assert stale.status_code == 409
    assert len(actions_of(tyrone)) == 2


def test_a_further_action_is_for_an_enforced_participant_only(client, auth, users, gang):
    auth.login(users["police"])
    marcus = gang.marcus
    assert f"/participants/{marcus.id}/enforcement" not in text(client.get(f"/participants/{marcus.id}"))
    assert client.get(f"/participants/{marcus.id}/enforcement").status_code == 409
    before = records()
    response = client.post(f"/participants/{marcus.id}/enforcement", data={
        "version": marcus.version, "action_type": "arrest", "occurred_on": today().isoformat(), "incident_ref": "RD-3",
    })
    assert response.status_code == 409
    assert "A further enforcement action is for an enforced participant; this one is identified." in text(response)
    assert records() == before


def test_the_enforce_event_form_asks_for_an_incident_or_description(client, auth, users, gang, api_as):
    marcus = gang.marcus
    auth.login(users["police"])
    before = records()
    response = client.post(f"/participants/{marcus.id}/events/enforce", data={
        "version": marcus.version, "action_type": "arrest", "occurred_on": today().isoformat(),
    })
    assert response.status_code == 422
    assert INCIDENT_NEEDED in text(response)
    assert records() == before
    response = client.post(f"/participants/{marcus.id}/events/enforce", data={
        "version": marcus.version, "action_type": "arrest", "occurred_on": today().isoformat(), "incident_ref": "RD-8",
    })
    assert response.status_code == 302
    assert reload(marcus).state == State.ENFORCED
    # API.md asks no incident of the API's enforce event: it is taken without one, as before.
    andre = gang.andre
    status, body = api_as(users["police"]).post(f"/participants/{andre.id}/events", json={
        "event": "enforce", "version": andre.version, "action_type": "arrest", "occurred_on": today().isoformat(),
    })
    assert (status, body["state"]) == (200, "enforced"), body


# CSRF, on as in production


@pytest.mark.usefixtures("csrf_on")
def test_the_group_forms_carry_the_token(client, auth, users, gang):
    auth.login_with_csrf(users["police"])
    path = f"/groups/{gang.group.id}/enforcement"
    assert client.post(path, data=_enforce_form(gang, gang.marcus)).status_code == 400
    assert actions_of(gang.marcus) == []
    token = csrf_token_of(text(client.get(path)))
    response = client.post(path, data=_enforce_form(gang, gang.marcus) | {"csrf_token": token})
    assert response.status_code == 302, text(response)
    assert len(actions_of(gang.marcus)) == 1
    token = csrf_token_of(text(client.get("/groups/new")))
    assert client.post("/groups/new", data={"name": "Latin Kings", "csrf_token": token}).status_code == 302


# The group pages cost a fixed number of queries, whatever the number of members, actions and groups.


def _queries(client, path: str) -> int:
    db.session.expunge_all()  # as a fresh request finds it: nothing loaded yet
    with counting() as statements:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(statements)


def test_the_group_pages_cost_the_same_at_3_and_12_members(client, auth, users, make_participant):
    police = users["police"]
    group = catalog.create_group(police, {"name": "Four Corner Hustlers", "aliases": "4CH", "area": "West Humboldt"})
    db.session.commit()
    group_id, police_id = group.id, police.id
    auth.login(police)
    counts = []
    made = 0
    for size in (3, 12):
        while made < size:
            police = db.session.get(User, police_id)  # each measured request empties the session
            p = make_participant(police, first_name="Member", last_name=f"No{made:02}", group_id=group_id)
            made += 1
            group_service.enforce_group(police, db.session.get(Group, group_id), [p.id], "arrest", today(), None,
                                        None, f"RD-{made}")
            catalog.create_group(police, {"name": f"Another group {made}"})
            db.session.commit()
        client.get("/groups/")  # a session's last use is written at most once a minute: not what is counted here
        counts.append((_queries(client, f"/groups/{group_id}"), _queries(client, "/groups/"),
                       _queries(client, f"/groups/{group_id}/enforcement")))
    assert counts[0] == counts[1]
    page = text(client.get(f"/groups/{group_id}"))
    assert len(re.findall(r"<tr>", section(page, "members-h"))) == 1 + 12
    assert len(re.findall(r"<tr>", section(page, "history-h"))) == 1 + 12


# The services refuse what the pages refuse, called without a page in front.


def test_the_services_check_the_role_themselves(users, gang):
    before = records()
    for role in ("caseworker", "provider", "community", "admin"):
        with pytest.raises(Forbidden):
            group_service.enforce_group(users[role], gang.group, [gang.marcus.id], "arrest", today(), None, None,
                                        "RD-1")
        with pytest.raises(Forbidden):
            events.add_enforcement(users[role], gang.tyrone, gang.tyrone.version, "arrest", today(), None, None,
                                   "RD-1")
        with pytest.raises(Forbidden):
            group_service.update_group(users[role], gang.group, {"name": "Renamed"})
        db.session.rollback()
    assert records() == before


def test_an_action_against_the_group_as_a_whole_shows_in_its_history(client, auth, users, gang):
    """The model keeps DESIGN.md's enforcement "against a whole group" (a group_id and no participant), which the
    cohort report counts for every member; nothing records one through the pages yet, so the row is put in as is."""
    police = users["police"]
    db.session.add(EnforcementAction(group_id=gang.group.id, agency_id=police.organization_id, action_type="warrant",
                                     occurred_on=today() - timedelta(days=3), incident_ref="RD-WHOLE",
                                     recorded_by_id=police.id))
    db.session.commit()
    group_service.enforce_group(police, gang.group, [gang.marcus.id], "arrest", today(), None, None, "RD-ONE")
    db.session.commit()
    auth.login(police)
    rows = re.findall(r"<tr>(.*?)</tr>", section(text(client.get(f"/groups/{gang.group.id}")), "history-h"), re.S)
    assert len(rows) == 3  # the header, then the newest first
    assert "RD-ONE" in rows[1]
    assert "Marcus Bell" in rows[1]
    assert "RD-WHOLE" in rows[2]
    assert "The whole group" in rows[2]
