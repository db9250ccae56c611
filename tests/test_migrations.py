"""The migrations build exactly the models, and take themselves down again, on a scratch database of their own:
a temporary SQLite file, or with TEST_DATABASE_URL set a PostgreSQL database created for the test and dropped
after it (the shared test database is never touched)."""

from __future__ import annotations

import logging
import os
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import flask_migrate
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from ceasefire import create_app
from ceasefire.extensions import db
from ceasefire.models.people import name_search_index, name_search_table
from ceasefire.models.users import admin_search_index

# SQLite cannot reflect the look-ups' indexes on lower(name) (ceasefire.models.LOOKUP_INDEXES); Alembic leaves them
# out of the comparison on every database (migrations/env.py), and the test below compares the rest.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Skipped unsupported reflection of expression-based index ix_.*_lower:sqlalchemy.exc.SAWarning"
)


# The suite's own database: SQLite by default, PostgreSQL with TEST_DATABASE_URL (CI runs the suite on each, so
# each database is migrated once a run, not SQLite twice).
BACKENDS = ["postgresql"] if os.environ.get("TEST_DATABASE_URL") else ["sqlite"]


def _config(url: str, **settings: str) -> dict:
    return {"TESTING": True, "ENV_NAME": "testing", "SECRET_KEY": "migrations-only", "SQLALCHEMY_DATABASE_URI": url,
            **settings}


@contextmanager
def _scratch_database(backend: str, tmp_path, label: str) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / (label + '.sqlite')}"
        return
    base = sa.engine.make_url(os.environ["TEST_DATABASE_URL"])
    name = f"ceasefire_{label}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield base.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def scratch(request, tmp_path) -> Iterator[tuple[str, str]]:
    """Two empty databases of the backend: one for the migrations, one for create_all (the models' own DDL)."""
    with _scratch_database(request.param, tmp_path, "migrated") as migrated, \
            _scratch_database(request.param, tmp_path, "created") as created:
        yield migrated, created


@contextmanager
def _logging_kept() -> Iterator[None]:
    """migrations/env.py runs logging.config.fileConfig, as `flask db` does; undo it for the tests that follow."""
    manager = logging.root.manager
    saved = {
        name: (lg.disabled, lg.level, list(lg.handlers), lg.propagate)
        for name, lg in manager.loggerDict.items() if isinstance(lg, logging.Logger)
    }
    root = (logging.root.level, list(logging.root.handlers))
    try:
        yield
    finally:
        for name, lg in manager.loggerDict.items():
            if isinstance(lg, logging.Logger):
                lg.disabled, lg.level, lg.handlers[:], lg.propagate = saved.get(name, (False, logging.NOTSET, [], True))
        logging.root.level, logging.root.handlers[:] = root[0], root[1]


@contextmanager
def _app(url: str, **settings: str) -> Iterator:
    app = create_app(_config(url, **settings))
    with app.app_context(), _logging_kept():
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


@contextmanager
def seeded_at_head(backend: str, tmp_path, label: str, participants: int = 1100) -> Iterator[str]:
    """A scratch database at the head revision holding a program seeded in bulk, its kept tables recounted, inside
    an app on it: for a test that a migration fills what it adds for the rows already there."""
    from ceasefire import demo_bulk
    from ceasefire.models import counts

    with _scratch_database(backend, tmp_path, label) as url, _app(url):
        flask_migrate.upgrade()
        db.session.remove()
        db.engine.dispose()  # SQLite: the bulk seed's PRAGMA on a connection of its own, outside the migration's
        demo_bulk.seed(participants)
        counts.refresh(db.session)
        db.session.commit()
        yield url

