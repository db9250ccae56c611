"""The kept counts of the name search's pieces and names and its postings (ceasefire.models.search_counts) equal those
cut from the rows after every
kind of change (create, rename, aliases set and cleared, each state change, purge, delete, a bulk seed and refresh),
and a
short search read off them (the API's total, the list page's tabs and page, within a state) finds exactly what a
plain LIKE scan finds; without them (a table emptied) the search counts off its index and still agrees."""

from __future__ import annotations

from urllib.parse import quote

import sqlalchemy as sa
from helpers import Program, counting, lower_compound_select_limit

from ceasefire.extensions import db
from ceasefire.models import Participant, SearchGramCount, SearchNameCount, User
from ceasefire.models.enums import Role, State
from ceasefire.models.search_counts import GRAM_MAX, POSTED
from ceasefire.services import listing, read, search

NAMES = [("Marcus", "Johnson", "Lil Man"), ("Jose", "Garcia", None), ("Andre", "Jones", "Dre"),
         ("Joan", "O'Neil", "50% off"), ("Zoë", "Moreno", "Jo"), ("ÉMILE", "DUBOIS", "Él"), ("Sam", "Lee", "  a b  ")]


def _expected() -> dict[tuple[str, str], int]:
    """Each piece's participants per state, cut here from the names as the database lowers them (what the kept
    rows must say), on a connection of its own."""
    with db.engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT lower(first_name || ' ' || last_name), lower(coalesce(aliases, '')), state FROM participants "
            "WHERE purged_at IS NULL"
        )).all()
    found: dict[tuple[str, str], int] = {}
    for state in State:
        found[("", state.value)] = 0
    for name, aliases, state in rows:
        pieces = {t[i:i + n] for t in (name, aliases) for n in range(1, GRAM_MAX + 1) for i in range(len(t) - n + 1)}
        for piece in {p for p in pieces if p[0] != " " and p[-1] != " "} | {""}:
            found[(piece, state)] = found.get((piece, state), 0) + 1
    return found


def _postings() -> tuple[set[tuple[str, str, str, int, str]], set[tuple[str, str, str, int, str]]]:
    """The postings kept, and those cut here from the rows (each person's distinct pieces of two and three
    letters)."""
    with db.engine.connect() as conn:
        kept = {tuple(r) for r in conn.execute(sa.text(
            "SELECT gram, last_name, first_name, participant_id, state FROM search_postings"))}
        rows = conn.execute(sa.text(
            "SELECT lower(first_name || ' ' || last_name), lower(coalesce(aliases, '')), last_name, first_name, id, "
            "state FROM participants WHERE purged_at IS NULL"
        )).all()
    assert POSTED == (2, 3)
    expected = {(t[i:i + n], last, first, ident, state) for name, aliases, last, first, ident, state in rows
                for t in (name, aliases) for n in POSTED for i in range(len(t) - n + 1)
                if t[i] != " " and t[i + n - 1] != " "}
    return kept, expected


def _names() -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], int]]:
    """The names' counts kept (every row: a name no one bears has none), and those counted here from the rows."""
    with db.engine.connect() as conn:
        kept = {(name, state): n for name, state, n in conn.execute(sa.select(
            SearchNameCount.name, SearchNameCount.state, SearchNameCount.participants))}
        rows = conn.execute(sa.text(
            "SELECT lower(first_name || ' ' || last_name), state FROM participants WHERE purged_at IS NULL")).all()
    expected = {("", state.value): 0 for state in State}
    for name, state in rows:
        expected[(name, state)] = expected.get((name, state), 0) + 1
    return kept, expected


def _kept() -> dict[tuple[str, str], int]:
    with db.engine.connect() as conn:
        rows = conn.execute(sa.select(SearchGramCount.gram, SearchGramCount.state, SearchGramCount.participants))
        return {(gram, state): n for gram, state, n in rows if n or gram == ""}


