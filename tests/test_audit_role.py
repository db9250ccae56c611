"""PostgreSQL only (tests/conftest.py does not collect this file on SQLite): the audit trail holds against the
database role the app runs as. The tables' owner runs the migrations and `db-grant`; the app connects as a role that
owns nothing, may only INSERT and SELECT on the trail, and so can neither rewrite it nor switch its triggers off.
The owner itself cannot TRUNCATE it either."""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from ceasefire import create_app
from ceasefire.extensions import db
from ceasefire.models import AuditEvent, Participant
from ceasefire.services import accounts, audit


@dataclass
class AppRole:
    name: str
    url: str
    engine: sa.Engine


def _admin_engine() -> sa.Engine:
    return sa.create_engine(os.environ["TEST_DATABASE_URL"], isolation_level="AUTOCOMMIT")


@pytest.fixture
def app_role(app) -> Iterator[AppRole]:
    """A LOGIN role of its own (roles are cluster-wide, so the name is unique), dropped afterwards however the
    test ends. It is given nothing here: the tests grant through the `db-grant` command."""
    name = f"ceasefire_app_{uuid.uuid4().hex[:12]}"
    password = secrets.token_urlsafe(16)
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {name} LOGIN PASSWORD '{password}'")
    url = sa.engine.make_url(os.environ["TEST_DATABASE_URL"]).set(username=name, password=password)
    role = AppRole(name, url.render_as_string(hide_password=False), sa.create_engine(url))
    try:
        yield role
    finally:
        role.engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :n"),
                         {"n": name})
            conn.exec_driver_sql(f"DROP OWNED BY {name}")
            conn.exec_driver_sql(f"DROP ROLE {name}")
        admin.dispose()


@pytest.fixture
def granted(app_role, runner) -> AppRole:
    result = runner.invoke(args=["db-grant", app_role.name])
    assert result.exit_code == 0, result.output
    return app_role


@pytest.fixture
def role_app(granted, app_config) -> Iterator:
    """The app itself, started with the role's DATABASE_URL as a deployment would."""
    other = create_app(app_config | {"SQLALCHEMY_DATABASE_URI": granted.url})
    try:
        yield other
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


def _some_audit_rows() -> list[tuple]:
    for detail in ("first", "second"):
        audit.record(None, "view", detail=detail)
    db.session.commit()
    return _audit_rows()


def _audit_rows() -> list[tuple]:
    db.session.expire_all()
    return list(db.session.execute(sa.select(AuditEvent.id, AuditEvent.action, AuditEvent.detail)
                                   .order_by(AuditEvent.id)))


def _privileges(role: str) -> dict[str, set[str]]:
    rows = db.session.execute(
        sa.text("SELECT table_name, privilege_type FROM information_schema.table_privileges WHERE grantee = :r"),
        {"r": role},
    )
    found: dict[str, set[str]] = {}
    for table, privilege in rows:
        found.setdefault(table, set()).add(privilege)
    return found


EXPECTED = {t.name: {"SELECT", "INSERT", "UPDATE", "DELETE"} for t in db.metadata.sorted_tables} | {
    "audit_events": {"SELECT", "INSERT"}, "participant_names": {"SELECT"},
}


def test_even_the_owner_cannot_truncate_the_audit_trail(app):
    before = _some_audit_rows()
    assert db.session.scalar(sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))
    with pytest.raises(DBAPIError, match="append-only: TRUNCATE refused"):
        db.session.execute(sa.text("TRUNCATE audit_events"))
    db.session.rollback()
    with pytest.raises(DBAPIError, match="append-only: TRUNCATE refused"):
        db.session.execute(sa.text("TRUNCATE users CASCADE"))  # which reaches the trail by its foreign key
    db.session.rollback()
    assert _audit_rows() == before


def test_db_grant_gives_the_role_what_the_app_needs_and_no_more(app_role, runner):
    result = runner.invoke(args=["db-grant", app_role.name])
    assert result.exit_code == 0, result.output
    assert f"GRANT SELECT, INSERT ON TABLE audit_events TO {app_role.name};" in result.output
    assert _privileges(app_role.name) == EXPECTED
    with app_role.engine.connect() as conn:
        sequences = conn.execute(sa.text(
            "SELECT sequencename, has_sequence_privilege(current_user, sequencename, 'USAGE') FROM pg_sequences"
        )).all()
    # Every table with an id of its own has its sequence; link tables (composite keys) have none.
    assert {name for name, usable in sequences if usable} == {
        f"{t.name}_id_seq" for t in db.metadata.sorted_tables if "id" in t.c
    }


def test_db_grant_again_takes_back_what_was_granted_by_hand(app_role, runner):
    assert runner.invoke(args=["db-grant", app_role.name]).exit_code == 0
    db.session.execute(sa.text(f"GRANT ALL ON audit_events, users TO {app_role.name}"))
    db.session.commit()
    assert "TRUNCATE" in _privileges(app_role.name)["audit_events"]
    result = runner.invoke(args=["db-grant", app_role.name])
    assert result.exit_code == 0, result.output
    db.session.rollback()
    assert _privileges(app_role.name) == EXPECTED