def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _schema_extras(url: str) -> dict[str, set]:
    """What autogenerate does not compare: CHECK constraints and triggers."""
    engine = sa.create_engine(url)
    try:
        inspector = sa.inspect(engine)
        checks = {
            (table, check["name"], " ".join(check["sqltext"].split()).replace('"', ""))
            for table in inspector.get_table_names() if table != "alembic_version"
            for check in inspector.get_check_constraints(table)
        }
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                triggers = set(conn.scalars(sa.text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")))
            else:
                triggers = set(conn.scalars(sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'")))
        return {"checks": checks, "triggers": triggers}
    finally:
        engine.dispose()


def test_upgrade_from_empty_builds_exactly_the_models(scratch):
    migrated, created = scratch
    with _app(migrated):
        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={
                "compare_type": True, "compare_server_default": True,
                # The search's FTS5 tables and expression indexes are the database's own (ceasefire.models.people).
                "include_name": lambda name, type_, _parents: not (
                    (type_ == "table" and name_search_table(name))
                    or (type_ == "index" and (name_search_index(name) or admin_search_index(name)))
                ),
            })
            with warnings.catch_warnings():  # SQLite's reflection skips the state order's index (on an expression)
                warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index",
                                        sa.exc.SAWarning)
                differences = compare_metadata(context, db.metadata)
    assert differences == []
    with _app(created):
        db.create_all()
    assert _tables(migrated) - {"alembic_version"} == _tables(created)
    assert _schema_extras(migrated) == _schema_extras(created)


def test_downgrade_to_base_leaves_no_tables_and_upgrades_again(scratch):
    migrated, _created = scratch
    with _app(migrated):
        flask_migrate.upgrade()
        heads = _heads()
        assert len(heads) == 1, f"the migrations have several heads: {heads}"
        flask_migrate.downgrade(revision="base")
        with db.engine.connect() as conn:
            assert conn.scalar(sa.text("SELECT count(*) FROM alembic_version")) == 0
    assert _tables(migrated) <= {"alembic_version"}
    assert _schema_extras(migrated) == {"checks": set(), "triggers": set()}
    with _app(migrated):
        flask_migrate.upgrade()
    assert "participants" in _tables(migrated)


def _heads() -> set[str]:
    from alembic.script import ScriptDirectory
    from flask import current_app

    config = current_app.extensions["migrate"].migrate.get_config()
    return set(ScriptDirectory.from_config(config).get_heads())


def test_due_process_revision_dates_the_reviews_and_keeps_the_age_bands_of_existing_participants(tmp_path):
    """Issue #11: participants identified before the revision get a review date (identification plus 1,826 days)
    and their age band at identification, worked out once from the date of birth that a purge may erase."""
    url = f"sqlite:///{tmp_path / 'existing.sqlite'}"
    with _app(url):
        flask_migrate.upgrade(revision="1fb4d156d8ab")
        with db.engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO participants (id, first_name, last_name, date_of_birth, supervision_status, identified_on,"
                " state, version, created_at, updated_at) VALUES"
                " (1, 'A', 'B', '2006-03-01', 'none', '2024-02-29', 'identified', 1, '2024-02-29', '2024-02-29'),"
                " (2, 'C', 'D', NULL, 'none', '2021-07-15', 'identified', 1, '2021-07-15', '2021-07-15')"
            ))
        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT id, review_due_on, age_band FROM participants ORDER BY id"
            )).all()
            criteria = conn.scalar(sa.text("SELECT count(*) FROM identification_criteria WHERE retired_on IS NULL"))
    # 2006-03-01 to 2024-02-29: 17 whole years (the 18th birthday is the next day).
    assert [tuple(r) for r in rows] == [(1, "2029-02-28", "under_18"), (2, "2026-07-15", "unknown")]
    assert criteria == 3


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_service_referral_counts_revision_counts_the_referrals_already_there(backend, tmp_path):
    """The revision counts each service's referrals, with the first and last moments one was sent and by month, and
    all of them, as the flushes keep them (a seeded program at head, the revision taken down and up again)."""
    from ceasefire.models import Referral, ServiceReferralCount, ServiceReferralMonth, counts

    def kept() -> tuple[dict[int, tuple], dict[tuple, int], int | None]:
        rows = db.session.execute(sa.select(
            ServiceReferralCount.service_id, ServiceReferralCount.referrals, ServiceReferralCount.first_sent_at,
            ServiceReferralCount.last_sent_at)).all()
        months = db.session.execute(sa.select(
            ServiceReferralMonth.month, ServiceReferralMonth.service_id, ServiceReferralMonth.referrals)).all()
        return ({k: tuple(v) for k, *v in rows}, {(m, k): n for m, k, n in months},
                counts.table_rows(db.session, Referral))

    with seeded_at_head(backend, tmp_path, "service_referrals", participants=300):
        counted = {k: tuple(v) for k, *v in db.session.execute(
            sa.select(Referral.service_id, sa.func.count(Referral.id), sa.func.min(Referral.sent_at),
                      sa.func.max(Referral.sent_at)).group_by(Referral.service_id)).all()}
        months: dict[tuple, int] = {}
        for service_id, sent_at in db.session.execute(sa.select(Referral.service_id, Referral.sent_at)):
            key = (sent_at.date().replace(day=1), service_id)
            months[key] = months.get(key, 0) + 1
        total = sum(n for n, _first, _last in counted.values())
        assert len(counted) > 1
        assert len({m for m, _k in months}) > 1
        assert kept() == (counted, months, total)
        db.session.remove()
        flask_migrate.downgrade(revision="d4f8b2a6e1c9")
        assert "service_referral_counts" not in _tables(str(db.engine.url.render_as_string(hide_password=False)))
        db.session.remove()
        flask_migrate.upgrade()
        assert kept() == (counted, months, total)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_identification_days_revision_counts_everyone_already_identified(backend, tmp_path):
    """The revision counts everyone identified by day, status, band and agency, as the flushes and refresh() keep
    them (a seeded program at head with a purged person, the revision taken down and up again)."""
    from ceasefire.models import IdentificationAgencyDay, IdentificationDay, Participant

    def kept() -> dict[tuple, int]:
        """The rows of people of both tables (the one saying they are kept included)."""
        bands = {tuple(r[:4]): r[4] for r in db.session.execute(sa.select(
            IdentificationDay.grain, IdentificationDay.day, IdentificationDay.supervision_status,
            IdentificationDay.age_band, IdentificationDay.participants).where(
            sa.or_(IdentificationDay.participants != 0, IdentificationDay.age_band == "")))}
        return bands | {tuple(r[:3]): r[3] for r in db.session.execute(sa.select(
            IdentificationAgencyDay.grain, IdentificationAgencyDay.day, IdentificationAgencyDay.organization_id,
            IdentificationAgencyDay.participants).where(IdentificationAgencyDay.participants != 0))}

    with seeded_at_head(backend, tmp_path, "identification_days", participants=300):
        person = db.session.scalars(sa.select(Participant).where(Participant.date_of_birth.is_not(None))).first()
        person.age_band, person.date_of_birth = "18_24", None  # as a purge leaves them
        db.session.commit()
        before = kept()
        # each person in four rows: by day and month, by status and band and by agency
        assert sum(before.values()) == 4 * db.session.scalar(sa.select(sa.func.count(Participant.id)))
        assert len({day for grain, day, *_rest in before if grain == "m"}) > 2
        db.session.remove()
        flask_migrate.downgrade(revision="e2a7c5d9b3f1")
        assert "identification_days" not in _tables(str(db.engine.url.render_as_string(hide_password=False)))
        db.session.remove()
        flask_migrate.upgrade()
        assert kept() == before


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_name_search_revisions_fill_the_copy_of_the_names_and_the_four_letter_counts(backend, tmp_path):
    """The two revisions of the name search fill what they add for the participants already there, as the triggers
    and the flushes keep it: the kept counts of four-letter pieces (both databases) and, on PostgreSQL, the narrow
    copy of the names (no purged participant in it). A seeded program at head, the revisions taken down and up."""
    from ceasefire.models import Participant, SearchGramCount

    def kept(names: bool = True) -> tuple[dict[tuple, int], list[tuple]]:
        four = {(g, s): n for g, s, n in db.session.execute(
            sa.select(SearchGramCount.gram, SearchGramCount.state, SearchGramCount.participants)
            .where(sa.func.length(SearchGramCount.gram) == 4, SearchGramCount.participants != 0))}
        copy = [] if backend == "sqlite" or not names else [tuple(r) for r in db.session.execute(sa.text(
            "SELECT id, state, last_name, first_name, name, aliases FROM participant_names ORDER BY id"))]
        return four, copy

    with seeded_at_head(backend, tmp_path, "name_search", participants=300):
        person = db.session.scalars(sa.select(Participant).order_by(Participant.id)).first()
        person.first_name, person.last_name, person.aliases = "", "", None  # as a purge leaves them
        person.purged_at = person.updated_at
        db.session.commit()
        before = kept()
        johns = db.session.scalar(sa.select(sa.func.count(Participant.id)).where(
            Participant.purged_at.is_(None), sa.func.lower(Participant.first_name + " " + Participant.last_name)
            .contains("john", autoescape=True) | sa.func.lower(Participant.aliases).contains("john", autoescape=True)))
        assert johns
        assert sum(n for (gram, _state), n in before[0].items() if gram == "john") == johns
        if backend != "sqlite":
            assert len(before[1]) == db.session.scalar(
                sa.select(sa.func.count(Participant.id)).where(Participant.purged_at.is_(None)))
            assert person.id not in {row[0] for row in before[1]}
        db.session.remove()
        flask_migrate.downgrade(revision="a3f7c1e9d5b2")
        assert kept(names=False)[0] == {}
        if backend != "sqlite":
            assert "participant_names" not in _tables(str(db.engine.url.render_as_string(hide_password=False)))
        db.session.remove()
        flask_migrate.upgrade()
        assert kept() == before


