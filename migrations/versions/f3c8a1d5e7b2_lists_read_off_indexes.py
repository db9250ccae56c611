"""the participant list sorted by state reads an index on the pipeline's order, the supervision filter's tabs read
participants counted per state and supervision status, the pickers of staff read users by name, and the forum and
group lists read their kept number of rows

Revision ID: f3c8a1d5e7b2
Revises: f2a7c9d1e4b8
Create Date: 2026-11-30 06:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f3c8a1d5e7b2'
down_revision = 'f2a7c9d1e4b8'
branch_labels = None
depends_on = None

STATES = ("identified", "invited", "attended", "services_offered", "enforced", "closed")
SUPERVISION = ("none", "probation", "parole", "pretrial")
# As ceasefire.models.people.STATE_ORDER_DDL (revisions import nothing of the app).
RANKS = " ".join(f"WHEN state = '{s}' THEN {i}" for i, s in enumerate(STATES))
STATE_ORDER = f"CREATE INDEX ix_participants_state_order ON participants ((CASE {RANKS} END), last_name, first_name, id)"


def _state_column():
    return sa.Column('state', sa.Enum(*STATES, name='state', native_enum=False, create_constraint=True, length=32),
                     nullable=False)


def upgrade():
    op.create_index('ix_users_name', 'users', ['name', 'id'], unique=False)
    op.execute(STATE_ORDER)
    op.drop_table('participant_counts')
    counts = op.create_table(
        'participant_counts',
        _state_column(),
        sa.Column('supervision_status', sa.Enum(*SUPERVISION, name='supervision_status', native_enum=False,
                                                create_constraint=True, length=32), nullable=False),
        sa.Column('participants', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('state', 'supervision_status', name=op.f('pk_participant_counts')),
    )
    found = {(s, v): n for s, v, n in op.get_bind().execute(sa.text(
        "SELECT state, supervision_status, count(*) FROM participants WHERE purged_at IS NULL "
        "GROUP BY state, supervision_status"
    )).all()}
    op.bulk_insert(counts, [{"state": s, "supervision_status": v, "participants": found.get((s, v), 0)}
                            for s in STATES for v in SUPERVISION])
    tables = op.create_table(
        'table_counts',
        sa.Column('table_name', sa.String(length=32), nullable=False),
        sa.Column('rows', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('table_name', name=op.f('pk_table_counts')),
    )
    op.bulk_insert(tables, [
        {"table_name": name, "rows": op.get_bind().scalar(sa.text(f"SELECT count(*) FROM {name}"))}  # noqa: S608
        for name in ("forums", "groups")
    ])


def downgrade():
    op.drop_table('table_counts')
    op.drop_table('participant_counts')
    counts = op.create_table(
        'participant_counts',
        _state_column(),
        sa.Column('participants', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('state', name=op.f('pk_participant_counts')),
    )
    found = dict(op.get_bind().execute(sa.text(
        "SELECT state, count(*) FROM participants WHERE purged_at IS NULL GROUP BY state"
    )).all())
    op.bulk_insert(counts, [{"state": s, "participants": found.get(s, 0)} for s in STATES])
    op.execute("DROP INDEX ix_participants_state_order")
    op.drop_index('ix_users_name', table_name='users')
