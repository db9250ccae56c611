"""cohort members keep what the cohort report counts of each member that no window changes: whether their history
entered services_offered at or after their cohort's forum, and whether they ever had a referral accepted, or
completed (the table is derived: made anew and filled here for the data already there)

Revision ID: f4b2d8e1c3a7
Revises: b7d3f9a2c6e1
Create Date: 2026-11-30 07:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f4b2d8e1c3a7'
down_revision = 'b7d3f9a2c6e1'
branch_labels = None
depends_on = None

RANKED = (
    " FROM (SELECT i.participant_id, i.forum_id, f.scheduled_at,"
    "   row_number() OVER (PARTITION BY i.participant_id ORDER BY f.scheduled_at, f.id) AS rank"
    "  FROM invitations i JOIN forums f ON f.id = i.forum_id"
    "  WHERE i.attended IS TRUE AND f.status != 'cancelled') AS ranked"
    " WHERE rank = 1"
)


def _reached(status):
    return (f"EXISTS (SELECT 1 FROM referrals r JOIN referral_events e ON e.referral_id = r.id"
            f" WHERE r.participant_id = ranked.participant_id AND e.to_status = '{status}')")


def _create(flags):
    columns = [
        sa.Column('participant_id', sa.Integer(), nullable=False),
        sa.Column('forum_id', sa.Integer(), nullable=False),
    ]
    if flags:
        columns += [sa.Column(name, sa.Boolean(), nullable=False)
                    for name in ('services_offered', 'referral_accepted', 'referral_completed')]
    op.create_table(
        'cohort_members',
        *columns,
        sa.ForeignKeyConstraint(['forum_id'], ['forums.id'], name=op.f('fk_cohort_members_forum_id_forums'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['participant_id'], ['participants.id'],
                                name=op.f('fk_cohort_members_participant_id_participants'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('participant_id', name=op.f('pk_cohort_members')),
    )
    if flags:
        op.execute(
            "INSERT INTO cohort_members"
            " (participant_id, forum_id, services_offered, referral_accepted, referral_completed)"
            " SELECT participant_id, forum_id,"
            "  EXISTS (SELECT 1 FROM status_changes s WHERE s.participant_id = ranked.participant_id"
            "   AND s.to_state = 'services_offered' AND s.at >= ranked.scheduled_at),"
            f"  {_reached('accepted')}, {_reached('completed')}" + RANKED
        )
    else:
        op.execute("INSERT INTO cohort_members (participant_id, forum_id) SELECT participant_id, forum_id" + RANKED)
    op.create_index(op.f('ix_cohort_members_forum_id'), 'cohort_members', ['forum_id'], unique=False)


def _drop():
    op.drop_index(op.f('ix_cohort_members_forum_id'), table_name='cohort_members')
    op.drop_table('cohort_members')


def upgrade():
    _drop()
    _create(True)


def downgrade():
    _drop()
    _create(False)
