"""audit trail refuses TRUNCATE on PostgreSQL

Revision ID: 8c1d0e5a7f42
Revises: 3de030b9eaea
Create Date: 2026-11-29 21:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8c1d0e5a7f42'
down_revision = '3de030b9eaea'
branch_labels = None
depends_on = None


# The row trigger of 5882ff04ee68 does not see TRUNCATE; this statement trigger runs the same function, which
# raises "audit_events is append-only: TRUNCATE refused". SQLite has no TRUNCATE (its DELETE trigger covers it).
TRIGGER = """
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()
"""


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(TRIGGER)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
