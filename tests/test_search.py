"""Searching names and aliases (ceasefire.services.search): the substring match the lists always had, served by an
index (an FTS5 trigram table on SQLite, trigram GIN indexes on PostgreSQL). Each case's answer is worked out by
hand, so a run on SQLite and a run on PostgreSQL (TEST_DATABASE_URL) must both give it: the databases agree."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from helpers import counting
from helpers import text as html_of

from ceasefire.extensions import db
from ceasefire.models import Participant, SearchGramCount, User
from ceasefire.models.enums import Role, State
from ceasefire.participants import views as participant_views
from ceasefire.services import events, listing, read, retention, search
from ceasefire.services import participants as participant_service

PEOPLE = [
    ("Marcus", "Johnson", "Lil Man"),
    ("Jose", "Garcia", None),
    ("Andre", "Jones", "Dre"),
    ("Tyrell", "Hall", "Smoke"),
    ("Joan", "O'Neil", "50% off"),
    ("Kevin", "Ward_Lee", "back\\slash"),
    ("Zoë", "Moreno", "Jo"),
]

CASES = [
    ("jo", {"Marcus Johnson", "Jose Garcia", "Andre Jones", "Joan O'Neil", "Zoë Moreno"}),  # two letters: no trigram
    ("JOHN", {"Marcus Johnson"}),
    ("  son ", {"Marcus Johnson"}),
    ("s j", {"Marcus Johnson"}),  # across first and last name
    ("marcus johnson", {"Marcus Johnson"}),
    ("johnson lil", set()),  # never across the last name and the aliases
    ("dre", {"Andre Jones"}),  # the first name and the alias both hold it: once
    ("smoke", {"Tyrell Hall"}),
    ("oke", {"Tyrell Hall"}),
    ("o'n", {"Joan O'Neil"}),
    ("50%", {"Joan O'Neil"}),
    ("0% o", {"Joan O'Neil"}),
    ("%", {"Joan O'Neil"}),  # a wildcard is a letter like any other
    ("d_l", {"Kevin Ward_Lee"}),
    ("_", {"Kevin Ward_Lee"}),
    ("ard_", {"Kevin Ward_Lee"}),
    ("k\\s", {"Kevin Ward_Lee"}),
    ('"jo', set()),
    ("zoë", {"Zoë Moreno"}),
    ("ë mo", {"Zoë Moreno"}),
    ("xyz", set()),
    ("garciaa", set()),
]


def _names(api, q: str) -> set[str]:
    status, body = api.get(f"/participants?per_page=100&q={quote(q)}")
    assert status == 200, body
    return {f"{p['first_name']} {p['last_name']}" for p in body["items"]}


@pytest.fixture
def caseworker_api(users, api_as, make_participant):
    for first, last, aliases in PEOPLE:
        make_participant(users["caseworker"], first_name=first, last_name=last, aliases=aliases)
    return api_as(users["caseworker"])


@pytest.mark.parametrize(("q", "expected"), CASES, ids=[q for q, _ in CASES])
def test_search_finds_names_and_aliases_by_substring(caseworker_api, q, expected):
    assert _names(caseworker_api, q) == expected


# Names written in capitals with letters beyond ASCII, as a police export writes them: every letter is lowered alike
# on both databases (on SQLite by the app's own lower(), ceasefire.unicode_lower), in the list, its count and the
# roster.
CAPITALS = [("JOSÉ", "PEÑA", "ÑOÑO"), ("Zoë", "ÁLVAREZ", None), ("Ana", "Muñoz", "LA ÑAÑA"), ("Jose", "Pena", None)]
CAPITALS_CASES = [
    ("peña", {"JOSÉ PEÑA"}),
    ("PEÑA", {"JOSÉ PEÑA"}),
    ("eñ", {"JOSÉ PEÑA"}),  # two letters: the short pieces
    ("ñ", {"JOSÉ PEÑA", "Ana Muñoz"}),
    ("É", {"JOSÉ PEÑA"}),
    ("josé p", {"JOSÉ PEÑA"}),  # beyond four letters: the trigram index
    ("álvarez", {"Zoë ÁLVAREZ"}),
    ("ñaña", {"Ana Muñoz"}),  # an alias
    ("pena", {"Jose Pena"}),  # an accent is a letter of its own, as in every list
]


@pytest.mark.parametrize(("q", "expected"), CAPITALS_CASES, ids=[q for q, _ in CAPITALS_CASES])
def test_names_in_capitals_beyond_ascii_are_found_in_any_case(users, api_as, client, auth, make_participant,
                                                               make_forum, q, expected):
    forum = make_forum()
    for first, last, aliases in CAPITALS:
        person = make_participant(users["caseworker"], first_name=first, last_name=last, aliases=aliases)
        events.invite(users["caseworker"], person, person.version, forum.id, "letter")
    api = api_as(users["caseworker"])
    status, body = api.get(f"/participants?per_page=100&q={quote(q)}")
    assert status == 200
    assert {f"{p['first_name']} {p['last_name']}" for p in body["items"]} == expected
    assert body["total"] == len(expected)
    auth.login(users["caseworker"])
    roster = client.get(f"/forums/{forum.id}", query_string={"q": q}).get_data(as_text=True)
    assert roster.count('<tr id="p-') == len(expected)


def test_the_list_page_searches_alike(users, auth, client, make_participant):
    for first, last, aliases in PEOPLE:
        make_participant(users["caseworker"], first_name=first, last_name=last, aliases=aliases)
    auth.login(users["caseworker"])
    html = client.get("/participants/?q=" + quote("s j")).get_data(as_text=True)
    assert "Johnson" in html
    assert "Garcia" not in html


def test_the_index_follows_creates_and_renames(users, api_as, make_participant):
    api = api_as(users["caseworker"])
    status, created = api.post("/participants", json={"first_name": "Darnell", "last_name": "Whitfield"})
    assert status == 201, created
    assert _names(api, "whitf") == {"Darnell Whitfield"}

    status, _body = api.patch(f"/participants/{created['id']}", json={
        "version": created["version"], "last_name": "Okafor", "aliases": "Peanut",
    })
    assert status == 200, _body
    assert _names(api, "whitf") == set()
    assert _names(api, "okaf") == {"Darnell Okafor"}
    assert _names(api, "eanu") == {"Darnell Okafor"}

    status, body = api.get(f"/participants/{created['id']}")
    status, _body = api.patch(f"/participants/{created['id']}", json={"version": body["version"], "aliases": None})
    assert status == 200, _body
    assert _names(api, "eanu") == set()


def test_the_indexes_hold_the_lowered_names(users, make_participant):
    """SQLite: the trigram table holds each person's names and aliases as lower() writes them, and the pieces table
    finds them by each of their one- and two-letter pieces (hex words), by no other. PostgreSQL: the three indexes
    on expressions."""
    if db.engine.dialect.name != "sqlite":
        rows = db.session.scalars(sa.text(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'participants' AND indexname IN "
            "('ix_participants_name_trgm', 'ix_participants_aliases_trgm', 'ix_participants_name_grams')"
        )).all()
        assert len(rows) == 3
        return
    for first, last, aliases in PEOPLE:
        make_participant(users["caseworker"], first_name=first, last_name=last, aliases=aliases)
    indexed = db.session.execute(sa.text("SELECT rowid, name, aliases FROM participant_names ORDER BY rowid")).all()
    assert [(name, aliases) for _id, name, aliases in indexed] == [
        (f"{first} {last}".lower(), (aliases or "").lower())
        for first, last, aliases in PEOPLE
    ]
    andre = indexed[2][0]
    pieces = {t[i:i + n] for t in ("andre jones", "dre") for n in (1, 2) for i in range(len(t) - n + 1)}
    for piece in [*sorted(pieces), "x", "jz", "ej"]:
        found = db.session.scalars(sa.text("SELECT rowid FROM participant_grams WHERE participant_grams MATCH :w"),
                                   {"w": '"' + piece.encode().hex().upper() + '"'}).all()
        assert (andre in found) == (piece in pieces and " " not in piece), piece
    for sql in ("SELECT rowid FROM participant_names WHERE participant_names MATCH '\"son\"'",
                "SELECT rowid FROM participant_grams WHERE participant_grams MATCH '\"6A6F\"'"):
        plan = " ".join(str(row) for row in db.session.execute(sa.text("EXPLAIN QUERY PLAN " + sql)))
        assert "VIRTUAL TABLE INDEX" in plan


def _copy_of_the_names() -> list[tuple]:
    """The search's own copy of the names, by id: SQLite's trigram table (every participant, lowered name and
    aliases); PostgreSQL's narrow copy (ceasefire.models.participant_names: no purged participant, with the state
    and the names as they sort)."""
    if db.engine.dialect.name == "sqlite":
        return [tuple(row) for row in db.session.execute(sa.text(
            "SELECT rowid, name, aliases FROM participant_names ORDER BY rowid"))]
    return [tuple(row) for row in db.session.execute(sa.text(
        "SELECT id, state, last_name, first_name, name, aliases FROM participant_names ORDER BY id"))]


def _names_as_written() -> list[tuple]:
    """The same, worked out from the participants' rows as they are now."""
    people = db.session.scalars(sa.select(Participant).order_by(Participant.id)).all()
    if db.engine.dialect.name == "sqlite":
        return [(p.id, f"{p.first_name} {p.last_name}".lower(),
                 (p.aliases or "").lower()) for p in people]
    return [(p.id, p.state.value, p.last_name, p.first_name, f"{p.first_name} {p.last_name}".lower(),
             (p.aliases or "").lower()) for p in people if p.purged_at is None]


