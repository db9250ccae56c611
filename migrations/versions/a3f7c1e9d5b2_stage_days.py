"""stage days: the stage entries by the program's day (TIMEZONE) of their first and of their last moment, and the
spans of each step by the day of the later stage's first entry and by bucket of span (2**40 and 2**36
microseconds), each by day (grain "d") and by month (grain "m"), kept with every change so that the pipeline report
over a window sums them instead of counting stage entries; the row of kind "@" and the zone's name says they are
kept, and in which zone. Each stage entry keeps how many times the stage was entered (`entries`), and the index of
stages entered more than once replaces the index of every entry by its last moment.

Revision ID: a3f7c1e9d5b2
Revises: f6b3d9e2a8c4
Create Date: 2026-11-30 23:00:00

"""
import os
from datetime import UTC, date, timedelta
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a3f7c1e9d5b2'
down_revision = 'f6b3d9e2a8c4'
branch_labels = None
depends_on = None

WIDTHS = {40: "w", 36: "n"}  # as ceasefire.models.stage_days at this revision


def _zone() -> ZoneInfo:
    """The program's zone: the app's TIMEZONE when the app runs the migration (flask db upgrade), else UTC."""
    try:
        from flask import current_app
        name = current_app.config.get("TIMEZONE")
    except RuntimeError:
        name = None
    return ZoneInfo(name or os.environ.get("TIMEZONE") or "UTC")


def upgrade():
    op.add_column('stage_entries', sa.Column('entries', sa.Integer(), server_default='1', nullable=False))
    op.execute(
        "UPDATE stage_entries SET entries = (SELECT count(*) FROM status_changes s"
        " WHERE s.participant_id = stage_entries.participant_id AND s.to_state = stage_entries.stage)"
        " WHERE first_at < last_at"
    )
    op.drop_index('ix_stage_entries_stage_last_at', table_name='stage_entries')
    op.create_index('ix_stage_entries_reentered', 'stage_entries', ['stage', 'last_at', 'first_at', 'entries'],
                    unique=False, postgresql_where=sa.text('first_at < last_at'),
                    sqlite_where=sa.text('first_at < last_at'))
    days = op.create_table(
        'stage_days',
        sa.Column('stage', sa.String(length=32), nullable=False),
        sa.Column('kind', sa.String(length=64), nullable=False),
        sa.Column('grain', sa.String(length=1), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('bucket', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('n', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('stage', 'kind', 'grain', 'day', 'bucket', name=op.f('pk_stage_days'),
                                postgresql_include=['n']),
    )
    zone = _zone()
    connection = op.get_bind()
    entries = sa.table('stage_entries', sa.column('stage'), sa.column('span', sa.BigInteger),
                       sa.column('first_at', sa.DateTime), sa.column('last_at', sa.DateTime))
    hours: dict = {}

    def day_of(moment):
        aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
        hour = aware.replace(minute=0, second=0, microsecond=0)
        if hour not in hours:
            first, last = aware_day(hour), aware_day(hour + timedelta(hours=1, microseconds=-1))
            hours[hour] = first if first == last else None
        return hours[hour] if hours[hour] is not None else aware_day(aware)

    def aware_day(aware):
        try:
            return aware.astimezone(zone).date()
        except OverflowError:
            return aware.date()

    counts: dict = {}
    result = connection.execute(sa.select(entries.c.stage, entries.c.span, entries.c.first_at, entries.c.last_at)
                                .execution_options(yield_per=20000))
    for stage, span, first_at, last_at in result:
        first = day_of(first_at)
        last = first if last_at == first_at else day_of(last_at)
        for grain, on_first, on_last in (("d", first, last), ("m", first.replace(day=1), last.replace(day=1))):
            for key in ((stage, "f", grain, on_first, 0), (stage, "l", grain, on_last, 0)):
                counts[key] = counts.get(key, 0) + 1
            if span is not None:
                for width, kind in WIDTHS.items():
                    key = (stage, kind, grain, on_first, span >> width)
                    counts[key] = counts.get(key, 0) + 1
    rows = [{"stage": "", "kind": "@" + zone.key, "grain": "d", "day": date(1, 1, 1), "bucket": 0, "n": 0},
            *({"stage": s, "kind": k, "grain": g, "day": d, "bucket": b, "n": n}
              for (s, k, g, d, b), n in sorted(counts.items()))]
    for start in range(0, len(rows), 20000):
        op.bulk_insert(days, rows[start:start + 20000])


def downgrade():
    op.drop_table('stage_days')
    op.drop_index('ix_stage_entries_reentered', table_name='stage_entries',
                  postgresql_where=sa.text('first_at < last_at'), sqlite_where=sa.text('first_at < last_at'))
    op.create_index('ix_stage_entries_stage_last_at', 'stage_entries', ['stage', 'last_at', 'first_at'],
                    unique=False)
    op.drop_column('stage_entries', 'entries')
