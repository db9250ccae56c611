"""The participant list sorted by state and filtered by supervision status (issue #12): each page holds the same
people in the same order as a plain sort of every row (the pipeline's order of states, then last name, first name,
id), the total and the tabs are the rows' own counts, the sort is read off its index rather than sorted, and the
supervision filter's tabs are read off the kept counts, which follow every change of supervision status."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa
from helpers import Program, counting, text

from ceasefire.extensions import db
from ceasefire.models import Group, Participant, TableCount, counts
from ceasefire.models.enums import State, SupervisionStatus
from ceasefire.models.search_counts import GRAM_MAX
from ceasefire.participants import views as participant_views
from ceasefire.services import participants as participant_service

PER_PAGE = 4
ORDER = list(State)
# Few names, so that people of one name in one state are told apart by their id.
NAMES = [("Ann", "Able"), ("Bo", "Baker"), ("ann", "Able"), ("Cy", "Cole"), ("Ann", "Able")]
STATUSES = list(SupervisionStatus)


@pytest.fixture
def people(users, monkeypatch) -> list[dict]:
    """37 participants spread over every state and supervision status, two of them purged."""
    monkeypatch.setattr(participant_views, "PER_PAGE", PER_PAGE)
    rows = [
        {"first_name": NAMES[i % len(NAMES)][0], "last_name": NAMES[i % len(NAMES)][1],
         "state": ORDER[i % len(ORDER)].value, "supervision_status": STATUSES[(i // 2) % len(STATUSES)].value,
         "version": 1, "identified_on": date(2026, 1, 1)}
        for i in range(37)
    ]
    db.session.execute(sa.insert(Participant), rows)
    ids = list(db.session.scalars(sa.select(Participant.id).order_by(Participant.id)))
    db.session.execute(sa.update(Participant).where(Participant.id.in_(ids[:2])).values(purged_at=sa.func.now()))
    counts.refresh(db.session)  # rows written around the ORM are counted again, as after a bulk seed
    db.session.commit()
    return [{**row, "id": i} for row, i in zip(rows, ids, strict=True)][2:]


def _ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<th scope="row"><a href="/participants/(\d+)">', html)]


def _tabs(html: str) -> dict[str, int]:
    nav = re.search(r'<nav class="tabs" aria-label="Participants by state">(.*?)</nav>', html, re.S)
    assert nav is not None
    return {label.strip(): int(n) for label, n in
            re.findall(r'>([^<>]+?) <span class="count-badge">(\d+)</span>', nav.group(1))}


def _expected(people: list[dict], sort: str | None, **filters: str) -> list[int]:
    chosen = [p for p in people if all(p[k] == v for k, v in filters.items())]
    if sort == "state":
        key = lambda p: (ORDER.index(State(p["state"])), p["last_name"], p["first_name"], p["id"])  # noqa: E731
    else:
        key = lambda p: (p["last_name"], p["first_name"], p["id"])  # noqa: E731
    return [p["id"] for p in sorted(chosen, key=key)]


@pytest.mark.parametrize("args", [
    {"sort": "state"},
    {"sort": "state", "state": "invited"},
    {"sort": "state", "supervision_status": "probation"},
    {"sort": "state", "supervision_status": "parole", "state": "closed"},
    {"supervision_status": "parole"},
    {"supervision_status": "none", "state": "identified"},
])
def test_every_page_of_the_state_order_and_the_supervision_filter_is_a_plain_sort(people, users, client, auth,
                                                                                  args):
    auth.login(users["supervisor"])
    filters = {k: v for k, v in args.items() if k != "sort"}
    expected = _expected(people, args.get("sort"), **filters)
    assert expected, "every case lists someone"
    pages = -(-len(expected) // PER_PAGE)
    seen = []
    for page in range(1, pages + 1):
        response = client.get("/participants/", query_string={**args, "page": page})
        assert response.status_code == 200
        seen += _ids(text(response))
    assert seen == expected
    html = text(client.get("/participants/", query_string=args))
    assert f"{len(expected)} participants found." in html or f"{len(expected)} participant found." in html
    others = {k: v for k, v in filters.items() if k != "state"}
    tabs = _tabs(html)
    assert tabs["All"] == len(_expected(people, None, **others))
    for state in State:
        label = state.value.replace("_", " ").capitalize()
        assert tabs[label] == len(_expected(people, None, state=state.value, **others)), label


def test_the_supervision_filters_tabs_are_read_not_counted(people, users, client, auth):
    auth.login(users["caseworker"])
    client.get("/participants/")
    db.session.expunge_all()
    with counting() as statements:
        response = client.get("/participants/?supervision_status=pretrial&sort=state&page=2")
    assert response.status_code == 200
    counted = [s for s in statements if "count(" in s.lower() and "FROM participants" in s]
    assert counted == [], "the supervision filter was counted off the participants, not read"


def test_the_state_order_is_read_off_its_index(people, users):
    """The ORDER BY is the indexed expression itself: the database walks the index, it sorts nothing."""
    query = participant_service.list_query(users["supervisor"], sort="state").limit(PER_PAGE)
    dialect = db.session.get_bind().dialect
    sql = str(query.with_only_columns(Participant.id).compile(dialect=dialect,
                                                               compile_kwargs={"literal_binds": True}))
    if dialect.name == "sqlite":
        plan = " ".join(str(row[-1]) for row in db.session.execute(sa.text("EXPLAIN QUERY PLAN " + sql)))
        assert "ix_participants_state_order" in plan, plan
        assert "TEMP B-TREE" not in plan, plan
    else:  # a few rows: the planner would rather sort them, unless told sorting is out
        db.session.execute(sa.text("SET LOCAL enable_sort = off"))
        db.session.execute(sa.text("SET LOCAL enable_seqscan = off"))
        plan = " ".join(row[0] for row in db.session.execute(sa.text("EXPLAIN " + sql)))
        db.session.rollback()
        assert "ix_participants_state_order" in plan, plan
        assert "Sort" not in plan, plan


def _kept_by_status() -> dict[tuple[str, str], int]:
    with db.engine.connect() as conn:
        return {(s, v): n for s, v, n in conn.execute(sa.text(
            "SELECT state, supervision_status, participants FROM participant_counts")) if n}


def _rows_by_status() -> dict[tuple[str, str], int]:
    with db.engine.connect() as conn:
        return {(s, v): n for s, v, n in conn.execute(sa.text(
            "SELECT state, supervision_status, count(*) FROM participants WHERE purged_at IS NULL "
            "GROUP BY state, supervision_status"))}


def test_the_counts_by_supervision_status_follow_create_update_events_and_purge(users, api_as):
    program = Program.build(users["supervisor"])
    api = api_as(users["supervisor"])
    assert _kept_by_status() == _rows_by_status() == {}
    person = program.create(supervision_status="probation")
    program.bring_to(State.INVITED, supervision_status="parole")
    assert _kept_by_status() == _rows_by_status() == {("identified", "probation"): 1, ("invited", "parole"): 1}
    status, body = api.patch(f"/participants/{person.id}", json={"version": person.version,
                                                                 "supervision_status": "pretrial"})
    assert status == 200, body
    assert _kept_by_status() == _rows_by_status() == {("identified", "pretrial"): 1, ("invited", "parole"): 1}
    status, body = api.post(f"/participants/{person.id}/review", json={"decision": "purge", "reason": "Moved."})
    assert status == 200, body
    assert _kept_by_status() == _rows_by_status() == {("invited", "parole"): 1}
    assert api.get("/participants?per_page=1")[1]["total"] == 1


@pytest.mark.parametrize("q", ["able", "b", "ann a", "nobody"])
def test_a_search_within_a_state_counts_its_matches_once(people, users, api_as, q):
    """The total of a search among a state, and whether to walk or sort its page, come from one count, or from
    the kept counts of a short `q`'s piece."""
    api = api_as(users["caseworker"])
    api.get("/participants?per_page=1")
    expected = [p["id"] for p in sorted(
        (p for p in people if p["state"] == "identified" and q in f"{p['first_name']} {p['last_name']}".lower()),
        key=lambda p: (p["last_name"], p["first_name"], p["id"]),
    )]
    db.session.expunge_all()
    with counting() as statements:
        status, body = api.get(f"/participants?per_page=50&state=identified&q={q}")
    assert status == 200, body
    assert (body["total"], [p["id"] for p in body["items"]]) == (len(expected), expected)
    counted = [s for s in statements if "count(" in s.lower() and "participants" in s]
    kept = [s for s in statements if s.startswith("SELECT search_gram_counts.")]  # the kept rows read
    # A short `q` is read off the kept counts of its piece (models.search_counts), a longer one counted once (and
    # the kept counts of its pieces read once, which choose the piece whose postings its page may walk).
    assert (len(counted), len(kept)) == ((0, 1) if len(q) <= GRAM_MAX else (1, 1)), statements


