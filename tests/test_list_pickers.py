"""The participant list's group, caseworker and forum filters in a large program (issue #12): a select while the
table holds at most THRESHOLD rows, beyond that a text box whose typed name the server resolves, as the forms'
look-ups do. The id keeps its key in the URL (links from other pages), the box shows the row's name; a name no row
has, or several share, is a message with the rows it may mean as links, no filter applied and never a 500."""

from __future__ import annotations

import re

import pytest
from helpers import counting, grow_staff, text
from test_participant_list import listed, names, tabs  # noqa: F401  # the five participants and how to read them

from ceasefire.extensions import db
from ceasefire.models import Group
from ceasefire.models.enums import Role
from ceasefire.services import lookup

EVERYONE = ["Able, Ann", "Baker, Bo", "Cole, Cy", "Dunn, Dee", "Evans, Eli"]


@pytest.fixture
def typed(monkeypatch):
    """A large program, as the list sees it: every table beyond a select's size."""
    monkeypatch.setattr(lookup, "THRESHOLD", 0)


def _get(client, status: int = 200, **args) -> str:
    response = client.get("/participants/", query_string=args)
    assert response.status_code == status, text(response)
    return text(response)


def _box(html: str, name: str) -> str:
    found = re.search(rf'<input type="text" [^>]*name="{name}" [^>]*>', html)
    assert found, name
    return found.group(0)


def test_a_small_program_keeps_its_selects(listed, users, client, auth, make_forum):  # noqa: F811
    auth.login(users["supervisor"])
    html = _get(client)
    for name in ("group_id", "caseworker_id", "forum_id"):
        assert re.search(rf'<label for="{name}">', html)
        assert re.search(rf'<select id="{name}" name="{name}">', html)
    assert "lookup.js" not in html
    later = make_forum()
    forums = re.findall(r'<option value="(\d+)"', re.search(r'<select[^>]*name="forum_id".*?</select>',
                                                            _get(client), re.S).group(0))
    assert forums == [str(later.id), str(listed["forum"].id)]  # the latest first
    groups = re.search(r'<select[^>]*name="group_id".*?</select>', _get(client, group_id=listed["hustlers"].id), re.S)
    assert f'<option value="{listed["hustlers"].id}" selected>Hustlers</option>' in groups.group(0)
    assert ">Crew</option>" in groups.group(0)
    assert names(_get(client, group_id=listed["hustlers"].id)) == ["Able, Ann", "Dunn, Dee"]
    assert names(_get(client, 422, group_id=424242)) == EVERYONE  # no such choice: said, nothing applied


def test_a_large_program_types_names(listed, users, client, auth, typed):  # noqa: F811
    auth.login(users["supervisor"])
    html = _get(client)
    for name, kind in (("group", "group"), ("caseworker", "caseworker"), ("forum", "forum")):
        box = _box(html, name)
        assert f'id="{name}_id"' in box
        assert f'data-lookup="/lookup/{kind}"' in box
        assert 'value=""' in box
        assert f'<label for="{name}_id">' in html
        assert f'<select id="{name}_id"' not in html
    search = re.search(r'<form method="get".*?</form>', html, re.S).group(0)
    assert "Crew" not in search  # no table is listed
    assert "Test caseworker" not in search
    assert 'src="/static/js/lookup.js"' in html
    assert "<script>" not in html
    assert " style=" not in html


def test_a_typed_name_filters_and_the_links_carry_its_id(listed, users, client, auth, typed):  # noqa: F811
    auth.login(users["supervisor"])
    hustlers = listed["hustlers"].id
    html = _get(client, group="  HUSTLERS ", state="", caseworker="", sort="changed")
    assert names(html) == ["Dunn, Dee", "Able, Ann"]
    assert 'value="Hustlers"' in _box(html, "group")
    assert f'<input type="hidden" name="group_id" value="{hustlers}">' in html
    assert tabs(html)["All"] == 2
    # The tabs and the pager carry the id the name resolved to, in the URL's order, and neither box.
    assert f'href="/participants/?state=identified&amp;group_id={hustlers}&amp;sort=changed"' in html
    after_form = html.split("</form>", 1)[1]
    assert "group=" not in after_form
    assert "caseworker=" not in after_form
    # A forum by its title or its place; the row's text ("Title (place)") names it again.
    forum = listed["forum"]
    for typed_name in (forum.title, "community center", f"{forum.title} (Community center)"):
        html = _get(client, forum=typed_name)
        assert names(html) == ["Able, Ann"], typed_name
        assert f'value="{forum.title} (Community center)"' in _box(html, "forum")


