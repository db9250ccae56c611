"""Searching names and aliases (ceasefire.services.search): the substring match the lists always had, served by an
index (an FTS5 trigram table on SQLite, trigram GIN indexes on PostgreSQL). Each case's answer is worked out by
hand, so a run on SQLite and a run on PostgreSQL (TEST_DATABASE_URL) must both give it: the databases agree."""

from __future__ import annotations

from urllib.parse import quote

import pytest
import sqlalchemy as sa

from ceasefire.extensions import db

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


def test_sqlite_keeps_one_index_row_per_participant(users, make_participant):
    """On SQLite the search reads the FTS5 table: it holds exactly the participants' names and aliases."""
    if db.engine.dialect.name != "sqlite":
        rows = db.session.scalars(sa.text(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'participants' AND indexname LIKE '%_trgm'"
        )).all()
        assert sorted(rows) == ["ix_participants_aliases_trgm", "ix_participants_name_trgm"]
        return
    for first, last, aliases in PEOPLE:
        make_participant(users["caseworker"], first_name=first, last_name=last, aliases=aliases)
    indexed = db.session.execute(sa.text("SELECT rowid, name, aliases FROM participant_names ORDER BY rowid")).all()
    assert [(name, aliases) for _id, name, aliases in indexed] == [
        (f"{first} {last}", aliases or "") for first, last, aliases in PEOPLE
    ]
    plan = " ".join(str(row) for row in db.session.execute(sa.text(
        "EXPLAIN QUERY PLAN SELECT rowid FROM participant_names WHERE participant_names MATCH '\"son\"'"
    )))
    assert "VIRTUAL TABLE INDEX" in plan
