"""audit trail is append-only (PostgreSQL and SQLite triggers)

Revision ID: 5882ff04ee68
Revises: 2b471187440f
Create Date: 2026-11-23 19:02:55.788531

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5882ff04ee68'
down_revision = '2b471187440f'
branch_labels = None
depends_on = None


FUNCTION = """
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql
"""
TRIGGER = """
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()
"""


SQLITE_TRIGGERS = [
    f"""
CREATE TRIGGER audit_events_no_{action.lower()} BEFORE {action} ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: {action} refused'); END
"""
    for action in ("UPDATE", "DELETE")
]


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(FUNCTION)
        op.execute(TRIGGER)
    elif dialect == "sqlite":
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
    elif dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
