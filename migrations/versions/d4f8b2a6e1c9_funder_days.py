"""funder days: each participant's engagement days by way (with the previous one, `since`) and caseload days
(identified, closed from and until, closings and their days from identification), and their counts by day and
month, kept with every change so that the funder report sums a few thousand rows instead of grouping every
engagement and participant; the row of measure "@" and the zone's name says they are kept, and in which zone

Revision ID: d4f8b2a6e1c9
Revises: c9e5a3f7d2b4
Create Date: 2026-11-30 16:50:00

"""
import os
from datetime import UTC, date
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4f8b2a6e1c9'
down_revision = 'c9e5a3f7d2b4'
branch_labels = None
depends_on = None

NO_DAY = date(1, 1, 1)
WAYS = ("attended_forum", "referral_taken_up", "outreach_contact")
# as ceasefire.models.funder_days.worked_out(): (way, SELECT participant, moment)
SOURCES = (
    ("attended_forum", "SELECT i.participant_id, f.scheduled_at FROM invitations i JOIN forums f ON f.id = i.forum_id"
                       " WHERE i.attended AND f.status != 'cancelled'"),
    ("referral_taken_up", "SELECT r.participant_id, e.at FROM referral_events e JOIN referrals r"
                          " ON r.id = e.referral_id WHERE e.to_status IN ('accepted', 'enrolled', 'completed')"),
    ("outreach_contact", "SELECT participant_id, contacted_at FROM outreach_contacts"),
)


def _zone() -> ZoneInfo:
    """The program's zone: the app's TIMEZONE when the app runs the migration (flask db upgrade), else UTC."""
    try:
        from flask import current_app
        name = current_app.config.get("TIMEZONE")
    except RuntimeError:
        name = None
    return ZoneInfo(name or os.environ.get("TIMEZONE") or "UTC")


def _rows(connection, zone):
    """Every participant's rows, as ceasefire.models.funder_days.person_rows() works them out."""
    def typed(select, *columns):  # SQLite hands back text where the type is not said
        return connection.execute(sa.text(select).columns(*columns))

    moment_col = sa.column("moment", sa.DateTime())

    def day_of(moment):
        aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
        try:
            return aware.astimezone(zone).date()
        except OverflowError:
            return moment.date()

    ways = {}
    for way, select in SOURCES:
        for pid, moment in typed(select, sa.column("pid", sa.Integer()), moment_col):
            ways.setdefault(pid, {}).setdefault(way, set()).add(day_of(moment))
    identified = {}
    for pid, on in typed("SELECT id, identified_on FROM participants", sa.column("id", sa.Integer()),
                         sa.column("identified_on", sa.Date())):
        identified[pid] = on
    steps = {}
    for pid, moment, to_state in typed(
            "SELECT participant_id, at, to_state FROM status_changes ORDER BY participant_id, at, id",
            sa.column("participant_id", sa.Integer()), sa.column("at", sa.DateTime()), sa.column("to_state")):
        steps.setdefault(pid, []).append((day_of(moment), to_state == "closed"))
    for pid in sorted(set(ways) | set(identified) | set(steps)):
        yield from _person(pid, ways.get(pid, {}), identified.get(pid), steps.get(pid, []))


def _person(pid, ways, identified_on, steps):
    every = set()
    for way in (*WAYS, "engaged"):
        days = every if way == "engaged" else ways.get(way, set())
        every = every | days
        since = NO_DAY
        for day in sorted(days):
            yield (pid, way, day, since, 1)
            since = day
    if identified_on is not None:
        yield (pid, "identified", identified_on, NO_DAY, 1)
    runs, closings, was_closed = [], {}, False
    for day, closes in steps:
        if closes and not was_closed:
            runs.append([day, None])
        elif not closes and was_closed:
            runs[-1][1] = day
        was_closed = closes
        if closes:
            tally = closings.setdefault(day, [0, 0])
            tally[0] += 1
            if identified_on is not None:
                tally[1] += (day - identified_on).days
    spans = {}
    for first, reopened in runs:
        if identified_on is None:
            continue
        start = max(first, identified_on)
        if reopened is not None and reopened <= start:
            continue
        spans[("closed_from", start)] = spans.get(("closed_from", start), 0) + 1
        if reopened is not None:
            spans[("closed_until", reopened)] = spans.get(("closed_until", reopened), 0) + 1
    for (measure, day), n in spans.items():
        yield (pid, measure, day, NO_DAY, n)
    for day, (n, total) in closings.items():
        yield (pid, "closings", day, NO_DAY, n)
        if identified_on is not None:
            yield (pid, "closing_days", day, NO_DAY, total)


def _keys(measure, day, since, n):
    if measure not in (*WAYS, "engaged"):
        return [((measure, "d", day, NO_DAY), n), ((measure, "m", day.replace(day=1), NO_DAY), n)]
    m_day, m_since = day.replace(day=1), since.replace(day=1)
    return [((measure, "dd", day, since), n), ((measure, "dm", day, m_since), n),
            ((measure, "md", m_day, since), n), ((measure, "mm", m_day, m_since), n)]


def upgrade():
    days = op.create_table(
        'funder_days',
        sa.Column('participant_id', sa.Integer(), nullable=False),
        sa.Column('measure', sa.String(length=32), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('since', sa.Date(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('participant_id', 'measure', 'day', name=op.f('pk_funder_days')),
    )
    counts = op.create_table(
        'funder_counts',
        sa.Column('measure', sa.String(length=64), nullable=False),
        sa.Column('grain', sa.String(length=2), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('since', sa.Date(), nullable=False),
        sa.Column('n', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('measure', 'grain', 'day', 'since', name=op.f('pk_funder_counts')),
    )
    zone = _zone()
    connection = op.get_bind()
    totals = {}
    batch = []
    for row in _rows(connection, zone):
        _pid, measure, day, since, n = row
        for key, k in _keys(measure, day, since, n):
            totals[key] = totals.get(key, 0) + k
        batch.append(row)
        if len(batch) >= 10000:
            op.bulk_insert(days, [dict(zip(("participant_id", "measure", "day", "since", "n"), r)) for r in batch])
            batch = []
    if batch:
        op.bulk_insert(days, [dict(zip(("participant_id", "measure", "day", "since", "n"), r)) for r in batch])
    op.bulk_insert(counts, [
        {"measure": "@" + zone.key, "grain": "", "day": date(1970, 1, 1), "since": NO_DAY, "n": 0},
        *({"measure": m, "grain": g, "day": d, "since": s, "n": n} for (m, g, d, s), n in totals.items() if n),
    ])


def downgrade():
    op.drop_table('funder_counts')
    op.drop_table('funder_days')