def test_the_search_copy_of_the_names_follows_every_change(users, make_participant, make_forum):
    """The names the search reads are kept in step with the participants, in the same transaction, through every
    change a user makes: a new person, a rename, new and cleared aliases, a step in the pipeline (the state, which
    PostgreSQL's copy keeps for the tabs), a purge (gone from PostgreSQL's copy, emptied in SQLite's)."""
    caseworker, supervisor = users["caseworker"], users["supervisor"]
    people = [make_participant(caseworker, first_name=first, last_name=last, aliases=aliases)
              for first, last, aliases in PEOPLE]
    db.session.commit()
    assert _copy_of_the_names() == _names_as_written()
    assert len(_copy_of_the_names()) == len(PEOPLE)

    renamed, cleared, invited, purged = people[0], people[2], people[3], people[4]
    participant_service.update_participant(caseworker, renamed, renamed.version,
                                           {"last_name": "OKAFOR", "aliases": "Peanut"})
    participant_service.update_participant(caseworker, cleared, cleared.version, {"aliases": None})
    events.invite(supervisor, invited, invited.version, make_forum(actor=supervisor).id, "letter")
    retention.purge(supervisor, purged, "test")
    db.session.commit()
    copy = _copy_of_the_names()
    assert copy == _names_as_written()
    assert any("marcus okafor" in row and "peanut" in row for row in copy)
    assert any(row[0] == cleared.id and row[-1] == "" for row in copy)
    if db.engine.dialect.name != "sqlite":
        assert (invited.id, "invited") in {row[:2] for row in copy}
        assert purged.id not in {row[0] for row in copy}


