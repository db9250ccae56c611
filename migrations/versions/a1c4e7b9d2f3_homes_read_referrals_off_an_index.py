"""the homes read a caseworker's referrals (sent by them) and the referrals waiting longest on a provider off an
index: referrals by sender, and a partial index of the sent and accepted ones by their last change

Revision ID: a1c4e7b9d2f3
Revises: e5f1a2b3c4d6
Create Date: 2026-11-30 06:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a1c4e7b9d2f3'
down_revision = 'e5f1a2b3c4d6'
branch_labels = None
depends_on = None

WAITING = "status IN ('sent', 'accepted')"  # as ceasefire.models.referrals


def upgrade():
    op.create_index("ix_referrals_sent_by", "referrals", ["sent_by_id"], unique=False)
    op.create_index("ix_referrals_waiting", "referrals", ["updated_at", "id"], unique=False,
                    postgresql_where=sa.text(WAITING), sqlite_where=sa.text(WAITING))


def downgrade():
    op.drop_index("ix_referrals_waiting", table_name="referrals")
    op.drop_index("ix_referrals_sent_by", table_name="referrals")
