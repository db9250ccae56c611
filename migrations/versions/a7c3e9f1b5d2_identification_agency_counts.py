"""identification agency counts: everyone ever identified, by identifying agency (0: none), kept with every change
so the identification report over the whole history need not count every participant

Revision ID: a7c3e9f1b5d2
Revises: a9d4c2e7f1b3
Create Date: 2026-11-30 09:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c3e9f1b5d2'
down_revision = 'a9d4c2e7f1b3'
branch_labels = None
depends_on = None


def upgrade():
    counts = op.create_table(
        'identification_agency_counts',
        sa.Column('organization_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('participants', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('organization_id', name=op.f('pk_identification_agency_counts')),
    )
    found = dict(op.get_bind().execute(sa.text(
        "SELECT identifying_org_id, count(*) FROM participants GROUP BY identifying_org_id"
    )).all())
    op.bulk_insert(counts, [{"organization_id": 0, "participants": found.pop(None, 0)},
                            *({"organization_id": org, "participants": n} for org, n in found.items())])


def downgrade():
    op.drop_table('identification_agency_counts')