def test_the_forum_and_group_lists_read_their_kept_totals(users, api_as, client, auth, make_forum):
    """Forums and groups are counted as they are added, so their lists (API and pages) read the total; removed
    rows leave the count; rows written around the ORM are counted again by refresh; without the counts, the lists
    count, and stay right."""
    supervisor, police = api_as(users["supervisor"]), api_as(users["police"])
    for n in range(3):
        status, body = supervisor.post("/forums", json={"title": f"Call-in {n}",
                                                        "scheduled_at": "2027-03-01T17:00:00Z"})
        assert status == 201, body
    for n in range(2):
        status, body = police.post("/groups", json={"name": f"Crew {n}"})
        assert status == 201, body
    make_forum()
    auth.login(users["supervisor"])

    def totals() -> tuple[int, int]:
        return supervisor.get("/forums?per_page=1")[1]["total"], supervisor.get("/groups?per_page=1")[1]["total"]

    db.session.expunge_all()
    with counting() as statements:
        assert totals() == (4, 2)
    assert [s for s in statements if "count(" in s.lower()] == [], statements
    with counting() as statements:
        assert client.get("/forums/").status_code == 200
        assert client.get("/groups/").status_code == 200
    assert [s for s in statements if "count(*)" in s.lower() and ("FROM forums" in s or "FROM groups" in s)] == []
    db.session.delete(db.session.scalars(sa.select(Group).where(Group.name == "Crew 0")).one())
    db.session.commit()
    assert totals() == (4, 1)
    db.session.execute(sa.insert(Group), [{"name": "Bulk 1"}, {"name": "Bulk 2"}])
    db.session.commit()
    assert totals() == (4, 1)  # a load around the ORM is not seen ...
    counts.refresh(db.session)
    db.session.commit()
    assert totals() == (4, 3)  # ... until refresh counts again
    db.session.execute(sa.delete(TableCount).where(TableCount.table_name == "groups"))
    db.session.commit()
    assert totals() == (4, 3)  # not kept: counted


