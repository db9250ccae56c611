"""ceasefire: case management for Project Ceasefire call-in programs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from ceasefire import config as settings
from ceasefire.extensions import csrf, db, limiter, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    _configure(app, config)
    _init_extensions(app)
    _register_inputs(app)
    _register_blueprints(app)
    _register_templates(app)
    _register_errors(app)
    _register_commands(app)
    return app


def _configure(app: Flask, config: dict[str, Any] | None) -> None:
    app.config.update(settings.from_environment(app.instance_path))
    if config:
        app.config.update(config)
    settings.check_production_safe(app.config)
    settings.check_timezone(app.config)
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Behind N proxies, take the client address, scheme and host from their X-Forwarded-* headers.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]  # Flask's documented way to wrap its WSGI app
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)


def _init_extensions(app: Flask) -> None:
    from ceasefire import models  # noqa: F401 - every table registered before Alembic looks

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    from ceasefire.services import session_store

    session_store.init_app(app)  # after db: the database store uses it
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to see this page."
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(user_id: str):
        from ceasefire.models import User

        return db.session.get(User, int(user_id))

    _set_up_connections(app)


def unicode_lower(text: object) -> object:
    """SQLite's lower() as the app's connections define it: every letter lowered, as PostgreSQL's lower() and
    Python's str.lower() do, where SQLite's own lowers the 26 ASCII letters alone. A name written "PEÑA" is "peña" to
    the search, its indexes and its kept pieces on both databases (else a search for "peña" missed it on SQLite)."""
    return None if text is None else str(text).lower()


def _set_up_connections(app: Flask) -> None:
    """Each connection the app opens is set up as it is opened, for its database."""
    from sqlalchemy import event

    with app.app_context():
        dialect = db.engine.dialect.name
        mmap_bytes = int(app.config["SQLITE_MMAP_BYTES"])

        @event.listens_for(db.engine, "connect")
        def _set_up(dbapi_connection, _record):
            if dialect == "sqlite":
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA foreign_keys=ON")
                # Read the file through the operating system's page cache (config.DEFAULT_SQLITE_MMAP_BYTES).
                cursor.execute(f"PRAGMA mmap_size={mmap_bytes}")
                cursor.close()
                # Deterministic, so that indexes on lower(...) may use it: every connection of the app defines it
                # before its first statement (the migrations' too), so that an index holds what a query computes.
                dbapi_connection.create_function("lower", 1, unicode_lower, deterministic=True)
            elif dialect == "postgresql":
                # No parallel workers: each statement reads a page's rows off an index, and starting workers took
                # 3.5 ms of a walk of postings that took 0.3 ms (a name searched within a state, at a million
                # participants); the reports' statements were as fast or faster without them (bench/README.md).
                with dbapi_connection.cursor() as cursor:
                    cursor.execute("SET max_parallel_workers_per_gather = 0")
                dbapi_connection.commit()  # a SET in a transaction rolled back would be undone


def _register_inputs(app: Flask) -> None:
    """How requests are read, set before any route is added: bounded ids, no NUL, no lone surrogate in JSON."""
    from ceasefire import inputs
    from ceasefire.jsonio import JSONProvider

    app.json = JSONProvider(app)
    inputs.register(app)


def _register_blueprints(app: Flask) -> None:
    from ceasefire.admin.views import bp as admin_bp
    from ceasefire.api import bp as api_bp
    from ceasefire.audit.views import bp as audit_bp
    from ceasefire.auth.views import bp as auth_bp
    from ceasefire.forums.views import bp as forums_bp
    from ceasefire.groups.views import bp as groups_bp
    from ceasefire.lookup.views import bp as lookup_bp
    from ceasefire.participants import fieldwork  # noqa: F401 - its routes, on the participants blueprint
    from ceasefire.participants.views import bp as participants_bp
    from ceasefire.referrals.views import bp as referrals_bp
    from ceasefire.reports.views import bp as reports_bp
    from ceasefire.retention.views import bp as retention_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(participants_bp)
    app.register_blueprint(forums_bp)
    app.register_blueprint(groups_bp)
    app.register_blueprint(lookup_bp)
    app.register_blueprint(referrals_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(retention_bp)
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    csrf.exempt(api_bp)


def _register_templates(app: Flask) -> None:
    from ceasefire.pages import register_template_helpers

    register_template_helpers(app)


def _register_errors(app: Flask) -> None:
    from ceasefire.web import register_error_pages

    register_error_pages(app)


def _register_commands(app: Flask) -> None:
    from ceasefire.cli import register

    register(app)