# Names to search many ways: some pieces common to many (a page walked down the name order), most rare (the
# matches sorted); letters outside ASCII in both cases (each database lowers them its own way, index and LIKE alike),
# wildcards, quotes, backslashes and spaces.
CROWD = [
    *[("Marcus", "Johnson", "Lil Man")] * 3, *[("Jose", "Garcia", None)] * 3, ("Andre", "Jones", "Dre"),
    ("Tyrell", "Hall", "Smoke"), ("Joan", "O'Neil", "50% off"), ("Kevin", "Ward_Lee", "back\\slash"),
    ("Zoë", "Moreno", "Jo"), ("ÉMILE", "DUBOIS", "Él"), ("Émile", "Dubois", None), ("Ana", "Núñez", "ÑO"),
    ("Li", "Wu", "A B"), ("Jo", "Jo", "jojo"), ("D'Andre", "St. James", "Big \"D\""), ("Sam", "Lee", "  spaced  "),
    ("Maria", "Lopez", None), ("Maria", "Lopez", "Mari"), ("Terrence", "Hill", "T"), ("Ángel", "Cruz", "ángel"),
]


def _like(q: str) -> list[int]:
    """Today's match, row by row: the page order's ids of the participants whose lowered name or aliases contain
    the lowered `q` (LIKE, wildcards escaped)."""
    needle = q.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return list(db.session.scalars(sa.text(
        "SELECT id FROM participants WHERE purged_at IS NULL AND (lower(first_name || ' ' || last_name) LIKE :p "
        "ESCAPE '\\' OR lower(aliases) LIKE :p ESCAPE '\\') ORDER BY last_name, first_name, id"
    ), {"p": f"%{needle}%"}))


def _queries() -> list[str]:
    """Every piece of one to five letters and of seven of the names and aliases, as written and lowered, and a few
    more (none matching: one piece no one holds, a piece of each of two names)."""
    found = {"xyz", "%", "_", "\\", '"', "'", "a b", "  jo  ", "JO", "zz", "é", "É", "ñ", "Ñ", "o'n", "s j",
             "johnsonx", "xjohnson", "jose jones", "marcus hall"}
    for first, last, aliases in CROWD:
        for text in (f"{first} {last}", aliases or ""):
            for n in (1, 2, 3, 4, 5, 7):
                for i in range(len(text) - n + 1):
                    found |= {text[i:i + n], text[i:i + n].lower()}
    return sorted(q for q in found if q.strip())


