"""search postings of two letters: each participant's pieces of two letters are posted beside those of three, with
their name and state, so that a page of a two-letter search is read off the postings in the list's order (about a
page of rows) instead of walking the name index and comparing every row

Revision ID: c9e5a3f7d2b4
Revises: c6e2a8f4d1b7
Create Date: 2026-11-30 12:15:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c9e5a3f7d2b4'
down_revision = 'c6e2a8f4d1b7'
branch_labels = None
depends_on = None

PEOPLE = (
    "SELECT id AS k, lower(first_name || ' ' || last_name) AS name, lower(coalesce(aliases, '')) AS aliases, "
    "last_name, first_name, state FROM participants WHERE purged_at IS NULL"
)


def _postings(dialect):
    """The INSERT of every participant's distinct pieces of two letters (as ceasefire.models.search_counts cuts
    them; revisions import nothing of the app), in the key's order."""
    if dialect == "sqlite":
        positions = "JOIN search_positions AS p ON p.i <= length(t.s) - 1"
    else:
        positions = "CROSS JOIN LATERAL generate_series(1, length(t.s) - 1) AS p(i)"
    return (
        f"WITH src AS ({PEOPLE}), "
        "texts AS (SELECT k, name AS s FROM src UNION ALL SELECT k, aliases AS s FROM src), "
        "grams AS (SELECT t.k, substr(t.s, p.i, 2) AS gram "
        f"FROM texts AS t {positions} "
        "WHERE substr(t.s, p.i, 1) <> ' ' AND substr(t.s, p.i + 1, 1) <> ' ' GROUP BY 1, 2) "
        "INSERT INTO search_postings (gram, last_name, first_name, participant_id, state) "
        "SELECT g.gram, src.last_name, src.first_name, src.k, src.state FROM grams AS g JOIN src ON src.k = g.k "
        "ORDER BY 1, 2, 3, 4"
    )


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        bind.execute(sa.text(_postings(bind.dialect.name)))
        return
    # On PostgreSQL the key is built anew after the insert, from the rows sorted once: the new rows fall between the
    # old ones all along the key, where each one inserted would split a full page in two.
    bind.execute(sa.text("SET LOCAL jit = off"))
    bind.execute(sa.text("SET LOCAL maintenance_work_mem = '512MB'"))
    op.drop_constraint('pk_search_postings', 'search_postings', type_='primary')
    bind.execute(sa.text(_postings(bind.dialect.name)))
    op.create_primary_key('pk_search_postings', 'search_postings',
                          ['gram', 'last_name', 'first_name', 'participant_id', 'state'])
    bind.execute(sa.text("ANALYZE search_postings"))  # the planner learns of the new pieces before the first search


def downgrade():
    op.execute("DELETE FROM search_postings WHERE length(gram) = 2")
