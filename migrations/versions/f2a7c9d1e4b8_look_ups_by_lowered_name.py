"""look-ups by typed name: an index on each chosen table's lowered name (then id), for the forms that ask for a
group, caseworker, organization, service or planned forum by name in a large program (ceasefire.services.lookup)

Revision ID: f2a7c9d1e4b8
Revises: a1c4e7b9d2f3
Create Date: 2026-11-30 06:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f2a7c9d1e4b8'
down_revision = 'a1c4e7b9d2f3'
branch_labels = None
depends_on = None

COLUMNS = (("groups", "name"), ("organizations", "name"), ("users", "name"), ("services", "name"),
           ("forums", "title"), ("forums", "location"))


def upgrade():
    for table, column in COLUMNS:
        op.create_index(f"ix_{table}_{column}_lower", table, [sa.text(f"lower({column})"), "id"], unique=False)


def downgrade():
    for table, column in COLUMNS:
        op.drop_index(f"ix_{table}_{column}_lower", table_name=table)
