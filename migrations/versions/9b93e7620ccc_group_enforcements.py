"""group enforcement: one action against a street group, linked to each member's

Revision ID: 9b93e7620ccc
Revises: d4e8b2c61f07
Create Date: 2026-11-30 00:10:00.612157

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9b93e7620ccc'
down_revision = 'd4e8b2c61f07'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('group_enforcements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('action_type', sa.Enum('arrest', 'probation_violation', 'parole_violation', 'warrant', 'federal_referral', 'other', name='action_type', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('incident_ref', sa.String(length=100), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['organizations.id'], name=op.f('fk_group_enforcements_agency_id_organizations')),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_group_enforcements_group_id_groups')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_group_enforcements_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_enforcements'))
    )
    with op.batch_alter_table('group_enforcements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_group_enforcements_group_id'), ['group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_group_enforcements_occurred_on'), ['occurred_on'], unique=False)

    with op.batch_alter_table('enforcement_actions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('group_enforcement_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_enforcement_actions_group_enforcement_id'), ['group_enforcement_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_enforcement_actions_group_enforcement_id_group_enforcements'), 'group_enforcements', ['group_enforcement_id'], ['id'])


def downgrade():
    with op.batch_alter_table('enforcement_actions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_enforcement_actions_group_enforcement_id_group_enforcements'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_enforcement_actions_group_enforcement_id'))
        batch_op.drop_column('group_enforcement_id')

    with op.batch_alter_table('group_enforcements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_group_enforcements_occurred_on'))
        batch_op.drop_index(batch_op.f('ix_group_enforcements_group_id'))

    op.drop_table('group_enforcements')
