"""each referral keeps the microseconds from its sending to its first answer (answer_us, beside answered_at, kept
with every change by ceasefire.models.referral_outcomes), and an index of each service's answered referrals in that
order (sent_at beside it for a window), so that SQLite reads a page of services' answers in order for their medians
instead of working out every answer's span and sorting them (PostgreSQL takes its medians with the counts)

Revision ID: f2b8d4a6c9e1
Revises: e7a3c5b9d2f4
Create Date: 2026-12-02 18:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f2b8d4a6c9e1'
down_revision = 'e7a3c5b9d2f4'
branch_labels = None
depends_on = None

# As ceasefire.models.stages.span_microseconds (revisions import nothing of the app): whole seconds from the first 19
# characters of SQLite's text timestamps, and the fraction padded to six digits as microseconds.
SPAN = {
    "postgresql": "CAST(round(date_part('epoch', answered_at - sent_at) * 1000000) AS BIGINT)",
    "sqlite": "(CAST(strftime('%s', substr(answered_at, 1, 19)) AS BIGINT) "
              "- CAST(strftime('%s', substr(sent_at, 1, 19)) AS BIGINT)) * 1000000 "
              "+ CAST(substr(answered_at || '000000', 21, 6) AS BIGINT) "
              "- CAST(substr(sent_at || '000000', 21, 6) AS BIGINT)",
}


def upgrade():
    op.add_column('referrals', sa.Column('answer_us', sa.BigInteger(), nullable=True))
    op.execute(f"UPDATE referrals SET answer_us = {SPAN[op.get_bind().dialect.name]} WHERE answered_at IS NOT NULL")
    op.create_index('ix_referrals_answers', 'referrals', ['service_id', 'answer_us', 'sent_at'], unique=False,
                    postgresql_where=sa.text('answer_us IS NOT NULL'), sqlite_where=sa.text('answer_us IS NOT NULL'))
    if op.get_bind().dialect.name == "postgresql":
        # The fill rewrote every answered referral: until a VACUUM their pages are not known to be all-visible, and
        # the reports that read the referrals' indexes alone visit the table (the referral outcomes API at a
        # million 292 → 862 ms). VACUUM runs outside a transaction: the migration's is committed first.
        with op.get_context().autocommit_block():
            op.execute("VACUUM (ANALYZE) referrals")


def downgrade():
    op.drop_index('ix_referrals_answers', table_name='referrals',
                  postgresql_where=sa.text('answer_us IS NOT NULL'), sqlite_where=sa.text('answer_us IS NOT NULL'))
    op.drop_column('referrals', 'answer_us')
