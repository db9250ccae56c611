"""The audit trail's unfiltered total is kept (models.audit, sixteen shards added to at each commit), so that
`GET /audit` does not count millions of rows: it must still equal COUNT(*) of the trail after anything that audits,
after a rollback, and after a bulk load that went around the ORM."""

from __future__ import annotations

import re

import sqlalchemy as sa
from helpers import counting, text

from ceasefire import demo_bulk
from ceasefire.extensions import db
from ceasefire.models import AuditCount, AuditEvent, DirectoryCount, Organization, Service, User
from ceasefire.models.audit import SHARDS
from ceasefire.models.enums import OrgKind, Role
from ceasefire.services import audit, catalog


def _counted() -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))


def _total(api) -> int:
    """The API's total; the read itself is audited after it is counted, so COUNT(*) is one more afterwards."""
    status, body = api.get("/audit?per_page=5")
    assert status == 200
    assert _counted() == body["total"] + 1
    return body["total"]


def test_the_total_is_the_trails_count_after_every_kind_of_audited_request(client, auth, users, api_as):
    api = api_as(users["supervisor"])
    first = _total(api)
    assert first == _counted() - 1

    writer = api_as(users["caseworker"])
    status, p = writer.post("/participants", json={"first_name": "Ana", "last_name": "Diaz", "consent_to_share": True})
    assert status == 201  # a create
    api.get(f"/participants/{p['id']}")  # a read
    assert writer.patch(f"/participants/{p['id']}", json={"version": 1, "phone": "555-0101"})[0] == 200  # a write
    auth.login(users["caseworker"], "wrong password")  # a failed sign-in
    auth.login(users["supervisor"])
    assert client.get(f"/audit/export.csv?participant_id={p['id']}").status_code == 200  # an export
    auth.logout()

    second = _total(api)
    assert second > first + 4
    assert second == _counted() - 1


def test_filtered_totals_are_counted(users, api_as, make_participant):
    api = api_as(users["supervisor"])
    p = make_participant(users["caseworker"])
    api.get(f"/participants/{p.id}")
    status, body = api.get(f"/audit?participant_id={p.id}")
    assert status == 200
    assert body["total"] == 2 == len(body["items"])


def test_rows_of_a_transaction_rolled_back_are_not_counted(users, api_as):
    api = api_as(users["supervisor"])
    before = _total(api)
    audit.record(users["supervisor"], "view", detail="flushed, then rolled back")
    db.session.flush()
    db.session.rollback()
    audit.record(users["supervisor"], "view", detail="kept")
    db.session.commit()
    assert _total(api) == before + 2  # the row kept and the first read of the trail


def test_writers_spread_over_the_shards_and_the_statements_do_not_grow_with_the_trail(users, api_as):
    api = api_as(users["supervisor"])
    api.get("/audit")
    with counting() as small:
        api.get("/audit")
    for n in range(40):
        audit.record(users["supervisor"], "view", detail=str(n))
        db.session.commit()
    with counting() as large:
        api.get("/audit")
    assert len(large) == len(small)
    assert not any("count(" in s.lower() and "audit_events" in s.lower() for s in large)
    used = db.session.scalar(sa.select(sa.func.count()).select_from(AuditCount).where(AuditCount.events > 0))
    assert 1 < used <= SHARDS


def test_a_total_not_kept_is_counted(users, api_as):
    db.session.execute(sa.delete(AuditCount))  # rows missing: the reader counts, so a total is never wrong
    db.session.commit()
    _total(api_as(users["supervisor"]))


def test_seed_demo_in_bulk_leaves_the_total_exact(runner, api_as, monkeypatch):
    monkeypatch.setattr(demo_bulk, "BULK_ABOVE", 100)
    result = runner.invoke(args=["seed-demo", "--participants", "150"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    supervisor = db.session.scalars(sa.select(User).where(User.role == Role.SUPERVISOR)).first()
    assert _total(api_as(supervisor)) > 150
    kept = dict(db.session.execute(sa.select(DirectoryCount.name, DirectoryCount.rows)).all())
    keys = ("users_active", "users_inactive", "organizations", "services_active")
    assert tuple(kept[k] for k in keys) == _directory()


# The admin home's counts of users, organizations and services (models.directory_counts), kept the same way.


def _directory() -> tuple[int, int, int, int]:
    db.session.rollback()

    def count(model, *where) -> int:
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))

    return (count(User, User.active.is_(True)), count(User, User.active.is_(False)), count(Organization),
            count(Service, Service.active.is_(True)))


def _home(client) -> str:
    page = text(client.get("/admin/"))
    found = re.search(r"(\d+) active(?:, (\d+) deactivated)?\..*?(\d+) organizations?:.*?(\d+) services? taking",
                      page, re.S)
    assert found, page
    return tuple(int(n or 0) for n in found.groups())


def test_the_admin_home_counts_stay_exact_through_changes(client, auth, users, make_org, make_service):
    admin = users["admin"]
    auth.login(admin)
    assert _home(client) == _directory()
    org = make_org(OrgKind.PROVIDER)
    service = make_service(org)
    make_service(org, name="Housing")
    assert client.post(f"/admin/users/{users['caseworker'].id}/deactivate").status_code in (200, 302)
    assert _home(client) == _directory()
    assert _directory()[1] == 1
    catalog.update_service(admin, service, {"active": False})  # on a row a commit expired: read for its old value
    db.session.commit()
    assert client.post(f"/admin/users/{users['caseworker'].id}/reactivate").status_code in (200, 302)
    client.post(f"/admin/users/{users['police'].id}/deactivate")
    assert _home(client) == _directory()
    db.session.delete(db.session.get(Service, service.id))
    db.session.commit()
    assert _home(client) == _directory()


def test_the_admin_home_costs_the_same_at_any_size_and_counts_no_table(client, auth, users, make_org, make_user):
    auth.login(users["admin"])
    client.get("/admin/")
    db.session.expunge_all()
    with counting() as small:
        client.get("/admin/")
    for _ in range(10):
        make_user(Role.PROVIDER, make_org(OrgKind.PROVIDER))
    db.session.expunge_all()
    with counting() as large:
        client.get("/admin/")
    assert len(large) == len(small)
    assert not any("count(" in s.lower() for s in large)
    assert _home(client) == _directory()


def test_counts_not_kept_are_counted(client, auth, users):
    db.session.execute(sa.delete(DirectoryCount))
    db.session.commit()
    auth.login(users["admin"])
    assert _home(client) == _directory()
