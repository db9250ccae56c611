"""users.session_epoch goes: nothing has read it since sessions are ended on the server (services/sessions.py)

Revision ID: c2e8d4a6f1b9
Revises: f4b2d8e1c3a7
Create Date: 2026-11-30 09:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c2e8d4a6f1b9'
down_revision = 'f4b2d8e1c3a7'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE on both databases (SQLite 3.35 and later): a batch copy of users on SQLite would lose its
    # expression indexes (ix_users_name_lower), which it cannot reflect.
    op.execute("ALTER TABLE users DROP COLUMN session_epoch")


def downgrade():
    op.add_column('users', sa.Column('session_epoch', sa.Integer(), server_default=sa.text('0'), nullable=False))
