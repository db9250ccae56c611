"""Choosing a group, a caseworker, a community group, a service or a visit's team by name (issue #12): a select while
the program is small; beyond THRESHOLD rows a typed name the server resolves, through HTTP, without JavaScript. An
exact name (case aside) saves; a name several rows share, or none, answers the form again with a message and the
rows it may mean as radio buttons, and saves nothing; a pick among them saves. The pages' statements do not grow
with the tables."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from helpers import counting, grow_staff, text

from ceasefire.extensions import db
from ceasefire.models import CustomNotification, Group, Participant, Referral, Service, User
from ceasefire.models.enums import OrgKind, Role
from ceasefire.services import lookup


@pytest.fixture
def large(app, users):
    """A program beyond a select's size: more than THRESHOLD of every table a form chooses from."""
    grow_staff(lookup.THRESHOLD + 5)
    return users


@pytest.fixture
def named(app, make_user, make_org, make_service):
    """The rows the tests name: a group, two caseworkers who share a name and one who does not, an inactive one, a
    community group and a service."""
    group = Group(name="Westside Crew", area="West")
    db.session.add(group)
    db.session.commit()
    dana1, dana2, omar, gone = (make_user(Role.CASEWORKER, email=e) for e in (
        "dana1@example.org", "dana2@example.org", "omar@example.org", "gone@example.org"))
    for user, name in ((dana1, "Dana Rivera"), (dana2, "Dana Rivera"), (omar, "Omar Haddad"), (gone, "Gone Away")):
        user.name = name
    gone.active = False
    peace = make_org(OrgKind.COMMUNITY, "Watts Peacekeepers")
    service = make_service(make_org(OrgKind.PROVIDER, "Westmont Workforce Center"), name="Job readiness")
    db.session.commit()
    return {"group": group.id, "dana1": dana1.id, "dana2": dana2.id, "omar": omar.id, "gone": gone.id,
            "peace": peace.id, "service": service.id}


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _new(client, **fields):
    return client.post("/participants/new", data={"first_name": "Marcus", "last_name": "Bell",
                                                  "supervision_status": "none"} | fields)


def test_a_small_program_keeps_its_selects(client, auth, users, named):
    auth.login(users["supervisor"])
    html = text(client.get("/participants/new"))
    assert '<select id="group_id" name="group_id">' in html
    assert f'<option value="{named["group"]}">Westside Crew</option>' in html
    assert "Gone Away" not in html  # as before: an inactive caseworker is no choice
    assert "<script" not in html
    response = _new(client, group_id=str(named["group"]), caseworker_id=str(named["omar"]))
    assert response.status_code == 302
    p = db.session.scalar(sa.select(Participant).where(Participant.last_name == "Bell"))
    assert (p.group_id, p.caseworker_id) == (named["group"], named["omar"])


def test_a_large_program_types_names_and_saves_the_rows_named(client, auth, large, named):
    auth.login(large["supervisor"])
    html = text(client.get("/participants/new"))
    for name in ("group_id", "caseworker_id", "community_org_id"):
        assert re.search(rf'<input type="text" [^>]*id="{name}" name="{name}" value="" autocomplete="off" '
                         rf'data-lookup="/lookup/\w+">', html), name
    assert "Filler Group" not in html  # no table is listed
    assert 'src="/static/js/lookup.js"' in html
    response = _new(client, group_id="westside crew", caseworker_id="Omar Haddad",
                    community_org_id="WATTS PEACEKEEPERS")
    assert response.status_code == 302, text(response)
    p = db.session.scalar(sa.select(Participant).where(Participant.last_name == "Bell"))
    assert (p.group_id, p.caseworker_id, p.community_org_id) == (named["group"], named["omar"], named["peace"])
    # Editing shows each value by the name that resolves it again, and saving it unchanged keeps it.
    html = text(client.get(f"/participants/{p.id}/edit"))
    assert 'value="Westside Crew (West)"' in html
    assert 'value="Omar Haddad (omar@example.org)"' in html
    form = {"first_name": "Marcus", "last_name": "Bell", "supervision_status": "none", "version": str(p.version),
            "group_id": "Westside Crew (West)", "caseworker_id": "Omar Haddad (omar@example.org)",
            "community_org_id": "Watts Peacekeepers"}
    assert client.post(f"/participants/{p.id}/edit", data=form).status_code == 302
    db.session.expire_all()
    assert (p.group_id, p.caseworker_id, p.community_org_id) == (named["group"], named["omar"], named["peace"])
    # An empty name clears the field.
    form["version"], form["group_id"] = str(p.version), ""
    assert client.post(f"/participants/{p.id}/edit", data=form).status_code == 302
    db.session.expire_all()
    assert p.group_id is None