@pytest.mark.parametrize("state", [None, "identified", "closed"])
def test_a_searched_page_and_its_tabs_are_a_plain_scan_read_once(people, users, client, auth, state):
    """The list page of a name search reads its matches once for the tabs and the page (services/listing.py): every
    page, past the end included (the last one), and every tab equal a plain scan of the rows."""
    from ceasefire.services import listing

    user = users["caseworker"]
    for q in ("a", "An", "ann", "able", "b", "e ", "o", "co", "ann a", "zz", "%", "_"):
        needle = q.strip().lower()
        found = [p for p in people if needle in f"{p['first_name']} {p['last_name']}".lower()]
        listed = _expected(found, None, **({"state": state} if state else {}))
        pages = max(1, -(-len(listed) // PER_PAGE))
        for page in range(1, pages + 2):
            tabs, got = listing.participant_list(user, page, PER_PAGE, ("first_name", "last_name"),
                                                 q=q, **({"state": state} if state else {}))
            shown = min(page, pages)
            assert (got.page, got.total) == (shown, len(listed)), q
            assert [r.id for r in got.items] == listed[(shown - 1) * PER_PAGE:shown * PER_PAGE], (q, page)
            assert tabs == {s: len([p for p in found if p["state"] == s.value]) for s in State}, q
    auth.login(user)
    client.get("/participants/")
    db.session.expunge_all()
    with counting() as statements:
        html = text(client.get("/participants/", query_string={"q": "able", **({"state": state} if state else {})}))
    assert [s for s in statements if "FROM participants" in s and "count(" in s.lower()
            and "MATERIALIZED" not in s] == []  # the matches were read once, for the tabs and the page together
    assert _ids(html) == _expected([p for p in people if "able" in p["last_name"].lower()], None,
                                   **({"state": state} if state else {}))[:PER_PAGE]
