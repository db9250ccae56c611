"""search gram counts and postings: how many participants in each state hold each piece of one to three letters of
their lowered name or aliases, and each participant's pieces of three letters with their name and state, kept with
every change, so that a short name search is counted off a row instead of off every match, and a page of a search
is read off the postings in the list's order

Revision ID: a9d4c2e7f1b3
Revises: a8c4e2f6b1d3
Create Date: 2026-11-30 09:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a9d4c2e7f1b3'
down_revision = 'a8c4e2f6b1d3'
branch_labels = None
depends_on = None

STATES = ("identified", "invited", "attended", "services_offered", "enforced", "closed")
GRAM_MAX = 3


def _pieces(dialect, source, lengths, empty):
    """As ceasefire.models.search_counts (revisions import nothing of the app)."""
    sizes = " UNION ALL ".join(f"SELECT {n} AS n" for n in lengths)
    if dialect == "sqlite":
        positions = "JOIN search_positions AS p ON p.i <= length(t.s) - z.n + 1"
    else:
        positions = "CROSS JOIN LATERAL generate_series(1, length(t.s) - z.n + 1) AS p(i)"
    return (
        f"WITH src AS ({source}), "
        "texts AS (SELECT k, name AS s FROM src UNION ALL SELECT k, aliases AS s FROM src), "
        "grams AS (SELECT t.k, substr(t.s, p.i, z.n) AS gram "
        f"FROM texts AS t CROSS JOIN ({sizes}) AS z {positions} "
        "WHERE substr(t.s, p.i, 1) <> ' ' AND substr(t.s, p.i + z.n - 1, 1) <> ' ' "
        + ("UNION SELECT k, '' AS gram FROM src) " if empty else "GROUP BY 1, 2) ")
    )


COUNTS = (
    "SELECT row_number() OVER () AS k, name, aliases, state, d FROM (SELECT lower(first_name || ' ' || "
    "last_name) AS name, lower(coalesce(aliases, '')) AS aliases, state, count(*) AS d FROM participants "
    "WHERE purged_at IS NULL GROUP BY 1, 2, 3) AS people"
)
POSTINGS = (
    "SELECT id AS k, lower(first_name || ' ' || last_name) AS name, lower(coalesce(aliases, '')) AS aliases, "
    "last_name, first_name, state FROM participants WHERE purged_at IS NULL"
)


def upgrade():
    counts = op.create_table(
        'search_gram_counts',
        sa.Column('gram', sa.String(length=16), nullable=False),
        sa.Column('state', sa.Enum(*STATES, name='state', native_enum=False, create_constraint=True, length=32),
                  nullable=False),
        sa.Column('participants', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('gram', 'state', name=op.f('pk_search_gram_counts')),
    )
    op.create_table(
        'search_postings',
        sa.Column('gram', sa.String(length=16), nullable=False),
        sa.Column('last_name', sa.String(length=100), nullable=False),
        sa.Column('first_name', sa.String(length=100), nullable=False),
        sa.Column('participant_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('state', sa.Enum(*STATES, name='state', native_enum=False, create_constraint=True, length=32),
                  nullable=False),
        sa.PrimaryKeyConstraint('gram', 'last_name', 'first_name', 'participant_id', 'state',
                                name=op.f('pk_search_postings')),
        sqlite_with_rowid=False,
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        bind.execute(sa.text("SET LOCAL jit = off"))
    bind.execute(sa.text(_pieces(bind.dialect.name, COUNTS, tuple(range(1, GRAM_MAX + 1)), True) + (
        "INSERT INTO search_gram_counts (gram, state, participants) "
        "SELECT g.gram, src.state, sum(src.d) FROM grams AS g JOIN src ON src.k = g.k "
        "GROUP BY g.gram, src.state ORDER BY g.gram, src.state"
    )))
    bind.execute(sa.text(_pieces(bind.dialect.name, POSTINGS, (GRAM_MAX,), False) + (
        "INSERT INTO search_postings (gram, last_name, first_name, participant_id, state) "
        "SELECT g.gram, src.last_name, src.first_name, src.k, src.state FROM grams AS g JOIN src ON src.k = g.k "
        "ORDER BY 1, 2, 3, 4"
    )))
    present = set(bind.execute(sa.text("SELECT state FROM search_gram_counts WHERE gram = ''")).scalars())
    op.bulk_insert(counts, [{"gram": "", "state": s, "participants": 0} for s in STATES if s not in present])


def downgrade():
    op.drop_table('search_postings')
    op.drop_table('search_gram_counts')
