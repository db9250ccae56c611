"""The database role the app runs as on PostgreSQL: not the tables' owner, so it cannot disable the audit trail's
triggers or take their guard off; it gets what the app needs and no more (only INSERT and SELECT on the trail, only
SELECT on the narrow copy of the names, which its trigger keeps)."""

from __future__ import annotations

import sqlalchemy as sa

from ceasefire.errors import BadRequest, Forbidden, NotFound
from ceasefire.extensions import db
from ceasefire.models import AuditEvent, participant_names

TABLE_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
AUDIT_PRIVILEGES = "SELECT, INSERT"


def grant_statements(role: str) -> list[str]:
    """The statements that give `role` exactly the app's privileges on every table of the models. Each table's
    privileges are revoked first, so running them again after an upgrade converges rather than accumulates."""
    quote = db.engine.dialect.identifier_preparer
    grantee = quote.quote(role)
    schema = db.session.scalar(sa.text("SELECT current_schema()"))
    statements = [f"GRANT USAGE ON SCHEMA {quote.quote(schema)} TO {grantee}"]
    for table in db.metadata.sorted_tables:
        name = quote.format_table(table)
        privileges = AUDIT_PRIVILEGES if table is AuditEvent.__table__ else TABLE_PRIVILEGES
        statements += [f"REVOKE ALL ON TABLE {name} FROM {grantee}", f"GRANT {privileges} ON TABLE {name} TO {grantee}"]
        for column in table.primary_key.columns:
            sequence = db.session.scalar(sa.select(sa.func.pg_get_serial_sequence(name, column.name)))
            if sequence:
                statements.append(f"GRANT USAGE, SELECT ON SEQUENCE {sequence} TO {grantee}")
    # The narrow copy of the names is read alone: its trigger writes it as the owner (models.participant_names).
    name = quote.quote(participant_names.TABLE_NAME)
    statements += [f"REVOKE ALL ON TABLE {name} FROM {grantee}", f"GRANT SELECT ON TABLE {name} TO {grantee}"]
    return statements


def grant_app_role(role: str) -> list[str]:
    """Run as the tables' owner after each `db upgrade`: grant `role` what the app needs; returns what was run."""
    if db.engine.dialect.name != "postgresql":
        raise BadRequest("Database roles are a PostgreSQL matter; SQLite has none to grant.")
    owner = db.session.scalar(
        sa.text("SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = to_regclass(:t)"),
        {"t": AuditEvent.__tablename__},
    )
    if owner is None:
        raise NotFound("The tables are not there yet: run `flask db upgrade` first.")
    found = db.session.execute(
        sa.text("SELECT rolsuper, pg_has_role(oid, :owner, 'MEMBER') FROM pg_roles WHERE rolname = :role"),
        {"role": role, "owner": owner},
    ).first()
    if found is None:
        raise NotFound(f"No database role named {role}; create it first (CREATE ROLE ... LOGIN PASSWORD '...').")
    if found[0] or found[1]:
        raise BadRequest(
            f"{role} is a superuser or a member of {owner}, which owns the tables, so it could switch the audit "
            "trail's triggers off; the app must connect as a role that is neither."
        )
    if not db.session.scalar(sa.text("SELECT pg_has_role(current_user, :owner, 'MEMBER')"), {"owner": owner}):
        raise Forbidden(f"Run this as the tables' owner ({owner}), the role `flask db upgrade` runs as.")
    statements = grant_statements(role)
    connection = db.session.connection()
    for statement in statements:  # as written: a quoted role name may hold a colon or a percent sign
        connection.exec_driver_sql(statement, execution_options={"no_parameters": True})
    return statements
