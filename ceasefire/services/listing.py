"""The participant list page: its tabs (how many in each state, within the other filters) and one page of it.

A name search is read once for both: its matches (found off the search index, services/search.py) are kept in a
materialized CTE of their ids, states and names, and one statement gives the count in each state and the page's
ids, sorted by name; the page's rows are then read by id. Counting the matches and then sorting them read every
matching row twice, which at a million participants is most of the page's time (a common `q` finds tens of
thousands). For a viewer who sees everyone and no filter but the state, the tabs are read instead off the kept
counts of a `q` of a few letters, or counted for a longer one off the postings of its rarest piece (or, when few
can match, off the search index: search.tabs), and the page is read as any other list's: a common `q` walks the
postings of its rarest piece, and needs no sort (services/search.py). Any other list counts its tabs and reads its
page as before (read.state_counts, read.participant_page).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ceasefire import policy
from ceasefire.extensions import db
from ceasefire.models import Participant, User
from ceasefire.models.enums import State
from ceasefire.services import participants as participant_service
from ceasefire.services import read, search
from ceasefire.services.records import Page, ParticipantRecord


def participant_list(user: User, page: int, per_page: int, only: tuple[str, ...],
                     **filters: Any) -> tuple[dict[State, int], Page[ParticipantRecord]]:
    """The tabs and the page (past the end: the last page) of the list with these filters."""
    q = filters.get("q")
    if q and search.needle(q) and (filters.get("sort") or "name") == "name" and policy.sees(user.role, "state"):
        kept = participant_service.search_tabs(user, **filters)
        if kept is None and participant_service.whole_list(user, **filters):
            kept = search.tabs(q)  # a longer `q`: its tabs off the postings of its rarest piece
        if kept is not None:  # its tabs counted in one statement, the page is walked or sorted (search.for_page)
            return kept, read.participant_page(user, page, per_page, clamp=True, only=only, tabs=kept, **filters)
        return _searched(user, page, per_page, only, filters)
    tabs = read.state_counts(user, **filters)
    return tabs, read.participant_page(user, page, per_page, clamp=True, only=only, tabs=tabs, **filters)


def _searched(user: User, page: int, per_page: int, only: tuple[str, ...],
              filters: dict[str, Any]) -> tuple[dict[State, int], Page[ParticipantRecord]]:
    state = filters.get("state") or None
    others = {name: value for name, value in filters.items() if name not in ("state", "sort")}
    policy.require(user, "participant.list")
    columns = (Participant.id, Participant.state, Participant.last_name, Participant.first_name)
    found = participant_service.filtered_query(user, sa.select(*columns), **others)
    matches = found.cte("matches").prefix_with("MATERIALIZED")
    tabs, ids = _read(matches, state, max(page, 1), per_page)
    total = tabs.get(State(state), 0) if state else sum(tabs.values())
    if page != Page.shown(page, total, per_page):  # past the end (or before the start): the nearest page, read again
        page = Page.shown(page, total, per_page)
        tabs, ids = _read(matches, state, page, per_page)
    rows = {p.id: p for p in db.session.scalars(sa.select(Participant).where(Participant.id.in_(ids)))} \
        if ids else {}
    records = read.participant_records(user, [rows[i] for i in ids], only)
    return tabs, Page(tuple(records), total, page, per_page)


def _read(matches: Any, state: str | None, page: int, per_page: int) -> tuple[dict[State, int], list[int]]:
    """The count of the matches in each state and the ids of the page, in one statement over the matches."""
    counted = sa.select(matches.c.state, sa.func.count().label("n"), sa.null().label("id")).group_by(matches.c.state)
    listed = sa.select(matches.c.id)
    if state:
        listed = listed.where(matches.c.state == state)
    listed_page = listed.order_by(matches.c.last_name, matches.c.first_name, matches.c.id) \
        .limit(per_page).offset((page - 1) * per_page).subquery()
    statement = sa.union_all(counted, sa.select(sa.null(), sa.null(), listed_page.c.id))
    tabs = dict.fromkeys(State, 0)
    ids = []
    for found_state, n, ident in db.session.execute(statement):
        if ident is None:
            tabs[State(found_state)] = n
        else:
            ids.append(ident)
    return tabs, ids
