"""cohort tallies: each forum's cohort report row (invited, attended, cohort, services offered, referrals accepted
and completed, enforcement and each outcome type within 6 and 12 months) and the day held it was counted for, kept
with every change so the cohort report reads one row a forum (the table is derived: filled here for the data
already there, in the program's time zone; a forum left uncounted is counted by the report itself)

Revision ID: a8c4e2f6b1d3
Revises: a8e2c4f6b1d3
Create Date: 2026-11-30 09:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a8c4e2f6b1d3'
down_revision = 'a8e2c4f6b1d3'
branch_labels = None
depends_on = None

KINDS = ('arrested', 'arrested_violent', 'shot', 'killed', 'incarcerated', 'employed', 'enrolled_education')
MEASURES = (
    'invited', 'attended', 'cohort', 'services_offered', 'referrals_accepted', 'referrals_completed',
    'enforced_6m', 'enforced_12m', *(f'{kind}_6m' for kind in KINDS), *(f'{kind}_12m' for kind in KINDS),
)


def upgrade():
    op.create_table(
        'cohort_tallies',
        sa.Column('forum_id', sa.Integer(), nullable=False),
        sa.Column('held', sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in MEASURES),
        sa.ForeignKeyConstraint(['forum_id'], ['forums.id'], name=op.f('fk_cohort_tallies_forum_id_forums'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('forum_id', name=op.f('pk_cohort_tallies')),
    )
    # The counting is the report's own (the app's code, this revision's columns): an empty table stays correct
    # (the report counts a forum without a row), so a database whose counts cannot be taken here is still upgraded.
    from ceasefire.models import cohort_tallies

    if tuple(cohort_tallies.MEASURES) == MEASURES:
        cohort_tallies.keep(op.get_bind(), None)


def downgrade():
    op.drop_table('cohort_tallies')