def _like(q: str, state: str | None = None) -> list[int]:
    needle = q.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return list(db.session.scalars(sa.text(
        "SELECT id FROM participants WHERE purged_at IS NULL AND (lower(first_name || ' ' || last_name) LIKE :p "
        "ESCAPE '\\' OR lower(aliases) LIKE :p ESCAPE '\\') AND (CAST(:s AS VARCHAR) IS NULL OR state = :s) "
        "ORDER BY last_name, first_name, id"
    ), {"p": f"%{needle}%", "s": state}))


# Longer than GRAM_MAX too: a whole name, one across the space, aliases alone, renamed, none.
QUERIES = ["a", "j", "jo", "JO", "on", "ë", "é", "É", "n", "s j", "son", "dre", "o'n", "0%", "a b", "xyz", "johnson",
           "s johnson", "peanut", "okafor", "stone", "lil man", "whitfield", "zoë moreno", "garcia"]


def _check(api, user: User) -> None:
    """The kept rows equal the rows' count; the API's totals and first pages, the list page's tabs and page (the
    service and the HTML), each within a state too, equal the LIKE scan."""
    db.session.expire_all()
    assert _kept() == _expected()
    kept, expected = _postings()
    assert kept == expected
    names, expected_names = _names()
    assert names == expected_names
    for q in QUERIES:
        expected = _like(q)
        status, body = api.get(f"/participants?per_page=3&q={quote(q)}")
        assert status == 200, body
        assert (body["total"], [p["id"] for p in body["items"]]) == (len(expected), expected[:3]), q
        tabs, page = listing.participant_list(user, 1, 3, (), q=q)
        assert {s: len(_like(q, s.value)) for s in State} == tabs, q
        assert [p.id for p in page.items] == expected[:3], q
        for state in (State.IDENTIFIED, State.INVITED):
            in_state = _like(q, state.value)
            status, body = api.get(f"/participants?per_page=2&page=2&q={quote(q)}&state={state.value}")
            assert status == 200, body
            assert (body["total"], [p["id"] for p in body["items"]]) == (len(in_state), in_state[2:4]), (q, state)
            tabs, page = listing.participant_list(user, 1, 2, (), q=q, state=state.value)
            assert (page.total, [p.id for p in page.items]) == (len(in_state), in_state[:2]), (q, state)


def test_the_kept_pieces_follow_every_change(users, api_as, client, auth):
    program = Program.build(users["supervisor"])
    api = api_as(users["supervisor"])
    user = users["supervisor"]
    _check(api, user)
    people = [program.create(first_name=first, last_name=last, aliases=aliases) for first, last, aliases in NAMES]
    _check(api, user)

    status, created = api.post("/participants", json={"first_name": "Darnell", "last_name": "Whitfield"})
    assert status == 201, created
    status, body = api.patch(f"/participants/{created['id']}", json={
        "version": created["version"], "last_name": "Okafor", "aliases": "Peanut",
    })
    assert status == 200, body
    _check(api, user)
    status, body = api.patch(f"/participants/{created['id']}", json={"version": body["version"], "aliases": None})
    assert status == 200, body
    _check(api, user)

    for state in State:  # each state change moves a person's pieces from one state's rows to another's
        program.bring_to(state, first_name="Jon", last_name=f"Stone {state.value}", aliases="JJ")
    program.fire(people[0], "invite", forum_id=program.forum().id, method="letter")
    _check(api, user)

    status, body = api.post(f"/participants/{people[1].id}/review", json={"decision": "purge", "reason": "Moved."})
    assert status == 200, body
    _check(api, user)

    gone = program.create(first_name="Joel", last_name="Brandt", aliases="Jo-Jo")  # deleted outright: no history
    _check(api, user)
    db.session.delete(gone)
    db.session.commit()
    _check(api, user)

    auth.login(users["supervisor"])
    html = client.get("/participants/?q=jo&state=invited").get_data(as_text=True)
    assert "Johnson" in html
    assert "Garcia" not in html


