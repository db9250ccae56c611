"""referral events keep an optional note (the provider inbox)

Revision ID: b5e2d4c81f07
Revises: a7c3e91d5b20
Create Date: 2026-11-30 00:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b5e2d4c81f07'
down_revision = 'a7c3e91d5b20'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('referral_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('note', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('referral_events', schema=None) as batch_op:
        batch_op.drop_column('note')
