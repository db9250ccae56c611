"""users: must_change_password, set when an admin resets a password

Revision ID: b4d2f6a8c1e3
Revises: b5e2d4c81f07
Create Date: 2026-11-30 00:15:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b4d2f6a8c1e3'
down_revision = 'b5e2d4c81f07'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('must_change_password')
