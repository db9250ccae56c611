"""Fixtures: a fresh database per test (SQLite by default, PostgreSQL with TEST_DATABASE_URL), clients for
the pages and the API, `auth` to sign in through the form, `csrf_on` for the tests that check CSRF protection,
and factories that make records through the same services people use. Plain helpers live in tests/helpers.py."""

from __future__ import annotations

import itertools
import os
import shutil
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import current_app, g
from helpers import PASSWORD, csrf_token_of

from ceasefire import create_app
from ceasefire.extensions import db
from ceasefire.models import Organization, Participant, User, counts
from ceasefire.models.audit import refresh_kept_total
from ceasefire.models.directory_counts import refresh_directory_counts
from ceasefire.models.enums import OrgKind, Role
from ceasefire.services import accounts, catalog
from ceasefire.services import participants as participant_service


def _worker_database() -> None:
    """Under pytest-xdist each worker gets a PostgreSQL database of its own (`<name>_gw0`, ...), created when missing,
    and TEST_DATABASE_URL names it for the rest of the worker's run, the tests that read it included."""
    url, worker = os.environ.get("TEST_DATABASE_URL"), os.environ.get("PYTEST_XDIST_WORKER")
    if not (url and worker and url.startswith("postgresql")):
        return
    base = sa.engine.make_url(url)
    name = f"{base.database}_{worker}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if not conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        admin.dispose()
    os.environ["TEST_DATABASE_URL"] = base.set(database=name).render_as_string(hide_password=False)


_worker_database()


def _keep_url_builders() -> None:
    """Each test builds an app, and werkzeug writes, parses and compiles two URL builders for each of the app's rules
    (about 75 ms an app, a quarter of the suite's time). A builder reads nothing of its rule but the rule's text, its
    defaults and its parts (it takes the rule as its first argument), so the suite keeps each builder it has compiled
    and hands it to the next rule of the same text, defaults and parts."""
    from werkzeug.routing.rules import Rule

    compile_builder = Rule._compile_builder
    kept: dict[tuple, object] = {}

    def kept_builder(self, append_unknown=True):
        defaults = tuple(sorted((k, repr(v)) for k, v in (self.defaults or {}).items()))
        key = (self.rule, self.subdomain, self.host, tuple(self._trace), defaults, append_unknown)
        if key not in kept:
            kept[key] = compile_builder(self, append_unknown)
        return kept[key]

    Rule._compile_builder = kept_builder


_keep_url_builders()


def _keep_compiled_statements() -> None:
    """Each test's app has an engine of its own, and SQLAlchemy keeps the SQL it compiles by engine (its cache keys
    hold the dialect): every test compiled again what the last one had (a third of the suite's time). So the
    engines of one kind of database, made with the same options, share the dialect and compiled-SQL cache of the
    first one of them that has connected (a dialect learns its server's version then)."""
    from flask_sqlalchemy import SQLAlchemy

    make_engine = SQLAlchemy._make_engine
    first: dict[tuple, sa.Engine] = {}

    def kept_engine(self, bind_key, options, app):
        engine = make_engine(self, bind_key, options, app)
        url = engine.url
        settings = repr(sorted((k, repr(v)) for k, v in options.items() if k != "url"))
        key = (url.drivername, url.host, url.port, url.username, settings)
        shared = first.get(key)
        if shared is not None and shared.dialect.server_version_info is not None:
            engine.dialect = shared.dialect
            engine._compiled_cache = shared._compiled_cache
        else:
            first[key] = engine
        return engine

    SQLAlchemy._make_engine = kept_engine


_keep_compiled_statements()

# Database roles are a PostgreSQL matter: on SQLite the tests of the app's role are not collected at all.
collect_ignore = [] if os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql") else ["test_audit_role.py"]
_counter = itertools.count(1)


def _config(url: str) -> dict:
    return {
        "TESTING": True,
        "ENV_NAME": "testing",
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 64,  # argon2's floor is 8 KiB a lane
        "MFA_REQUIRED_ROLES": frozenset(),  # tests/test_security.py turns it on
        "TIMEZONE": "UTC",  # whatever the environment says; tests that need another zone set it
    }


def _create_schema(url: str) -> None:
    app = create_app(_config(url))
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.session.remove()
        db.engine.dispose()


