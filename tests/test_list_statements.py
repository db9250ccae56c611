"""Every list page and list endpoint, filtered, searched and paged deep, sends at most ten statements to the
database, and the same number at 30 participants as at 120 (issue #12); the audit trail's export streams."""

from __future__ import annotations

import sqlalchemy as sa
from helpers import Program, counting, sent, sqlite_plan
from test_query_counts import Growing

from ceasefire.extensions import db
from ceasefire.models import AuditEvent
from ceasefire.services import audit

SIZES = (30, 120)
LIMIT = 10


def _paths(group_id: int) -> list[tuple[str, str]]:
    """Each list with its filters and a deep page: (path, query string)."""
    return [
        ("/participants", ""), ("/participants", "page=3"), ("/participants", "state=invited"),
        ("/participants", "state=attended&page=2"), ("/participants", f"group_id={group_id}"),
        ("/participants", f"group_id={group_id}&page=2"), ("/participants", "q=last0"),
        ("/participants", "q=st1&page=2"), ("/participants", "q=la"), ("/participants", "q=st1&state=invited"),
        ("/participants", "q=la&state=attended&page=2"),
        ("/referrals", ""), ("/referrals", "page=3"), ("/referrals", "status=sent"),
        ("/referrals", "status=sent&page=2"),
        ("/forums", ""), ("/forums", "page=2"), ("/audit", ""), ("/audit", "page=4"), ("/audit", "action=create"),
    ]


# The page's own filters and orders, which the API has not.
PAGE_ONLY = [("/participants", "sort=state"), ("/participants", "sort=state&page=2"),
             ("/participants", "sort=state&state=invited"), ("/participants", "supervision_status=probation&page=2"),
             ("/participants", "supervision_status=probation&state=attended&sort=state")]


def test_lists_send_at_most_ten_statements_at_every_size(users, client, auth, api_as, monkeypatch):
    from ceasefire.audit import views as audit_views
    from ceasefire.forums import views as forum_views
    from ceasefire.participants import views as participant_views
    from ceasefire.referrals import views as referral_views

    for module in (participant_views, forum_views, referral_views, audit_views):
        monkeypatch.setattr(module, "PER_PAGE", 5)
    world = Growing(users)
    api = api_as(users["supervisor"])
    auth.login(users["supervisor"])
    api.get("/forums")  # the token's and the session's once-a-minute writes are not what is counted
    client.get("/forums/")

    counts: dict[str, list[int]] = {}
    for size in SIZES:
        world.grow_to(size)
        api.get("/forums")  # growing may have taken over a minute: the once-a-minute writes fall here, uncounted
        client.get("/forums/")
        urls = [(face, url) for path, query in _paths(world.group_ids[0])
                for face, url in (("page", f"{path}/?{query}"), ("api", f"{path}?per_page=5&{query}"))]
        for face, url in urls + [("page", f"{path}/?{query}") for path, query in PAGE_ONLY]:
            db.session.expunge_all()  # as a fresh request finds it: nothing loaded yet
            with counting() as statements:
                status = client.get(url).status_code if face == "page" else api.get(url)[0]
            assert status == 200, url
            if face == "api":  # every page asked for has rows at both sizes, so their cost is compared
                assert api.get(url)[1]["items"], url
            counts.setdefault(f"{face} {url}", []).append(len(statements))
    over = {url: n for url, n in counts.items() if max(n) > LIMIT}
    assert over == {}, f"more than {LIMIT} statements: {over}"
    unequal = {url: n for url, n in counts.items() if n[0] != n[1]}
    assert unequal == {}, f"statements at {SIZES[0]} and {SIZES[1]} participants differ: {unequal}"


def test_the_lists_typed_filters_cost_the_same_at_every_size(users, client, auth, monkeypatch):
    """A large program's list: its group, caseworker and forum filters are typed names (lookup.THRESHOLD), by an id
    from a link, a name resolved, a name that fits several, none, or a start of one."""
    from ceasefire.participants import views as participant_views
    from ceasefire.services import lookup

    monkeypatch.setattr(participant_views, "PER_PAGE", 5)
    monkeypatch.setattr(lookup, "THRESHOLD", 0)
    world = Growing(users)
    auth.login(users["supervisor"])
    client.get("/participants/")
    linked = ["", f"group_id={world.group_ids[0]}", f"caseworker_id={users['caseworker'].id}&page=2",
              f"forum_id={world.forum_id}&state=invited"]
    typed = ["group=group%201&state=invited", "group=grou", "caseworker=test%20caseworker", "forum=nowhere",
             f"group=Group%202&group_id={world.group_ids[1]}"]
    counts: dict[str, list[int]] = {}
    for size in SIZES:
        world.grow_to(size)
        client.get("/participants/")  # the session's once-a-minute write, uncounted
        for query in linked + typed:
            db.session.expunge_all()
            with counting() as statements:
                status = client.get(f"/participants/?{query}").status_code
            assert status in (200, 422), query
            counts.setdefault(query, []).append(len(statements))
    assert {q: n for q, n in counts.items() if n[0] != n[1]} == {}
    # From a link (an id) or by a typed name as few as a small program's list (the rows named so are read with the
    # filter's choices); a name no row has answers 422 with the names starting so, off the names' indexes.
    assert {q: counts[q] for q in linked + typed[:1] + typed[2:3] + typed[4:] if max(counts[q]) > LIMIT} == {}
    assert {q: counts[q] for q in typed if max(counts[q]) > LIMIT + 2} == {}


def test_the_audit_export_streams_every_row(users, client, auth):
    program = Program.build(users["supervisor"])
    for n in range(2100):
        audit.record(program.supervisor, "view", "participant", n + 1)
    db.session.commit()
    auth.login(users["supervisor"])
    rows = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))
    response = client.get("/audit/export.csv")
    assert response.status_code == 200
    assert response.is_streamed
    lines = response.get_data(as_text=True).splitlines()
    # The header, then every row there was when the export began (the export's own row is written first).
    assert lines[0] == "at,user_id,user_name,action,action_words,object_type,object_id,object_name,participant_id,"\
                       "participant_name,ip,face,detail"
    assert len(lines) == 1 + rows + 1


def _plan_of_page(api, url: str) -> str:
    """SQLite's plan of the statement that reads the page's participants, as the API sends it."""
    with sent() as statements:
        status, body = api.get(url)
    assert status == 200, url
    assert body["items"], url
    [(statement, parameters)] = [(s, p) for s, p in statements if "FROM participants" in s and "LIMIT" in s]
    return sqlite_plan(statement, parameters)


def test_a_page_of_participants_is_read_off_the_index_of_its_order(users, make_participant, api_as):
    """SQLite without statistics took `purged_at IS NULL` (true of nearly every row) for a narrow condition: it read
    every participant through that column's index and sorted them all for a page. The page is read off the index of
    the list's order (or of its filter and the order), never sorted whole."""
    for n in range(6):
        make_participant(users["caseworker"], last_name=f"Plan{n}")
    api = api_as(users["caseworker"])
    if db.engine.dialect.name != "sqlite":  # PostgreSQL keeps statistics and plans by them: the list still answers
        assert api.get("/participants?per_page=5")[0] == 200
        return
    for url, index in (("/participants?per_page=5", "ix_participants_last_first"),
                       ("/participants?per_page=5&state=identified", "ix_participants_state_by_name")):
        plan = _plan_of_page(api, url)
        assert index in plan, plan
        assert "TEMP B-TREE" not in plan, plan
