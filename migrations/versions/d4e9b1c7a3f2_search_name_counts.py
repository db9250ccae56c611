"""search name counts: how many participants in each state bear each name, lowered as the name search compares it,
kept with every change, so that a search of more than four letters is summed off the distinct names holding it (a
trigram index on PostgreSQL) instead of counted person by person

Revision ID: d4e9b1c7a3f2
Revises: c2f8a4d6e1b9
Create Date: 2026-12-02 07:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4e9b1c7a3f2'
down_revision = 'c2f8a4d6e1b9'
branch_labels = None
depends_on = None

STATES = ("identified", "invited", "attended", "services_offered", "enforced", "closed")


def upgrade():
    counts = op.create_table(
        'search_name_counts',
        sa.Column('name', sa.String(length=201), nullable=False),
        sa.Column('state', sa.Enum(*STATES, name='state', native_enum=False, create_constraint=True, length=32),
                  nullable=False),
        sa.Column('participants', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('name', 'state', name=op.f('pk_search_name_counts')),
    )
    bind = op.get_bind()
    # As ceasefire.models.search_counts (revisions import nothing of the app): the empty name's rows say "kept".
    op.bulk_insert(counts, [{"name": "", "state": s, "participants": 0} for s in STATES])
    bind.execute(sa.text(
        "INSERT INTO search_name_counts (name, state, participants) "
        "SELECT lower(first_name || ' ' || last_name), state, count(*) FROM participants WHERE purged_at IS NULL "
        "GROUP BY 1, 2 ORDER BY 1, 2"
    ))
    if bind.dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_search_name_counts_name_trgm ON search_name_counts USING gin (name gin_trgm_ops)")


def downgrade():
    op.drop_table('search_name_counts')
