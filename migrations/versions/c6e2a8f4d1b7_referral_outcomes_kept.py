"""referral outcomes kept on each referral: the statuses its events ever reached (a bit each) and its first answer
(accept or decline), filled from the events already there; the index of referrals by service and sent_at includes
them (and the status) on PostgreSQL, so a page of services of the report is counted off it alone

Revision ID: c6e2a8f4d1b7
Revises: b8d4f2a6c1e3
Create Date: 2026-11-30 12:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c6e2a8f4d1b7'
down_revision = 'b8d4f2a6c1e3'
branch_labels = None
depends_on = None

# As ceasefire.models.referrals.REACHED_BITS and ANSWERS.
BITS = {"sent": 1, "accepted": 2, "declined": 4, "enrolled": 8, "completed": 16, "dropped": 32, "withdrawn": 64}
FILL = (
    "UPDATE referrals SET reached = w.reached, answered_at = w.answered_at FROM ("
    " SELECT r.id, coalesce(sum(DISTINCT CASE e.to_status "
    + " ".join(f"WHEN '{status}' THEN {bit}" for status, bit in BITS.items())
    + " ELSE 0 END), 0) AS reached,"
    " min(CASE WHEN e.to_status IN ('accepted', 'declined') THEN e.at END) AS answered_at"
    " FROM referrals r LEFT JOIN referral_events e ON e.referral_id = r.id GROUP BY r.id"
    ") AS w WHERE referrals.id = w.id AND (w.reached <> 0 OR w.answered_at IS NOT NULL)"
)


def upgrade():
    op.add_column('referrals', sa.Column('reached', sa.Integer(), server_default='0', nullable=False))
    op.add_column('referrals', sa.Column('answered_at', sa.DateTime(), nullable=True))
    # the index made again after the rows are written (each row is written once, beside no index of it)
    op.drop_index('ix_referrals_service_sent', table_name='referrals')
    op.execute(FILL)
    op.create_index('ix_referrals_service_sent', 'referrals', ['service_id', 'sent_at', 'id'], unique=False,
                    postgresql_include=['status', 'reached', 'answered_at'])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ANALYZE referrals")


def downgrade():
    op.drop_index('ix_referrals_service_sent', table_name='referrals')
    op.create_index('ix_referrals_service_sent', 'referrals', ['service_id', 'sent_at', 'id'], unique=False)
    op.drop_column('referrals', 'answered_at')
    op.drop_column('referrals', 'reached')
