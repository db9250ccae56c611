"""due process and retention: review dates, reviews, removal requests, identification criteria, purge marker

Revision ID: d4e8b2c61f07
Revises: 1fb4d156d8ab
Create Date: 2026-11-30 00:20:00.000000

"""
from datetime import date, timedelta

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4e8b2c61f07'
down_revision = '1fb4d156d8ab'  # after fieldnotes' revision, merged into this branch
branch_labels = None
depends_on = None

REVIEW_PERIOD_DAYS = 1826  # the default of the REVIEW_PERIOD_DAYS setting
EXAMPLE_CRITERIA = (
    "Involved in a shooting, as victim or suspect, in the last 12 months",
    "Identified by two sources as a member of an active group",
    "On supervision for a violent offence",
)


def _age_band(born, on):
    """ceasefire.services.reports.age_band as it stood when this revision was written."""
    if born is None:
        return "unknown"
    age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    if age < 18:
        return "under_18"
    if age <= 24:
        return "18_24"
    if age <= 34:
        return "25_34"
    return "35_plus"


def _day(value):
    return value if isinstance(value, date) or value is None else date.fromisoformat(str(value)[:10])


def upgrade():
    op.create_table('identification_criteria',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('retired_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identification_criteria')),
    sa.UniqueConstraint('name', name=op.f('uq_identification_criteria_name'))
    )
    op.create_table('participant_criteria',
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('criterion_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['criterion_id'], ['identification_criteria.id'], name=op.f('fk_participant_criteria_criterion_id_identification_criteria')),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], name=op.f('fk_participant_criteria_participant_id_participants')),
    sa.PrimaryKeyConstraint('participant_id', 'criterion_id', name=op.f('pk_participant_criteria'))
    )
    with op.batch_alter_table('participant_criteria', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_participant_criteria_criterion_id'), ['criterion_id'], unique=False)

    op.create_table('reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.Enum('retain', 'purge', name='review_decision', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_reviews_actor_id_users')),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], name=op.f('fk_reviews_participant_id_participants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reviews'))
    )
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reviews_participant_id'), ['participant_id'], unique=False)

    op.create_table('removal_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('requested_by', sa.Enum('self', 'parent_guardian', 'attorney', 'other', name='requested_by', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('grounds', sa.Text(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('open', 'granted', 'denied', name='removal_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_removal_requests_decided_by_id_users')),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], name=op.f('fk_removal_requests_participant_id_participants')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_removal_requests_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_removal_requests'))
    )
    with op.batch_alter_table('removal_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_removal_requests_due_on'), ['due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_removal_requests_participant_id'), ['participant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_removal_requests_status'), ['status'], unique=False)

    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.alter_column('review_due', new_column_name='review_due_on', existing_type=sa.Date(), existing_nullable=True)
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('age_band', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('purged_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_participants_purged_at'), ['purged_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_participants_review_due_on'), ['review_due_on'], unique=False)

    # Existing participants: the review falls due the period after identification; the age band at identification
    # is worked out once from the date of birth, so a purge can erase the date and keep the band.
    conn = op.get_bind()
    participants = sa.table('participants', sa.column('id', sa.Integer), sa.column('date_of_birth', sa.Date),
                            sa.column('identified_on', sa.Date), sa.column('review_due_on', sa.Date),
                            sa.column('age_band', sa.String))
    rows = conn.execute(sa.select(participants.c.id, participants.c.date_of_birth, participants.c.identified_on)).all()
    for pid, born, identified_on in rows:
        identified_on, born = _day(identified_on), _day(born)
        conn.execute(
            participants.update().where(participants.c.id == pid).values(
                review_due_on=identified_on + timedelta(days=REVIEW_PERIOD_DAYS),
                age_band=_age_band(born, identified_on),
            )
        )
    criteria = sa.table('identification_criteria', sa.column('name', sa.String), sa.column('created_at', sa.DateTime))
    from datetime import datetime, timezone
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    op.bulk_insert(criteria, [{"name": name, "created_at": now} for name in EXAMPLE_CRITERIA])


def downgrade():
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_participants_review_due_on'))
        batch_op.drop_index(batch_op.f('ix_participants_purged_at'))
        batch_op.drop_column('purged_at')
        batch_op.drop_column('age_band')
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.alter_column('review_due_on', new_column_name='review_due', existing_type=sa.Date(), existing_nullable=True)

    with op.batch_alter_table('removal_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_removal_requests_status'))
        batch_op.drop_index(batch_op.f('ix_removal_requests_participant_id'))
        batch_op.drop_index(batch_op.f('ix_removal_requests_due_on'))

    op.drop_table('removal_requests')
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reviews_participant_id'))

    op.drop_table('reviews')
    with op.batch_alter_table('participant_criteria', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_participant_criteria_criterion_id'))

    op.drop_table('participant_criteria')
    op.drop_table('identification_criteria')
