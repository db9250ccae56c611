"""stage entries and cohort members: each participant's first and last entry into each pipeline stage, and the forum
whose cohort they belong to, kept with every change so the pipeline and cohort reports need not group every status
change and invitation (filled here for the data already there)

Revision ID: f3a9c1d7b2e5
Revises: f3c8a1d5e7b2
Create Date: 2026-11-30 06:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f3a9c1d7b2e5'
down_revision = 'f3c8a1d5e7b2'
branch_labels = None
depends_on = None

STATES = ("identified", "invited", "attended", "services_offered", "enforced", "closed")


def _span(dialect):
    """f.first_at - e.first_at in whole microseconds, as ceasefire.models.stages.span_microseconds."""
    if dialect == "postgresql":
        return "CAST(round(date_part('epoch', f.first_at - e.first_at) * 1000000) AS BIGINT)"

    def seconds(moment):
        return f"CAST(strftime('%s', substr({moment}, 1, 19)) AS BIGINT)"

    def fraction(moment):
        return f"CAST(substr({moment} || '000000', 21, 6) AS BIGINT)"

    return (f"({seconds('f.first_at')} - {seconds('e.first_at')}) * 1000000 + {fraction('f.first_at')}"
            f" - {fraction('e.first_at')}")


def upgrade():
    op.create_table(
        'stage_entries',
        sa.Column('participant_id', sa.Integer(), nullable=False),
        sa.Column('stage', sa.Enum(*STATES, name='stage', native_enum=False, create_constraint=True, length=32),
                  nullable=False),
        sa.Column('first_at', sa.DateTime(), nullable=False),
        sa.Column('last_at', sa.DateTime(), nullable=False),
        sa.Column('span', sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(['participant_id'], ['participants.id'],
                                name=op.f('fk_stage_entries_participant_id_participants'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('participant_id', 'stage', name=op.f('pk_stage_entries')),
    )
    op.execute(
        "INSERT INTO stage_entries (participant_id, stage, first_at, last_at, span)"
        " WITH firsts AS (SELECT participant_id, to_state AS stage, min(at) AS first_at, max(at) AS last_at"
        "  FROM status_changes GROUP BY participant_id, to_state)"
        " SELECT f.participant_id, f.stage, f.first_at, f.last_at, " + _span(op.get_bind().dialect.name) +
        " FROM firsts f LEFT JOIN firsts e ON e.participant_id = f.participant_id AND e.stage = CASE f.stage"
        "  WHEN 'invited' THEN 'identified' WHEN 'attended' THEN 'invited' WHEN 'services_offered' THEN 'attended'"
        "  END"
    )
    op.create_index('ix_stage_entries_stage_first_at', 'stage_entries', ['stage', 'first_at', 'span'], unique=False)
    op.create_index('ix_stage_entries_stage_last_at', 'stage_entries', ['stage', 'last_at', 'first_at'],
                    unique=False)
    op.create_index('ix_stage_entries_stage_span', 'stage_entries', ['stage', 'span', 'first_at'], unique=False)
    op.create_table(
        'cohort_members',
        sa.Column('participant_id', sa.Integer(), nullable=False),
        sa.Column('forum_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['forum_id'], ['forums.id'], name=op.f('fk_cohort_members_forum_id_forums'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['participant_id'], ['participants.id'],
                                name=op.f('fk_cohort_members_participant_id_participants'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('participant_id', name=op.f('pk_cohort_members')),
    )
    op.execute(
        "INSERT INTO cohort_members (participant_id, forum_id)"
        " SELECT participant_id, forum_id FROM ("
        "  SELECT i.participant_id, i.forum_id,"
        "   row_number() OVER (PARTITION BY i.participant_id ORDER BY f.scheduled_at, f.id) AS rank"
        "  FROM invitations i JOIN forums f ON f.id = i.forum_id"
        "  WHERE i.attended IS TRUE AND f.status != 'cancelled') AS ranked"
        " WHERE rank = 1"
    )
    op.create_index(op.f('ix_cohort_members_forum_id'), 'cohort_members', ['forum_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_cohort_members_forum_id'), table_name='cohort_members')
    op.drop_table('cohort_members')
    op.drop_index('ix_stage_entries_stage_span', table_name='stage_entries')
    op.drop_index('ix_stage_entries_stage_last_at', table_name='stage_entries')
    op.drop_index('ix_stage_entries_stage_first_at', table_name='stage_entries')
    op.drop_table('stage_entries')
