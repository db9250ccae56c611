"""identification days: everyone ever identified by date of identification, supervision status and age band, and
by date and identifying agency, each by day (grain "d") and by month (grain "m", on its first day), kept with every
change so that the identification report over a window sums its whole months and the days of the rest instead of
counting its participants; the row of day 0001-01-01 and no band says they are kept

Revision ID: f6b3d9e2a8c4
Revises: e2a7c5d9b3f1
Create Date: 2026-11-30 20:50:00

"""
from datetime import date

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f6b3d9e2a8c4'
down_revision = 'e2a7c5d9b3f1'
branch_labels = None
depends_on = None


def _band(born, on, kept):
    """As ceasefire.models.counts.age_band at this revision."""
    if born is None:
        return kept if kept is not None else "unknown"
    if on is None:
        return "35_plus"
    age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    return "under_18" if age < 18 else "18_24" if age <= 24 else "25_34" if age <= 34 else "35_plus"


def upgrade():
    days = op.create_table(
        'identification_days',
        sa.Column('grain', sa.String(length=1), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('supervision_status', sa.String(length=16), nullable=False),
        sa.Column('age_band', sa.String(length=16), nullable=False),
        sa.Column('participants', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('grain', 'day', 'supervision_status', 'age_band',
                                name=op.f('pk_identification_days')),
    )
    agency_days = op.create_table(
        'identification_agency_days',
        sa.Column('grain', sa.String(length=1), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('participants', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('grain', 'day', 'organization_id', name=op.f('pk_identification_agency_days')),
    )
    people = sa.table('participants', sa.column('supervision_status'), sa.column('date_of_birth', sa.Date),
                      sa.column('identified_on', sa.Date), sa.column('age_band'), sa.column('identifying_org_id'))
    by_day, by_agency = {}, {}
    result = op.get_bind().execute(sa.select(
        people.c.supervision_status, people.c.date_of_birth, people.c.identified_on, people.c.age_band,
        people.c.identifying_org_id).execution_options(yield_per=10000))
    for status, born, on, kept, agency in result:
        for grain, day in (("d", on), ("m", on.replace(day=1))):
            key = (grain, day, status or "none", _band(born, on, kept))
            by_day[key] = by_day.get(key, 0) + 1
            by_agency[(grain, day, agency or 0)] = by_agency.get((grain, day, agency or 0), 0) + 1
    op.bulk_insert(days, [
        {"grain": "d", "day": date.min, "supervision_status": "", "age_band": "", "participants": 0},
        *({"grain": g, "day": d, "supervision_status": s, "age_band": b, "participants": n}
          for (g, d, s, b), n in by_day.items())])
    if by_agency:
        op.bulk_insert(agency_days, [{"grain": g, "day": d, "organization_id": o, "participants": n}
                                     for (g, d, o), n in by_agency.items()])


def downgrade():
    op.drop_table('identification_agency_days')
    op.drop_table('identification_days')