def test_a_shared_name_offers_the_rows_and_a_pick_saves(client, auth, large, named):
    auth.login(large["caseworker"])
    before = _count(Participant)
    response = _new(client, caseworker_id="dana rivera")
    assert response.status_code == 422
    html = text(response)
    assert "More than one caseworker is named “dana rivera”: choose one." in html
    for who in ("dana1", "dana2"):
        assert f'name="caseworker_id-pick" value="{named[who]}"' in html
    assert 'value="dana rivera"' in html  # what was typed stays in the field
    assert _count(Participant) == before
    response = _new(client, **{"caseworker_id": "dana rivera", "caseworker_id-pick": str(named["dana2"])})
    assert response.status_code == 302
    assert db.session.scalar(sa.select(Participant.caseworker_id).where(Participant.last_name == "Bell")) == \
        named["dana2"]
    # "Name (email)", as the field shows a row, names one of them without a pick.
    response = _new(client, last_name="Bell2", caseworker_id="Dana Rivera (dana1@example.org)")
    assert response.status_code == 302
    assert db.session.scalar(sa.select(Participant.caseworker_id).where(Participant.last_name == "Bell2")) == \
        named["dana1"]


def test_an_unknown_or_partial_name_changes_nothing(client, auth, large, named):
    auth.login(large["caseworker"])
    before = _count(Participant)
    response = _new(client, group_id="Nobody Crew")
    assert response.status_code == 422
    assert "No group is named “Nobody Crew”, and no name starts so: check the spelling." in text(response)
    response = _new(client, group_id="westsi")  # the start of a name: offered, not taken
    assert response.status_code == 422
    html = text(response)
    assert "No group is named “westsi”: choose one of these, or type another name." in html
    assert f'name="group_id-pick" value="{named["group"]}"' in html
    # The access policy as the select had it: an inactive caseworker is nobody to assign.
    response = _new(client, caseworker_id="Gone Away")
    assert response.status_code == 422
    assert "No caseworker is named “Gone Away”" in text(response)
    # A pick of a row the text no longer names is ignored (the text is resolved), and a pick out of reach too.
    response = _new(client, **{"caseworker_id": "Omar", "caseworker_id-pick": str(named["gone"])})
    assert response.status_code == 422
    assert _count(Participant) == before
    response = _new(client, group_id="westsi", **{"group_id-pick": str(named["group"])})
    assert response.status_code == 302


def test_editing_with_an_unknown_name_changes_nothing(client, auth, large, named, make_participant):
    p = make_participant(large["supervisor"], group_id=named["group"], caseworker_id=named["omar"])
    version = p.version
    auth.login(large["caseworker"])
    response = client.post(f"/participants/{p.id}/edit", data={
        "first_name": "Changed", "last_name": p.last_name, "supervision_status": "none", "version": str(version),
        "group_id": "No Such Group", "caseworker_id": "Omar Haddad",
    })
    assert response.status_code == 422
    db.session.expire_all()
    assert (p.first_name, p.group_id, p.version) == ("Test", named["group"], version)


def test_a_visit_names_its_team(client, auth, large, named, make_participant):
    p = make_participant(large["supervisor"])
    auth.login(large["caseworker"])
    html = text(client.get(f"/participants/{p.id}/custom-notifications/new"))
    assert re.search(r'<textarea [^>]*id="team_user_ids" name="team_user_ids"', html)
    assert "Filler Staff" not in html
    visit = {"delivered_at": "2026-11-20T18:30", "place": "Porch", "message": "We care; the violence must stop."}
    response = client.post(f"/participants/{p.id}/custom-notifications/new", data=visit | {
        "team_user_ids": "Omar Haddad\nDana Rivera", "team_organization_ids": "Watts Peacekeepers"})
    assert response.status_code == 422
    html = text(response)
    assert 'name="team_user_ids-pick-1"' in html
    assert _count(CustomNotification) == 0
    response = client.post(f"/participants/{p.id}/custom-notifications/new", data=visit | {
        "team_user_ids": "Omar Haddad\nDana Rivera", "team_user_ids-pick-1": str(named["dana1"]),
        "team_organization_ids": "Watts Peacekeepers"})
    assert response.status_code == 302, text(response)
    notification = db.session.scalar(sa.select(CustomNotification))
    assert {u.id for u in notification.team_members} == {named["omar"], named["dana1"]}
    assert named["peace"] in {o.id for o in notification.team_organizations}