def _check_every_query(user, per_page: int = 4, longer_than: int = 0) -> int:
    """Each query (of more than `longer_than` letters) through the list's search (the API's service) against the
    LIKE scan: the same total, the same first two pages, the same count in the list's state tabs. Returns how many
    queries were checked."""
    queries = [q for q in _queries() if len(q.strip()) > longer_than]
    for q in queries:
        expected = _like(q)
        identified = [i for i in expected if db.session.get(Participant, i).state == "identified"]
        for page in (1, 2):
            got = read.participant_page(user, page, per_page, q=q)
            assert got.total == len(expected), q
            assert [p.id for p in got.items] == expected[(page - 1) * per_page:page * per_page], (q, page)
            tabs, listed = listing.participant_list(user, page, per_page, (), q=q)  # the list page's
            assert (sum(tabs.values()), listed.total) == (len(expected), len(expected)), q
            if page <= listed.pages:
                assert [p.id for p in listed.items] == expected[(page - 1) * per_page:page * per_page], (q, page)
        assert sum(read.state_counts(user, q=q).values()) == len(expected), q
        filtered = read.participant_page(user, 1, 50, q=q, state="identified")
        assert (filtered.total, [p.id for p in filtered.items]) == (len(identified), identified[:50]), q
        tabs, listed = listing.participant_list(user, 1, 50, (), q=q, state="identified")
        assert (tabs[State.IDENTIFIED], [p.id for p in listed.items]) == (len(identified), identified[:50]), q
    return len(queries)


def test_the_search_finds_exactly_what_a_like_scan_finds(users, make_participant, monkeypatch):
    """Hundreds of queries, each through the search and through a plain LIKE scan over every row, on whichever
    database the tests run (SQLite, or PostgreSQL with TEST_DATABASE_URL): the same participants in the same order,
    whether the page was walked down the name order (a common piece) or sorted from the index's matches (a rare
    one). A purged participant is found by neither, and a renamed one by its new name alone."""
    people = [make_participant(users["caseworker"], first_name=first, last_name=last, aliases=aliases)
              for first, last, aliases in CROWD]
    user = users["caseworker"]
    assert _check_every_query(user) > 300
    assert search.dense("jo")  # a page walked down the name order
    assert not search.dense("smoke")  # one match in 24: not walked down the name order, but ...

    def smoke() -> list[str]:
        with counting() as statements:
            read.participant_page(user, 1, 4, q="smoke")
            listing.participant_list(user, 1, 4, (), q="smoke")
            read.participant_page(user, 1, 4, q="smoke", state="identified")
        return statements

    # ... every holder of its rarest piece "mok" matches: each page walks that piece's postings, each compared
    walked = [s for s in smoke() if "ORDER BY search_postings" in s and ("strpos(" in s or "instr(" in s)]
    assert len(walked) == 3
    monkeypatch.setattr(search, "DENSE", 0)  # nothing dense enough to walk: sorted from the matches, off the
    statements = smoke()  # search's own table, no participant compared
    assert sum("participant_names" in statement for statement in statements) >= 3
    assert not any("lower(participants." in statement for statement in statements), statements
    # a long `q` counted off the index, not the postings, and every page sorted: the same
    assert _check_every_query(user, longer_than=search.GRAM_MAX) > 100
    monkeypatch.undo()
    with counting() as statements:  # four letters, most holders of its piece "ohn" match: that piece's postings
        assert read.participant_page(user, 1, 2, q="OHNS").total == 3
    walked = [s for s in statements if "search_postings" in s and ("strpos(" in s or "instr(" in s)]
    assert len(walked) == 1, statements

    retention.purge(users["supervisor"], people[0], "test")
    participant_service.update_participant(user, people[1], people[1].version, {"first_name": "Mark", "aliases": None})
    db.session.commit()
    assert _check_every_query(user) > 300
    assert read.participant_page(user, 1, 50, q="lil man").total == 1
    # The kept counts gone (a load around the hooks, before counts.refresh()): every search is counted and read
    # off the indexes alone, and finds the same.
    db.session.execute(sa.delete(SearchGramCount).where(SearchGramCount.gram == ""))
    db.session.commit()
    assert search.kept("jo") is None
    assert _check_every_query(user) > 300


