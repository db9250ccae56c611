"""activity days: forums held, invitations, custom notifications, outreach contacts and referrals sent, counted by
the program's day (TIMEZONE), kept with every change so the activity report reads a window's days instead of every
record; the row of measure "@" and the zone's name says they are kept, and in which zone

Revision ID: b8d4f2a6c1e3
Revises: a7c3e9f1b5d2
Create Date: 2026-11-30 09:50:00

"""
import os
from datetime import UTC, date
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b8d4f2a6c1e3'
down_revision = 'a7c3e9f1b5d2'
branch_labels = None
depends_on = None

COUNTED = (
    ("invitations", "SELECT delivered_at FROM invitations"),
    ("custom_notifications", "SELECT delivered_at FROM custom_notifications"),
    ("outreach_contacts", "SELECT contacted_at FROM outreach_contacts"),
    ("referrals", "SELECT sent_at FROM referrals"),
    # as ceasefire.models.activity.held(): set held, or not cancelled and somebody checked in
    ("forums_held", "SELECT f.scheduled_at FROM forums f WHERE f.status = 'held' OR (f.status != 'cancelled' AND"
                    " EXISTS (SELECT 1 FROM invitations i WHERE i.forum_id = f.id AND i.attended))"),
)


def _zone() -> ZoneInfo:
    """The program's zone: the app's TIMEZONE when the app runs the migration (flask db upgrade), else UTC."""
    try:
        from flask import current_app
        name = current_app.config.get("TIMEZONE")
    except RuntimeError:
        name = None
    return ZoneInfo(name or os.environ.get("TIMEZONE") or "UTC")


def upgrade():
    days = op.create_table(
        'activity_days',
        sa.Column('measure', sa.String(length=64), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('measure', 'day', name=op.f('pk_activity_days')),
    )
    zone = _zone()
    found: dict = {}
    connection = op.get_bind()
    for measure, select in COUNTED:
        for (moment,) in connection.execute(sa.text(select).columns(sa.column("moment", sa.DateTime()))):
            if moment is None:
                continue
            if isinstance(moment, str):  # SQLite hands back text where the type is not said
                moment = sa.DateTime().result_processor(connection.dialect, None)(moment)
            aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
            try:
                day = aware.astimezone(zone).date()
            except OverflowError:
                day = moment.date()
            found[(measure, day)] = found.get((measure, day), 0) + 1
    op.bulk_insert(days, [{"measure": "@" + zone.key, "day": date(1970, 1, 1), "n": 0},
                          *({"measure": m, "day": d, "n": n} for (m, d), n in found.items())])


def downgrade():
    op.drop_table('activity_days')
