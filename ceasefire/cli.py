"""flask commands (API.md): create-user, create-token, seed-demo, and db-grant for PostgreSQL deployments. They call
the services and commit once."""

from __future__ import annotations

from typing import cast

import click
import sqlalchemy as sa
from flask import Flask

from ceasefire.errors import ServiceError
from ceasefire.extensions import db
from ceasefire.models import counts
from ceasefire.models.audit import refresh_kept_total
from ceasefire.models.directory_counts import refresh_directory_counts
from ceasefire.models.enums import Role
from ceasefire.models.search_counts import SearchPosting
from ceasefire.models.stages import CohortMember, StageEntry
from ceasefire.services import accounts, app_role

# The tables counts.refresh writes anew, every row, after a bulk seed: their indexes (on PostgreSQL their keys and
# foreign keys too) are set aside while it fills them and built once after (at 200,000 participants on PostgreSQL
# the stage entries took 27 s to go in with their keys, 9 s of it reading the history).
REFRESHED = (SearchPosting, StageEntry, CohortMember)


def _fail(exc: ServiceError) -> None:
    db.session.rollback()
    details = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
    raise click.ClickException(exc.message + (f" ({details})" if details else ""))


def register(app: Flask) -> None:
    @app.cli.command("create-user")
    @click.argument("email")
    @click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
    @click.option("--organization", "organization_id", type=int, default=None, help="Organization id")
    @click.option("--name", default=None, help="Display name (defaults to the email)")
    @click.option("--password", default=None, help="Asked for when not given")
    def create_user(email: str, role: str, organization_id: int | None, name: str | None, password: str | None):
        """Add a user and print the new id."""
        if password is None:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        try:
            user = accounts.create_user(None, email, name or email, Role(role), password, organization_id)
        except ServiceError as exc:
            _fail(exc)
        db.session.commit()
        click.echo(user.id)

    @app.cli.command("create-token")
    @click.argument("email")
    @click.option("--name", default="cli", help="A name to recognise the token by")
    def create_token(email: str, name: str):
        """Print a new API token for the user, once: the token alone, on the last line."""
        user = accounts.user_by_email(email)
        if user is None:
            raise click.ClickException(f"No user with the email {email}.")
        _token, plain = accounts.create_token(user, name)
        db.session.commit()
        click.echo(plain)

    @app.cli.command("seed-demo")
    @click.option("--participants", "count", type=int, default=200, show_default=True)
    def seed_demo(count: int):
        """Fill an empty database with a believable demo program and print the demo sign-ins (above 200
        participants the rest of the program is built in bulk from the first hundred)."""
        from ceasefire import bulk_sql, demo, demo_bulk

        try:
            sign_ins = demo_bulk.seed(count)
        except demo.NotEmpty as exc:
            raise click.ClickException(str(exc)) from None
        connection = db.session.connection()
        if db.engine.dialect.name == "postgresql":  # the keys of what refresh writes anew built once, after it
            restore = bulk_sql.set_aside_postgresql(connection, [model.__tablename__ for model in REFRESHED])
        else:
            restore = bulk_sql.set_aside_sqlite(connection, [cast(sa.Table, model.__table__) for model in REFRESHED])
        counts.refresh(db.session)  # the bulk copies went around the ORM, which keeps the counts
        restore()
        refresh_kept_total(db.session)  # and the audit trail's total
        refresh_directory_counts(db.session)  # and the users, organizations and services
        db.session.commit()
        if count > demo_bulk.BULK_ABOVE:
            bulk_sql.settle_postgresql(db.engine)
        click.echo(f"Demo data is in. Sign in with any of these (password for all: {demo.PASSWORD}):")
        for role, email in sign_ins:
            click.echo(f"  {role:<11} {email}")

    @app.cli.command("db-grant")
    @click.argument("role")
    def db_grant(role: str):
        """PostgreSQL: give ROLE, the role the app connects as, what it needs and no more (on the audit trail only
        INSERT and SELECT). Run it as the tables' owner after every `db upgrade`; it prints what it ran."""
        try:
            statements = app_role.grant_app_role(role)
        except ServiceError as exc:
            _fail(exc)
        db.session.commit()
        for statement in statements:
            click.echo(statement + ";")