def test_a_bulk_seeded_program_is_searched_alike(runner):
    """seed-demo in bulk fills the search indexes in one statement each (demo_bulk): they answer as the LIKE scan."""
    result = runner.invoke(args=["seed-demo", "--participants", "1100"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.role == Role.CASEWORKER).order_by(User.id))
    for q in ("a", "jo", "jon", "son", "JOHNSON", "e j", "lil", "xq", "z"):
        expected = _like(q)
        got = read.participant_page(user, 1, 20, q=q)
        assert (got.total, [p.id for p in got.items]) == (len(expected), expected[:20]), q


def test_a_short_search_is_read_off_its_postings_on_every_face(users, api_as, client, auth, make_forum,
                                                               make_participant, monkeypatch):
    """Every `q` of two letters (and some of three) for the list of everyone or of one state is read
    off the postings (search_postings), and finds what the LIKE scan finds, in its order, on every face: the API's
    list (two pages, and within a state), the list page, and the door's search of identified people not on the
    roster."""
    monkeypatch.setattr(participant_views, "PER_PAGE", 3)
    supervisor = users["supervisor"]
    people = [make_participant(users["caseworker"], first_name=first, last_name=last, aliases=aliases)
              for first, last, aliases in CROWD]
    forum = make_forum(actor=supervisor)
    for p in people[::3]:  # a third of them invited: the lists of one state differ from everyone's
        events.invite(supervisor, p, p.version, forum.id, "letter")
    db.session.commit()
    state = {p.id: p.state for p in people}
    api = api_as(supervisor)
    auth.login(supervisor)

    def posted(url: str, get) -> object:
        with counting() as statements:
            answer = get(url)
        assert any("search_postings" in s for s in statements), url
        return answer

    # Each two-letter piece once, as written where its letters are not all lower case, and some of three.
    pieces: dict[str, str] = {}
    for q in _queries():
        if len(search.needle(q)) == 2 or search.needle(q) in ("s j", "o'n", "ard", "émi", "ñez", "% o", "d_l"):
            pieces[search.needle(q)] = min(pieces.get(search.needle(q), q), q)
    queries = sorted(pieces.values())
    assert len(queries) > 100
    for q in queries:
        expected = _like(q)
        for page in (1, 2) if len(expected) > 3 else (1,):
            status, body = posted(f"/participants?per_page=3&page={page}&q={quote(q)}", api.get)
            assert status == 200, body
            assert (body["total"], [p["id"] for p in body["items"]]) == \
                (len(expected), expected[(page - 1) * 3:page * 3]), (q, page)
        invited = [i for i in expected if state[i] == State.INVITED]
        status, body = posted(f"/participants?per_page=3&q={quote(q)}&state=invited", api.get)
        assert (body["total"], [p["id"] for p in body["items"]]) == (len(invited), invited[:3]), q
        html = html_of(posted(f"/participants/?q={quote(q)}", client.get))
        assert [int(i) for i in re.findall(r'<th scope="row"><a href="/participants/(\d+)">', html)] == \
            expected[:3], q
        html = html_of(posted(f"/forums/{forum.id}/door?q={quote(q)}", client.get))
        identified = [i for i in expected if state[i] == State.IDENTIFIED]  # the invited are on the roster
        assert [int(i) for i in re.findall(r'<li class="door-row" id="c-(\d+)">', html)] == identified[:8], q


def test_each_connection_is_set_up_for_the_apps_reads(app, make_app):
    """Every connection the app opens is set up as it is opened: on PostgreSQL no statement starts parallel workers
    (starting them took 3.5 ms of a page of a name searched within a state, whose walk of postings took 0.3 ms); on
    SQLite foreign keys are enforced, the file is read through the operating system's page cache (as much of it as
    SQLITE_MMAP_BYTES says) and lower() lowers every letter."""
    from ceasefire.config import DEFAULT_SQLITE_MMAP_BYTES as SQLITE_MMAP_BYTES

    db.engine.dispose()  # a connection opened now
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            assert conn.exec_driver_sql("SHOW max_parallel_workers_per_gather").scalar() == "0"
            conn.rollback()  # the setting outlives a transaction rolled back: it was committed on opening
            assert conn.exec_driver_sql("SHOW max_parallel_workers_per_gather").scalar() == "0"
        else:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA mmap_size").scalar() == SQLITE_MMAP_BYTES
            assert conn.exec_driver_sql("SELECT lower('JOSÉ PEÑA Ω')").scalar() == "josé peña ω"
    bounded = make_app(SQLITE_MMAP_BYTES=64 << 20)
    with bounded.app_context(), db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA mmap_size").scalar() == 64 << 20
        else:  # PostgreSQL maps no file of its own: the setting is SQLite's alone
            assert conn.exec_driver_sql("SHOW max_parallel_workers_per_gather").scalar() == "0"