SEARCH_KEPT = {  # a count fallen to 0 may stay kept at 0 (and the empty piece and name always are)
    "pieces": "SELECT gram, state, participants FROM search_gram_counts WHERE participants <> 0 OR gram = '' "
              "ORDER BY 1, 2",
    "names": "SELECT name, state, participants FROM search_name_counts WHERE participants <> 0 OR name = '' "
             "ORDER BY 1, 2",
    "postings": "SELECT gram, last_name, first_name, participant_id, state FROM search_postings ORDER BY 1, 2, 3, 4",
}


def _sqlite_as_it_is(url: str, *statements: str) -> list[list[tuple]]:
    """Statements on a connection of SQLite's own, its lower() SQLite's: what any other tool opening the file sees."""
    import sqlite3

    raw = sqlite3.connect(sa.engine.make_url(url).database)
    try:
        return [raw.execute(statement).fetchall() for statement in statements]
    finally:
        raw.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_every_letter_lower_revision_writes_again_what_sqlites_own_lower_wrote(backend, tmp_path):
    """On SQLite the app's lower() lowers every letter, as PostgreSQL's: the revision writes the name search's
    tables, its kept pieces and the indexes on lower(...) again as that lower() writes them, and its downgrade as
    SQLite's own (the 26 ASCII letters alone), each time exactly what the app keeps and consistent for the lower()
    that reads it (SQLite's integrity checks: after the downgrade on a connection of SQLite's own, after the upgrade
    on the app's). On PostgreSQL it changes nothing."""
    from ceasefire.models import Organization, Participant

    def kept() -> dict[str, list[tuple]]:
        rows = {k: [tuple(r) for r in db.session.execute(sa.text(q))] for k, q in SEARCH_KEPT.items()}
        if backend == "sqlite":
            rows["names_index"] = [tuple(r) for r in db.session.execute(sa.text(
                "SELECT rowid, name, aliases FROM participant_names ORDER BY rowid"))]
        return rows

    with seeded_at_head(backend, tmp_path, "every_letter", participants=300) as url:
        people = db.session.scalars(sa.select(Participant).order_by(Participant.id).limit(2)).all()
        people[0].first_name, people[0].last_name, people[0].aliases = "JOSÉ", "PEÑA", "ÑOÑO"
        people[1].last_name = "Álvarez"
        db.session.scalars(sa.select(Organization).limit(1)).one().name = "ÉQUIPE Ñ"
        db.session.commit()
        written = kept()
        assert ("peña", people[0].state.value, 1) in written["pieces"]
        assert ("josé peña", people[0].state.value, 1) in written["names"]
        db.session.remove()

        flask_migrate.downgrade(revision="c4e8a2f6b1d9")
        if backend == "sqlite":
            names, check, pieces = _sqlite_as_it_is(
                url, "SELECT name, aliases FROM participant_names WHERE rowid = (SELECT min(id) FROM participants)",
                "PRAGMA integrity_check",
                "SELECT participants FROM search_gram_counts WHERE gram = 'peÑa'")
            assert names == [("josÉ peÑa", "ÑoÑo")]  # as SQLite's own lower() writes it
            assert check == [("ok",)]
            assert pieces == [(1,)]  # kept as SQLite's own lower() cuts it
        else:
            assert kept() == written
        db.session.remove()

        flask_migrate.upgrade()
        assert kept() == written
        if backend == "sqlite":  # the indexes on lower(...) hold what the app's lower() computes
            assert db.session.execute(sa.text("PRAGMA integrity_check")).scalar() == "ok"
            db.session.execute(sa.text("INSERT INTO participant_grams (participant_grams) VALUES ('integrity-check')"))
        found = db.session.scalars(sa.select(Participant.id).where(
            sa.func.lower(Participant.last_name) == "peña")).all()
        assert found == [people[0].id]