@pytest.mark.parametrize(
    ("statement", "refusal"),
    [
        ("UPDATE audit_events SET detail = 'rewritten'", "permission denied for table audit_events"),
        ("DELETE FROM audit_events", "permission denied for table audit_events"),
        ("TRUNCATE audit_events", "permission denied for table audit_events"),
        ("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only", "must be owner of table audit_events"),
        ("ALTER TABLE audit_events DISABLE TRIGGER ALL", "must be owner of table audit_events"),
        ("DROP TRIGGER audit_events_no_truncate ON audit_events", "must be owner of relation audit_events"),
        ("DROP TABLE audit_events", "must be owner of table audit_events"),
        ("SET session_replication_role = replica", "permission denied to set parameter"),
        ("UPDATE alembic_version SET version_num = 'x'", "alembic_version|permission denied"),
    ],
    ids=["update", "delete", "truncate", "disable-trigger", "disable-all-triggers", "drop-trigger", "drop-table",
         "replication-role", "alembic-version"],
)
def test_the_app_role_cannot_rewrite_or_unguard_the_audit_trail(granted, statement, refusal):
    before = _some_audit_rows()
    with granted.engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT count(*) FROM audit_events")) == len(before)
        with pytest.raises(DBAPIError, match=refusal):
            conn.exec_driver_sql(statement)
    assert _audit_rows() == before


def test_the_app_role_may_add_to_and_read_the_audit_trail(granted):
    before = _some_audit_rows()
    with granted.engine.begin() as conn:
        new_id = conn.scalar(sa.text(
            "INSERT INTO audit_events (at, action, detail) VALUES (now(), 'view', 'by the app role') RETURNING id"
        ))
        assert conn.scalar(sa.text("SELECT count(*) FROM audit_events")) == len(before) + 1
    assert _audit_rows() == [*before, (new_id, "view", "by the app role")]


def test_the_app_runs_as_the_role_and_writes_its_audit_rows(auth, granted, role_app, users, make_participant):
    caseworker = users["caseworker"]
    existing = make_participant(caseworker)
    _token, token = accounts.create_token(caseworker, "role test")
    db.session.commit()
    start = db.session.scalar(sa.select(sa.func.max(AuditEvent.id)))
    with role_app.app_context():
        assert db.session.scalar(sa.text("SELECT current_user")) == granted.name
        db.session.remove()

    client = role_app.test_client()
    response = auth.login(caseworker, client=client)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert client.get(f"/participants/{existing.id}").status_code == 200
    headers = {"Authorization": f"Bearer {token}"}
    created = client.post("/api/v1/participants", json={"first_name": "Role", "last_name": "Tested"}, headers=headers)
    assert created.status_code == 201, created.get_json()
    pid = created.get_json()["id"]
    patched = client.patch(f"/api/v1/participants/{pid}", json={"version": 1, "phone": "555-0142"}, headers=headers)
    assert patched.status_code == 200, patched.get_json()
    closed = client.post(f"/api/v1/participants/{pid}/events", json={"event": "close", "version": 2,
                                                                     "reason": "moved"}, headers=headers)
    assert closed.status_code == 200, closed.get_json()

    db.session.expire_all()
    participant = db.session.get(Participant, pid)
    assert (participant.phone, participant.state, participant.version) == ("555-0142", "closed", 3)
    rows = db.session.execute(sa.select(AuditEvent.action, AuditEvent.object_id, AuditEvent.face)
                              .where(AuditEvent.id > start).order_by(AuditEvent.id)).all()
    assert [tuple(r) for r in rows] == [("sign_in", caseworker.id, "web"), ("view", existing.id, "web"),
                                        ("create", pid, "api"), ("update", pid, "api"), ("event", pid, "api")]


def test_db_grant_refuses_an_owner_an_unknown_role_and_a_non_owner_caller(granted, runner, role_app):
    owner = db.session.scalar(sa.text("SELECT current_user"))
    before = _privileges(granted.name)

    result = runner.invoke(args=["db-grant", owner])
    assert result.exit_code == 1
    assert f"{owner} is a superuser or a member of {owner}, which owns the tables" in result.output

    result = runner.invoke(args=["db-grant", "no_such_role_" + uuid.uuid4().hex[:8]])
    assert result.exit_code == 1
    assert "No database role named" in result.output

    with role_app.app_context():  # the command runs in the current app's context: the role's, here
        result = role_app.test_cli_runner().invoke(args=["db-grant", granted.name])
    assert result.exit_code == 1
    assert "Run this as the tables' owner" in result.output
    assert "Traceback" not in result.output

    db.session.execute(sa.text(f"GRANT {owner} TO {granted.name}"))  # a member of the owner acts as the owner
    db.session.commit()
    result = runner.invoke(args=["db-grant", granted.name])
    assert result.exit_code == 1
    assert f"{granted.name} is a superuser or a member of {owner}" in result.output
    assert _privileges(granted.name) == before
