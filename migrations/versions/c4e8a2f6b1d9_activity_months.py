"""activity months: the activity days' counts summed by month, kept beside them, so the activity report reads a
window's whole months (a few hundred rows) and only the days of the months its window cuts

Revision ID: c4e8a2f6b1d9
Revises: f2b8d4a6c9e1
Create Date: 2026-12-03 08:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4e8a2f6b1d9'
down_revision = 'f2b8d4a6c9e1'
branch_labels = None
depends_on = None


def upgrade():
    months = op.create_table(
        'activity_months',
        sa.Column('measure', sa.String(length=64), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('measure', 'month', name=op.f('pk_activity_months')),
    )
    days = sa.table('activity_days', sa.column('measure', sa.String()), sa.column('day', sa.Date()),
                    sa.column('n', sa.Integer()))
    found: dict = {}
    # a few thousand rows at most (a day per measure): summed here, the same on every database
    for measure, day, n in op.get_bind().execute(sa.select(days.c.measure, days.c.day, days.c.n)
                                                 .where(~days.c.measure.startswith("@"))):
        key = (measure, day.replace(day=1))
        found[key] = found.get(key, 0) + n
    rows = [{"measure": m, "month": d, "n": n} for (m, d), n in sorted(found.items()) if n]
    if rows:
        op.bulk_insert(months, rows)


def downgrade():
    op.drop_table('activity_months')
