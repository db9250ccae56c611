"""audit rows name the participant they are about

Revision ID: 3de030b9eaea
Revises: fee51e169077
Create Date: 2026-11-23 19:54:39.112997

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3de030b9eaea'
down_revision = 'fee51e169077'
branch_labels = None
depends_on = None


def upgrade():
    # In place, not as a batch: rebuilding audit_events on SQLite would drop its append-only triggers.
    op.add_column('audit_events', sa.Column('participant_id', sa.Integer(), nullable=True))
    op.create_index(op.f('ix_audit_events_participant_id'), 'audit_events', ['participant_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_audit_events_participant_id'), table_name='audit_events')
    op.drop_column('audit_events', 'participant_id')  # SQLite 3.35 and later drop a column in place too
