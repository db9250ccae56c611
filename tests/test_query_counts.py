"""The forum page and every list, on both faces, run a fixed number of queries whatever the number of rows
(issue #7): the rows a page shows load what they share with the page, never one query per row.

Each path is fetched as a supervisor (who sees every field, so every related table is read) with 10 rows and
again with 200, everything on one page, counting the statements sent to the database."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from helpers import Program, counting

from ceasefire.audit import views as audit_views
from ceasefire.extensions import db
from ceasefire.forums import views as forum_views
from ceasefire.models import Group, Organization, Participant, Referral, Service, User
from ceasefire.models.base import today
from ceasefire.participants import views as participant_views
from ceasefire.referrals import views as referral_views
from ceasefire.services import catalog

SIZES = (10, 200)
PAGES = ("/participants/", "/forums/", "/referrals/", "/audit/", "/forums/{forum}")
API = ("/participants", "/forums", "/referrals", "/audit", "/forums/{forum}")


class Growing:
    """A program that grows to each size: participants in groups, with a caseworker, a community group, consent, a
    referral, an invitation to the one forum (some checked in, some no-shows, some enforced), and as many forums."""

    def __init__(self, users):
        program = Program.build(users["supervisor"], users["provider"].organization)
        groups = [Group(name=f"Group {i}", aliases=f"G{i}") for i in range(3)]
        db.session.add_all(groups)
        db.session.commit()
        forum = program.forum()
        # Ids, not rows: each measured request starts from an empty session.
        self.ids = {
            "supervisor": program.supervisor.id, "police_org": program.police_org.id, "service": program.service.id,
            "caseworker": users["caseworker"].id, "community_org": users["community"].organization_id,
            "forum": forum.id,
        }
        self.group_ids = [g.id for g in groups]
        self.when = forum.scheduled_at
        self.size = 0

    @property
    def forum_id(self) -> int:
        return self.ids["forum"]

    def grow_to(self, size: int) -> None:
        ids = self.ids
        program = Program(db.session.get(User, ids["supervisor"]), db.session.get(Organization, ids["police_org"]),
                          db.session.get(Service, ids["service"]))
        with program.batch():
            for i in range(self.size, size):
                p = program.create(
                    first_name=f"First{i}", last_name=f"Last{i:03}", aliases=f"Alias{i}", phone="(312) 555-0101",
                    group_id=self.group_ids[i % 3], caseworker_id=ids["caseworker"],
                    community_org_id=ids["community_org"], supervision_status="probation",
                )
                program.refer(p)
                program.fire(p, "invite", forum_id=ids["forum"], method="probation_condition" if i % 2 else "letter")
                if i % 4 == 1:
                    program.fire(p, "attend")
                elif i % 4 == 2:
                    program.fire(p, "enforce", action_type="arrest", occurred_on=today(),
                                 agency_id=ids["police_org"], description="Arrested.")
                elif i % 4 == 3:
                    program.fire(p, "no_show")
                catalog.create_forum(program.supervisor, f"Forum {i}", self.when)
        self.size = size
        assert db.session.scalar(sa.select(sa.func.count(Participant.id))) == size
        assert db.session.scalar(sa.select(sa.func.count(Referral.id))) == size


@pytest.fixture
def one_page(monkeypatch):
    """Every list page shows all its rows at once, so the count at 200 covers 200 rows."""
    for module in (participant_views, forum_views, referral_views, audit_views):
        monkeypatch.setattr(module, "PER_PAGE", 500)


def _queries(get, path: str) -> tuple[int, str]:
    db.session.expunge_all()  # as a fresh request finds it: nothing loaded yet
    with counting() as statements:
        status, body = get(path)
    assert status == 200, (path, body)
    return len(statements), body


def test_lists_and_the_forum_page_cost_the_same_at_10_and_200_rows(users, client, auth, api_as, one_page):
    world = Growing(users)
    api = api_as(users["supervisor"])
    auth.login(users["supervisor"])

    def page(path):
        response = client.get(path)
        return response.status_code, response.get_data(as_text=True)

    def api_get(path):
        return api.get(path + ("&" if "?" in path else "?") + "per_page=200")

    counts: dict[str, list[int]] = {}
    for size in SIZES:
        world.grow_to(size)
        # A token's last use and a session's are written at most once a minute: not what is counted here.
        api_get("/forums")
        page("/forums/")
        for path in PAGES:
            n, html = _queries(page, path.format(forum=world.forum_id))
            assert html.count("<tr") > size, path  # every row is on the page
            counts.setdefault(path, []).append(n)
        for path in API:
            n, body = _queries(api_get, path.format(forum=world.forum_id))
            rows = body["invitations"] if "{forum}" in path else body["items"]
            assert len(rows) >= size, path
            counts.setdefault("/api/v1" + path, []).append(n)
    unequal = {path: n for path, n in counts.items() if n[0] != n[1]}
    assert unequal == {}, f"queries at {SIZES[0]} and {SIZES[1]} rows differ: {unequal}"


def test_the_forum_page_offers_check_in_to_those_who_may_be_checked_in(users, client, auth, one_page):
    """What the page computes for all rows at once is what open_invitation said row by row."""
    world = Growing(users)
    world.grow_to(8)
    auth.login(users["police"])
    html = client.get(f"/forums/{world.forum_id}").get_data(as_text=True)
    # i % 4 == 0 are invited and waiting; 1 checked in, 2 enforced (their invitation closed), 3 no-shows.
    offered = {i for i in range(8) if f'aria-label="Check in First{i} Last{i:03}"' in html}
    assert offered == {0, 4}
    assert html.count("Checked in") == 2
    assert html.count("No-show") == 4