def test_a_referral_names_its_service(client, auth, large, named, make_participant):
    p = make_participant(large["supervisor"], consent_to_share=True)
    auth.login(large["caseworker"])
    html = text(client.get(f"/participants/{p.id}"))
    assert re.search(r'<input type="text" [^>]*id="service_id" name="service_id"', html)
    response = client.post(f"/participants/{p.id}/referrals", data={"service_id": "Nothing Like It"})
    assert response.status_code == 422
    assert _count(Referral) == 0
    response = client.post(f"/participants/{p.id}/referrals", data={"service_id": "Westmont Workforce Center"})
    assert response.status_code == 302  # the provider's only service
    assert db.session.scalar(sa.select(Referral.service_id)) == named["service"]


def test_an_invitation_names_its_forum(client, auth, large, make_participant, make_forum):
    p = make_participant(large["supervisor"])
    forum = make_forum()
    forum.location, forum.title = "Westside Community Center", "Call-in forum, December 1"
    db.session.commit()
    auth.login(large["caseworker"])
    html = text(client.get(f"/participants/{p.id}/events/invite"))
    assert re.search(r'<input type="text" [^>]*id="forum_id" name="forum_id"', html)
    assert "Filler Forum" not in html
    data = {"version": str(p.version), "method": "letter"}
    response = client.post(f"/participants/{p.id}/events/invite", data=data | {"forum_id": "westside"})
    assert response.status_code == 422
    assert f'name="forum_id-pick" value="{forum.id}"' in text(response)
    response = client.post(f"/participants/{p.id}/events/invite", data=data | {"forum_id": "Westside Community Center"})
    assert response.status_code == 302
    db.session.expire_all()
    assert p.state == "invited"


@pytest.mark.parametrize("path", ["/participants/new", "/participants/{p}/edit", "/participants/{p}/events/invite",
                                  "/participants/{p}/custom-notifications/new", "/participants/{p}"])
def test_the_forms_statements_do_not_grow_with_the_tables(client, auth, large, named, make_participant, path):
    p = make_participant(large["supervisor"], group_id=named["group"], caseworker_id=named["omar"],
                         community_org_id=named["peace"], consent_to_share=True)
    auth.login(large["supervisor"])
    url = path.format(p=p.id)
    client.get(url)
    counts = []
    for _ in range(2):
        db.session.remove()
        with counting() as statements:
            assert client.get(url).status_code == 200
        counts.append(len(statements))
        grow_staff(300)
    assert counts[0] == counts[1], counts


def test_suggestions_start_with_what_is_typed(client, auth, large, named):
    auth.login(large["caseworker"])
    assert client.get("/lookup/group?q=WESTS").get_json() == [{"id": named["group"], "text": "Westside Crew (West)"}]
    rows = client.get("/lookup/caseworker?q=filler").get_json()
    assert len(rows) == lookup.CANDIDATES
    assert client.get("/lookup/caseworker?q=gone").get_json() == []  # inactive
    assert client.get("/lookup/service?q=westmont").get_json() == [
        {"id": named["service"], "text": "Job readiness (Westmont Workforce Center)"}]
    assert client.get("/lookup/group?q=").get_json() == []
    assert client.get("/lookup/group?q=100%25").get_json() == []  # a wildcard is a character
    assert client.get("/lookup/nothing?q=a").status_code == 404


def test_the_admin_names_a_users_organization_and_a_services_provider(client, auth, large, named):
    auth.login(large["admin"])
    html = text(client.get("/admin/users/new"))
    assert re.search(r'<input type="text" [^>]*id="organization_id" name="organization_id"', html)
    assert "Filler Community" not in html
    user = {"name": "Ana Ruiz", "email": "ana@example.org", "role": "community"}
    response = client.post("/admin/users/new", data=user | {"organization_id": "Watts Peacekeeper"})
    assert response.status_code == 422
    assert f'name="organization_id-pick" value="{named["peace"]}"' in text(response)
    assert db.session.scalar(sa.select(User).where(User.email == "ana@example.org")) is None
    response = client.post("/admin/users/new", data=user | {"organization_id": "watts peacekeepers"})
    assert response.status_code == 200
    assert db.session.scalar(sa.select(User.organization_id).where(User.email == "ana@example.org")) == named["peace"]
    service = {"name": "Resume clinic", "category": "employment", "active": "y"}
    response = client.post("/admin/services/new", data=service | {"organization_id": "Watts Peacekeepers"})
    assert response.status_code == 422  # a community group is no provider
    assert _count(Service) == lookup.THRESHOLD + 6
    response = client.post("/admin/services/new", data=service | {"organization_id": "Westmont Workforce Center"})
    assert response.status_code == 302
