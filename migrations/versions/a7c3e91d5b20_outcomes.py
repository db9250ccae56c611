"""outcomes: what happened to a participant after the fact

Revision ID: a7c3e91d5b20
Revises: e799ed44ffbe
Create Date: 2026-11-29 21:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c3e91d5b20'
down_revision = 'e799ed44ffbe'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outcomes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('type', sa.Enum('arrested', 'arrested_violent', 'shot', 'killed', 'incarcerated', 'employed', 'enrolled_education', name='outcome_type', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], name=op.f('fk_outcomes_participant_id_participants')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_outcomes_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outcomes'))
    )
    with op.batch_alter_table('outcomes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outcomes_occurred_on'), ['occurred_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_outcomes_participant_id'), ['participant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outcomes_type'), ['type'], unique=False)


def downgrade():
    with op.batch_alter_table('outcomes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outcomes_type'))
        batch_op.drop_index(batch_op.f('ix_outcomes_participant_id'))
        batch_op.drop_index(batch_op.f('ix_outcomes_occurred_on'))

    op.drop_table('outcomes')