def _commit_without_waiting(url: str) -> None:
    """PostgreSQL: a commit of the test database does not wait for its WAL to reach the disk (synchronous_commit
    off, for the connections opened from now on), as SQLite's tests skip the file sync: a test database need not
    survive a power cut, and the suite commits thousands of times."""
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            name = conn.scalar(sa.text("SELECT current_database()"))
            conn.exec_driver_sql(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def _template(tmp_path_factory) -> str:
    """PostgreSQL: the schema, built once (each test empties it). SQLite: a template file each test copies."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        _create_schema(url)
        _commit_without_waiting(url)
        return url
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    _create_schema(f"sqlite:///{path}")
    return str(path)


@pytest.fixture
def database_url(_template, tmp_path) -> str:
    """A fresh database for each test."""
    if os.environ.get("TEST_DATABASE_URL"):
        return _template
    path = tmp_path / "test.sqlite"
    shutil.copyfile(_template, path)
    return f"sqlite:///{path}"


def _no_sqlite_sync() -> None:
    """On SQLite, skip the file sync of every commit: a test database need not survive a power cut."""
    if db.engine.dialect.name != "sqlite":
        return

    @sa.event.listens_for(db.engine, "connect")
    def _no_sync(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.execute("PRAGMA journal_mode=MEMORY")
        cursor.close()


def _empty_tables() -> None:
    """Empty every table back to a new database's rows and restart every sequence. The first test of a worker (in a
    time zone) does it statement by statement, as the superuser with triggers off for this transaction (the audit
    trail refuses DELETE otherwise), and the kept counts recounted; the rows that leaves are then written into one
    script, which every later test sends in one round trip (about 80 statements each sent apart took 300-500 ms a
    test on a busy machine). DELETE, not TRUNCATE: on tables this small TRUNCATE's new files cost more."""
    if db.engine.dialect.name != "postgresql":
        return
    zone = current_app.config.get("TIMEZONE") or "UTC"
    script = _EMPTY.get(zone)
    if script is None:
        _empty_tables_one_by_one()
        _EMPTY[zone] = _empty_script()
    else:
        db.session.connection().exec_driver_sql(script)
    db.session.commit()


_EMPTY: dict[str, str] = {}  # by TIMEZONE (the activity report's days are kept in the program's zone)
# The narrow copy of the names (ceasefire.models.participant_names), kept by a trigger that is off while emptying.
_EMPTY_NAMES = "DELETE FROM participant_names"
_RESTART_SEQUENCES = (
    "SELECT setval(c.oid, 1, false) FROM pg_class c WHERE c.relkind = 'S' AND c.relnamespace = 'public'::regnamespace"
)


def _empty_tables_one_by_one() -> None:
    db.session.execute(sa.text("SET LOCAL session_replication_role = replica"))
    for table in db.metadata.sorted_tables:
        db.session.execute(table.delete())
    db.session.execute(sa.text(_EMPTY_NAMES))
    counts.refresh(db.session)  # every state at zero, as a new database starts
    refresh_kept_total(db.session)  # the trail's total at zero
    refresh_directory_counts(db.session)
    db.session.execute(sa.text(_RESTART_SEQUENCES))


def _empty_script() -> str:
    """The statements that leave the tables as they are now (just emptied): a DELETE of each, the rows left written
    back as literals, the sequences restarted."""
    dialect = db.engine.dialect
    lines = ["SET LOCAL session_replication_role = replica"]
    lines += [str(table.delete().compile(dialect=dialect)) for table in db.metadata.sorted_tables]
    lines.append(_EMPTY_NAMES)
    for table in db.metadata.sorted_tables:
        rows = [dict(row) for row in db.session.execute(sa.select(table)).mappings()]
        if rows:
            insert = table.insert().values(rows)
            lines.append(str(insert.compile(dialect=dialect, compile_kwargs={"literal_binds": True})))
    lines.append(_RESTART_SEQUENCES)
    return ";\n".join(lines)


@pytest.fixture
def app_config(database_url) -> dict:
    """Override in a test module (or a test's parametrize) to change settings."""
    return _config(database_url)


def _forget_request_state() -> None:
    g.pop("_login_user", None)
    g.pop("csrf_token", None)


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    # Requests reuse the test's app context, and with it `g`, where Flask-Login caches the signed-in user and
    # Flask-WTF the CSRF token: forget both before each request, as the fresh context of a real request would.
    app.before_request_funcs.setdefault(None, []).insert(0, _forget_request_state)
    with app.app_context():
        _no_sqlite_sync()
        _empty_tables()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def make_app(app_config):
    """Another app on the test database with some settings changed; its connections are closed afterwards."""
    made = []

    def make(**overrides):
        other = create_app(app_config | overrides)
        made.append(other)
        return other

    yield make
    for other in made:
        with other.app_context():
            db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# Factories


