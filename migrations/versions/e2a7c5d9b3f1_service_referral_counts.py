"""service referral counts: how many referrals each service has had and the first and last moments one was sent,
its referrals by month (of UTC), and the referrals' row of table_counts, kept with every change so that the referral
outcomes page finds the services with a referral sent in its window off a row a service (and its months' rows)
instead of probing the referrals of each

Revision ID: e2a7c5d9b3f1
Revises: d4f8b2a6e1c9
Create Date: 2026-11-30 20:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e2a7c5d9b3f1'
down_revision = 'd4f8b2a6e1c9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'service_referral_counts',
        sa.Column('service_id', sa.Integer(), nullable=False),
        sa.Column('referrals', sa.Integer(), nullable=False),
        sa.Column('first_sent_at', sa.DateTime(), nullable=True),
        sa.Column('last_sent_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['service_id'], ['services.id'],
                                name=op.f('fk_service_referral_counts_service_id_services')),
        sa.PrimaryKeyConstraint('service_id', name=op.f('pk_service_referral_counts')),
    )
    op.execute("INSERT INTO service_referral_counts (service_id, referrals, first_sent_at, last_sent_at)"
               " SELECT service_id, count(id), min(sent_at), max(sent_at) FROM referrals GROUP BY service_id")
    op.create_table(
        'service_referral_months',
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('service_id', sa.Integer(), nullable=False),
        sa.Column('referrals', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['service_id'], ['services.id'],
                                name=op.f('fk_service_referral_months_service_id_services')),
        sa.PrimaryKeyConstraint('month', 'service_id', name=op.f('pk_service_referral_months')),
    )
    op.create_index(op.f('ix_service_referral_months_service_id'), 'service_referral_months', ['service_id'])
    month = ("CAST(date_trunc('month', sent_at) AS DATE)" if op.get_bind().dialect.name == "postgresql"
             else "date(sent_at, 'start of month')")
    op.execute(f"INSERT INTO service_referral_months (month, service_id, referrals)"
               f" SELECT {month}, service_id, count(id) FROM referrals GROUP BY {month}, service_id")
    op.execute("DELETE FROM table_counts WHERE table_name = 'referrals'")
    op.execute("INSERT INTO table_counts (table_name, rows) SELECT 'referrals', count(id) FROM referrals")


def downgrade():
    op.execute("DELETE FROM table_counts WHERE table_name = 'referrals'")
    op.drop_index(op.f('ix_service_referral_months_service_id'), table_name='service_referral_months')
    op.drop_table('service_referral_months')
    op.drop_table('service_referral_counts')
