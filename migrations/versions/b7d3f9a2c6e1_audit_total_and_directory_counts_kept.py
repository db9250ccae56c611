"""the audit trail's total kept in sixteen shards, each transaction adding the rows it appended to one at its commit,
so the unfiltered trail's total is the sum of sixteen rows, not a count of millions; and the admin home's counts of
users, organizations and services kept the same way; both filled from the rows there

Revision ID: b7d3f9a2c6e1
Revises: f3a9c1d7b2e5
Create Date: 2026-11-30 07:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d3f9a2c6e1'
down_revision = 'f3a9c1d7b2e5'
branch_labels = None
depends_on = None

SHARDS = 16  # as ceasefire.models.audit.SHARDS


def upgrade():
    counts = op.create_table(
        'audit_counts',
        sa.Column('shard', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('events', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('shard', name=op.f('pk_audit_counts')),
    )
    counted = op.get_bind().scalar(sa.text("SELECT count(*) FROM audit_events"))
    op.bulk_insert(counts, [{"shard": s, "events": counted if s == 0 else 0} for s in range(SHARDS)])


    directory = op.create_table(
        'directory_counts',
        sa.Column('name', sa.String(length=32), nullable=False),
        sa.Column('rows', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_directory_counts')),
    )
    bind = op.get_bind()
    users = dict(bind.execute(sa.text("SELECT active, count(*) FROM users GROUP BY active")).all())
    services = dict(bind.execute(sa.text("SELECT active, count(*) FROM services GROUP BY active")).all())
    found = {  # as ceasefire.models.directory_counts.KEYS
        "organizations": bind.scalar(sa.text("SELECT count(*) FROM organizations")),
        "services_active": services.get(True, 0), "services_inactive": services.get(False, 0),
        "users_active": users.get(True, 0), "users_inactive": users.get(False, 0),
    }
    op.bulk_insert(directory, [{"name": k, "rows": n} for k, n in found.items()])


def downgrade():
    op.drop_table('directory_counts')
    op.drop_table('audit_counts')