@pytest.fixture
def make_org(app):
    def make(kind: OrgKind | str = OrgKind.PROVIDER, name: str | None = None) -> Organization:
        org = Organization(name=name or f"{kind} org {next(_counter)}", kind=OrgKind(kind))
        db.session.add(org)
        db.session.commit()
        return org

    return make


_ROLE_ORG = {Role.POLICE: OrgKind.POLICE, Role.PROVIDER: OrgKind.PROVIDER, Role.COMMUNITY: OrgKind.COMMUNITY}


@pytest.fixture
def make_user(app, make_org):
    def make(role: Role | str, organization: Organization | None = None, email: str | None = None) -> User:
        role = Role(role)
        if organization is None and role in _ROLE_ORG:
            organization = make_org(_ROLE_ORG[role])
        user = accounts.create_user(
            None,
            email or f"{role}{next(_counter)}@example.org",
            f"Test {role}",
            role,
            PASSWORD,
            organization.id if organization else None,
        )
        db.session.commit()
        return user

    return make


@pytest.fixture
def users(make_user, make_org) -> dict[str, User]:
    """One user of each role; provider and community users have organizations of their own."""
    return {role.value: make_user(role) for role in Role}


class ApiClient:
    """The test client with a bearer token: `api.get("/participants")` -> (status, json)."""

    def __init__(self, client, token: str):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def request(self, method: str, path: str, json=None, **kwargs):
        response = self.client.open(
            "/api/v1" + path, method=method, json=json, headers=self.headers, **kwargs
        )
        return response.status_code, response.get_json(silent=True)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json=None, **kw):
        return self.request("POST", path, json=json, **kw)

    def patch(self, path, json=None, **kw):
        return self.request("PATCH", path, json=json, **kw)


@pytest.fixture
def api_as(client):
    def make(user: User) -> ApiClient:
        _token, plain = accounts.create_token(user, "test")
        db.session.commit()
        return ApiClient(client, plain)

    return make


@pytest.fixture
def make_participant(app, make_user):
    def make(actor: User | None = None, **fields) -> Participant:
        actor = actor or make_user(Role.SUPERVISOR)
        data = {"first_name": "Test", "last_name": f"Person{next(_counter)}"} | fields
        if actor.role == Role.POLICE:
            data.setdefault("identification_basis", "Named in a shooting review.")
        participant = participant_service.create_participant(actor, data)
        db.session.commit()
        return participant

    return make


@pytest.fixture
def make_forum(app, make_user):
    def make(when: datetime | None = None, status: str = "planned", actor: User | None = None):
        """A forum held today by default (an hour ago), so that its invitees may be checked in."""
        actor = actor or make_user(Role.SUPERVISOR)
        forum = catalog.create_forum(actor, f"Forum {next(_counter)}", when or datetime.now(UTC) - timedelta(hours=1),
                                     location="Community center")
        forum.status = status
        db.session.commit()
        return forum

    return make


@pytest.fixture
def make_service(app, make_org):
    def make(organization: Organization | None = None, name: str = "Job readiness", category: str = "employment"):
        from ceasefire.models import Service

        organization = organization or make_org(OrgKind.PROVIDER)
        service = Service(organization_id=organization.id, name=name, category=category)
        db.session.add(service)
        db.session.commit()
        return service

    return make


class Auth:
    """Sign in and out through the real form: `auth.login(user)` on the test's client, or on another browser with
    `auth.login(user, client=tablet)`. Each answers the response."""

    def __init__(self, client):
        self.client = client

    def login(self, user: User, password: str = PASSWORD, *, client=None):
        client = client or self.client
        return client.post("/login", data={"email": user.email, "password": password})

    def login_with_csrf(self, user: User, password: str = PASSWORD, *, client=None):
        """The form's token and all, for tests that keep CSRF protection on (`csrf_on`); it must succeed."""
        client = client or self.client
        token = csrf_token_of(client.get("/login").get_data(as_text=True))
        response = client.post("/login", data={"email": user.email, "password": password, "csrf_token": token})
        assert response.status_code == 302
        return response

    def logout(self, *, client=None):
        return (client or self.client).post("/logout")


@pytest.fixture
def auth(client) -> Auth:
    return Auth(client)


@pytest.fixture
def csrf_on(app):
    """CSRF protection on, as in production, for the tests that check it (the other tests post without tokens)."""
    app.config["WTF_CSRF_ENABLED"] = True
    return app