def test_without_the_kept_rows_the_search_counts_off_its_index(users, api_as, make_participant):
    for first, last, aliases in NAMES:
        make_participant(users["caseworker"], first_name=first, last_name=last, aliases=aliases)
    db.session.execute(sa.delete(SearchGramCount))
    db.session.commit()
    assert search.kept("jo") is None
    api = api_as(users["caseworker"])
    for q in QUERIES:
        expected = _like(q)
        status, body = api.get(f"/participants?per_page=3&q={quote(q)}")
        assert status == 200, body
        assert (body["total"], [p["id"] for p in body["items"]]) == (len(expected), expected[:3]), q
        assert sum(read.state_counts(users["caseworker"], q=q).values()) == len(expected), q


def test_without_the_names_counts_a_long_search_counts_off_the_postings(users, api_as, make_participant):
    for first, last, aliases in NAMES * 3:
        make_participant(users["caseworker"], first_name=first, last_name=last, aliases=aliases)
    db.session.execute(sa.delete(SearchNameCount))
    db.session.commit()
    api = api_as(users["caseworker"])
    for q in [query for query in QUERIES if len(query) > GRAM_MAX]:
        expected = _like(q)
        status, body = api.get(f"/participants?per_page=3&q={quote(q)}")
        assert status == 200, body
        assert (body["total"], [p["id"] for p in body["items"]]) == (len(expected), expected[:3]), q
        tabs, _page = listing.participant_list(users["caseworker"], 1, 3, (), q=q)
        assert {s: len(_like(q, s.value)) for s in State} == tabs, q


def test_a_long_search_is_summed_off_the_names(users, api_as, make_participant):
    """A `q` longer than GRAM_MAX shared by many with one name: the total is summed off the names' counts (one
    statement reads them, with the aliases of those whose name does not hold it), on SQLite as on PostgreSQL."""
    for n in range(6):
        make_participant(users["caseworker"], first_name="Marcus", last_name="Johnson", aliases=None)
        make_participant(users["caseworker"], first_name="Andre", last_name=f"Hill {n}", aliases="Big Johnson")
    api = api_as(users["caseworker"])
    api.get("/participants?per_page=1")  # the token's first use written
    with counting() as statements:
        status, body = api.get("/participants?per_page=5&q=johnson")
    assert status == 200, body
    assert (body["total"], [p["id"] for p in body["items"]]) == (12, _like("johnson")[:5])
    summed = [s for s in statements if "FROM search_name_counts" in s]
    assert len(summed) == 1, statements


def test_a_bulk_seed_counts_the_pieces_anew(runner):
    result = runner.invoke(args=["seed-demo", "--participants", "1100"])
    assert result.exit_code == 0, result.output
    assert _kept() == _expected()
    kept, expected = _postings()
    assert kept == expected
    names, expected_names = _names()
    assert names == expected_names
    user = db.session.scalar(sa.select(User).where(User.role == Role.SUPERVISOR).order_by(User.id))
    for q, number in (("a", 2), ("jo", 2), ("jon", 2), ("e j", 2), ("johnson", 2), ("s johnson", 1)):
        expected = _like(q)
        tabs, page = listing.participant_list(user, number, 20, (), q=q)
        assert sum(tabs.values()) == len(expected), q
        assert [p.id for p in page.items] == expected[20 * (number - 1):20 * number], q
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Participant)) >= 1100


def test_a_flush_of_more_people_than_one_compound_select_holds_is_kept(users, api_as):
    """Each flush's changed names are one select a person, joined by UNION ALL; SQLite refuses more than 500 in one
    (a script or an import renaming 251 people in one commit would have failed). Here its limit is lowered to 8 and
    six people are renamed in one commit: 12 selects (their old names out, their new ones in), nested. On
    PostgreSQL, which has no such limit, the same changes are checked."""
    program = Program.build(users["supervisor"])
    api = api_as(users["supervisor"])
    people = [program.create(first_name=first, last_name=last, aliases=aliases) for first, last, aliases in NAMES[:6]]
    lower_compound_select_limit(8)
    loaded = list(db.session.scalars(sa.select(Participant).where(Participant.id.in_([p.id for p in people]))))
    for i, person in enumerate(loaded):  # all loaded first: a load would flush the renames before it one by one
        person.last_name = f"Renamed{i}"
    db.session.commit()
    _check(api, users["supervisor"])
    status, body = api.get("/participants?q=renamed")
    assert status == 200, body
    assert body["total"] == 6