def test_a_link_filters_by_id_and_shows_the_name(listed, users, client, auth, typed):  # noqa: F811
    auth.login(users["supervisor"])
    html = _get(client, group_id=listed["crew"].id)
    assert names(html) == ["Baker, Bo"]
    assert 'value="Crew"' in _box(html, "group")
    cw_b = listed["cw_b"]
    html = _get(client, caseworker_id=cw_b.id, state="enforced")
    assert names(html) == ["Cole, Cy"]
    assert f'value="Test caseworker ({cw_b.email})"' in _box(html, "caseworker")
    # Sent again as the page shows it (the box and the hidden id): the same row, though another shares its name.
    assert names(_get(client, caseworker=f"Test caseworker ({cw_b.email})", caseworker_id=cw_b.id)) == \
        ["Cole, Cy", "Dunn, Dee"]
    assert names(_get(client, caseworker="test caseworker", caseworker_id=cw_b.id)) == ["Cole, Cy", "Dunn, Dee"]
    # The box emptied: no filter, whatever id the page carried.
    assert names(_get(client, group="", group_id=listed["crew"].id)) == EVERYONE
    # An id no row has, or no id at all: said beside the box, nothing applied.
    html = _get(client, 422, group_id=424242, state="identified")
    assert "There is no such group: type a name to choose one." in html
    assert names(html) == EVERYONE
    assert names(_get(client, 422, forum_id="nine")) == EVERYONE
    assert names(_get(client, 422, group_id="99999999999999999999999")) == EVERYONE


def test_a_name_several_rows_share_offers_them_as_links(listed, users, client, auth, typed):  # noqa: F811
    auth.login(users["supervisor"])
    cw_a, cw_b = listed["cw_a"], listed["cw_b"]
    html = _get(client, 422, caseworker="Test Caseworker", state="identified", page="2")
    assert "More than one caseworker is named “Test Caseworker”: choose one." in html
    assert names(html) == EVERYONE  # no filter applied
    assert 'aria-invalid="true"' in _box(html, "caseworker")
    assert 'value="Test Caseworker"' in _box(html, "caseworker")
    links = dict(re.findall(r'<li><a href="([^"]+)">([^<]+)</a></li>', html))
    for cw in (cw_a, cw_b):
        href = f"/participants/?state=identified&amp;caseworker_id={cw.id}"
        assert links[href] == f"Test caseworker ({cw.email})"
        assert names(_get(client, state="identified", caseworker_id=cw.id)) == \
            (["Baker, Bo"] if cw is cw_a else ["Dunn, Dee"])
    # The script's pick (a suggestion chosen as typed) tells them apart without a second round.
    assert names(_get(client, caseworker="Test caseworker", **{"caseworker-pick": cw_a.id})) == \
        ["Able, Ann", "Baker, Bo"]


def test_an_unknown_or_partial_name_is_a_message(listed, users, client, auth, typed):  # noqa: F811
    auth.login(users["supervisor"])
    html = _get(client, 422, group="Nobody Crew")
    assert "No group is named “Nobody Crew”, and no name starts so: check the spelling." in html
    assert names(html) == EVERYONE
    assert 'class="lookup-choices"' not in html
    html = _get(client, 422, group="hus")
    assert "No group is named “hus”: choose one of these, or type another name." in html
    assert re.search(r'<div class="lookup-choices">.*?</div>', html, re.S).group(0).count("<li>") == 1
    assert f'href="/participants/?group_id={listed["hustlers"].id}">Hustlers</a>' in html
    for odd in ("%", "x" * 5000, "<script>", "\x00"):  # never a 500
        response = client.get("/participants/", query_string={"group": odd, "forum": odd, "caseworker": odd})
        assert response.status_code in (400, 422), odd


@pytest.mark.parametrize("role", [Role.CASEWORKER, Role.POLICE, Role.SUPERVISOR, Role.COMMUNITY, Role.PROVIDER])
@pytest.mark.parametrize("large", [False, True])
def test_each_role_gets_the_filters_it_had(listed, users, client, auth, monkeypatch, role, large):  # noqa: F811
    """The filters a role is offered do not change with the program's size: group and caseworker to the roles that
    see them, the forum to those that see invitations; another role's keys in the URL change nothing."""
    if large:
        monkeypatch.setattr(lookup, "THRESHOLD", 0)
    auth.login(users[role])
    html = _get(client)
    offered = {name for name in ("group_id", "caseworker_id", "forum_id") if f'<label for="{name}">' in html}
    expected = {Role.COMMUNITY: {"forum_id"}, Role.PROVIDER: set()}.get(role, {"group_id", "caseworker_id",
                                                                                "forum_id"})
    assert offered == expected
    before = names(html)
    for key in ("group", "caseworker"):
        if f"{key}_id" not in expected:
            assert names(_get(client, **{key: "Hustlers" if key == "group" else "Test caseworker",
                                         f"{key}_id": listed["hustlers"].id})) == before


def test_the_typed_filters_statements_do_not_grow_with_the_tables(listed, users, client, auth, typed):  # noqa: F811
    auth.login(users["supervisor"])
    queries = [{}, {"group_id": listed["hustlers"].id}, {"group": "hustlers"}, {"caseworker_id": listed["cw_a"].id},
               {"forum_id": listed["forum"].id, "group": "Crew"}, {"group": "hus"}, {"caseworker": "Test caseworker"}]
    client.get("/participants/")
    counts: list[list[int]] = []
    for size in range(2):
        row = []
        for query in queries:
            db.session.remove()
            with counting() as statements:
                assert client.get("/participants/", query_string=query).status_code in (200, 422)
            row.append(len(statements))
        counts.append(row)
        grow_staff(30)
        db.session.add_all([Group(name=f"Hustlers {size}-{n}") for n in range(30)])
        db.session.commit()
    assert counts[0] == counts[1], counts
