"""notes, outreach contacts, custom notifications, consent in full

Revision ID: 1fb4d156d8ab
Revises: a7c3e91d5b20
Create Date: 2026-11-30 00:07:21.972458

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '1fb4d156d8ab'
down_revision = 'a7c3e91d5b20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('custom_notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('delivered_at', sa.DateTime(), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('response', sa.Text(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], name=op.f('fk_custom_notifications_participant_id_participants')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_custom_notifications_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_custom_notifications'))
    )
    with op.batch_alter_table('custom_notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_custom_notifications_delivered_at'), ['delivered_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_custom_notifications_participant_id'), ['participant_id'], unique=False)

    op.create_table('notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('visibility', sa.Enum('all_staff', 'police_only', 'services_team', name='note_visibility', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_notes_author_id_users')),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], name=op.f('fk_notes_participant_id_participants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notes'))
    )
    with op.batch_alter_table('notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notes_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_notes_participant_id'), ['participant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notes_visibility'), ['visibility'], unique=False)

    op.create_table('outreach_contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('contacted_at', sa.DateTime(), nullable=False),
    sa.Column('kind', sa.Enum('visit', 'call', 'event', name='outreach_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_outreach_contacts_organization_id_organizations')),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], name=op.f('fk_outreach_contacts_participant_id_participants')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_outreach_contacts_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outreach_contacts'))
    )
    with op.batch_alter_table('outreach_contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outreach_contacts_contacted_at'), ['contacted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outreach_contacts_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outreach_contacts_participant_id'), ['participant_id'], unique=False)

    op.create_table('custom_notification_organizations',
    sa.Column('custom_notification_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['custom_notification_id'], ['custom_notifications.id'], name=op.f('fk_custom_notification_organizations_custom_notification_id_custom_notifications')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_custom_notification_organizations_organization_id_organizations')),
    sa.PrimaryKeyConstraint('custom_notification_id', 'organization_id', name=op.f('pk_custom_notification_organizations'))
    )
    with op.batch_alter_table('custom_notification_organizations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_custom_notification_organizations_organization_id'), ['organization_id'], unique=False)

    op.create_table('custom_notification_users',
    sa.Column('custom_notification_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['custom_notification_id'], ['custom_notifications.id'], name=op.f('fk_custom_notification_users_custom_notification_id_custom_notifications')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_custom_notification_users_user_id_users')),
    sa.PrimaryKeyConstraint('custom_notification_id', 'user_id', name=op.f('pk_custom_notification_users'))
    )
    with op.batch_alter_table('custom_notification_users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_custom_notification_users_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('method', sa.Enum('written', 'verbal', name='consent_method', native_enum=False, create_constraint=True, length=32), nullable=True))
        batch_op.add_column(sa.Column('witness_name', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('revoked_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('revoked_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_consents_revoked_by_id_users'), 'users', ['revoked_by_id'], ['id'])



def downgrade():
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_consents_revoked_by_id_users'), type_='foreignkey')
        batch_op.drop_column('revoked_by_id')
        batch_op.drop_column('revoked_at')
        batch_op.drop_column('witness_name')
        # SQLite's batch copy would keep the enum's CHECK on a column that is gone: drop it first.
        batch_op.drop_constraint(batch_op.f('ck_consents_consent_method'), type_='check')
        batch_op.drop_column('method')

    with op.batch_alter_table('custom_notification_users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_custom_notification_users_user_id'))

    op.drop_table('custom_notification_users')
    with op.batch_alter_table('custom_notification_organizations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_custom_notification_organizations_organization_id'))

    op.drop_table('custom_notification_organizations')
    with op.batch_alter_table('outreach_contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outreach_contacts_participant_id'))
        batch_op.drop_index(batch_op.f('ix_outreach_contacts_organization_id'))
        batch_op.drop_index(batch_op.f('ix_outreach_contacts_contacted_at'))

    op.drop_table('outreach_contacts')
    with op.batch_alter_table('notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notes_visibility'))
        batch_op.drop_index(batch_op.f('ix_notes_participant_id'))
        batch_op.drop_index(batch_op.f('ix_notes_created_at'))

    op.drop_table('notes')
    with op.batch_alter_table('custom_notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_custom_notifications_participant_id'))
        batch_op.drop_index(batch_op.f('ix_custom_notifications_delivered_at'))

    op.drop_table('custom_notifications')
