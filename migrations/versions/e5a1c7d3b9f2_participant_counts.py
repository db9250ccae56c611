"""participant counts: how many participants are in each state, purged ones left out, how many were identified by
supervision status and age band, and how many referrals are in each status, kept with every change so the lists'
totals, tabs and identification summary need not count every row

Revision ID: e5a1c7d3b9f2
Revises: c4d2e8f1a903
Create Date: 2026-11-30 03:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e5a1c7d3b9f2'
down_revision = 'c4d2e8f1a903'
branch_labels = None
depends_on = None

STATES = ("identified", "invited", "attended", "services_offered", "enforced", "closed")
SUPERVISION = ("none", "probation", "parole", "pretrial")
BANDS = ("under_18", "18_24", "25_34", "35_plus", "unknown")
REFERRAL_STATUSES = ("sent", "accepted", "declined", "enrolled", "completed", "dropped", "withdrawn")


def _band(born, on, kept):
    """As ceasefire.models.counts.age_band (revisions import nothing of the app)."""
    if born is None:
        return kept if kept is not None else "unknown"
    if on is None:
        return "35_plus"
    age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    return "under_18" if age < 18 else "18_24" if age <= 24 else "25_34" if age <= 34 else "35_plus"


def upgrade():
    counts = op.create_table(
        'participant_counts',
        sa.Column('state', sa.Enum(*STATES, name='state', native_enum=False, create_constraint=True, length=32),
                  nullable=False),
        sa.Column('participants', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('state', name=op.f('pk_participant_counts')),
    )
    found = dict(op.get_bind().execute(sa.text(
        "SELECT state, count(*) FROM participants WHERE purged_at IS NULL GROUP BY state"
    )).all())
    op.bulk_insert(counts, [{"state": s, "participants": found.get(s, 0)} for s in STATES])
    identification = op.create_table(
        'identification_counts',
        sa.Column('supervision_status', sa.Enum(*SUPERVISION, name='supervision_status', native_enum=False,
                                                create_constraint=True, length=32), nullable=False),
        sa.Column('age_band', sa.String(length=16), nullable=False),
        sa.Column('participants', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('supervision_status', 'age_band', name=op.f('pk_identification_counts')),
    )
    rows = {(s, b): 0 for s in SUPERVISION for b in BANDS}
    people = sa.table("participants", sa.column("supervision_status"), sa.column("date_of_birth", sa.Date),
                      sa.column("identified_on", sa.Date), sa.column("age_band"))
    for status, born, on, kept in op.get_bind().execute(sa.select(*people.c)):
        rows[(status, _band(born, on, kept))] += 1
    op.bulk_insert(identification, [{"supervision_status": s, "age_band": b, "participants": n}
                                    for (s, b), n in rows.items()])


    referrals = op.create_table(
        'referral_counts',
        sa.Column('status', sa.Enum(*REFERRAL_STATUSES, name='status', native_enum=False, create_constraint=True,
                                    length=32), nullable=False),
        sa.Column('referrals', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('status', name=op.f('pk_referral_counts')),
    )
    found = dict(op.get_bind().execute(sa.text(
        "SELECT r.status, count(*) FROM referrals r JOIN participants p ON p.id = r.participant_id"
        " WHERE p.purged_at IS NULL GROUP BY r.status"
    )).all())
    op.bulk_insert(referrals, [{"status": s, "referrals": found.get(s, 0)} for s in REFERRAL_STATUSES])


def downgrade():
    op.drop_table('referral_counts')
    op.drop_table('identification_counts')
    op.drop_table('participant_counts')
