"""search four-letter counts: the kept counts of the name search's pieces (search_gram_counts) hold the pieces of
four letters too, so that a search of four letters is counted off its rows (ceasefire.models.search_counts,
GRAM_MAX = 4)

Revision ID: c2f8a4d6e1b9
Revises: b7e4d2a9c6f1
Create Date: 2026-12-01 05:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c2f8a4d6e1b9'
down_revision = 'b7e4d2a9c6f1'
branch_labels = None
depends_on = None


def _pieces(dialect, source, lengths):
    """As ceasefire.models.search_counts at this revision (revisions import nothing of the app): each row's
    distinct pieces of these lengths."""
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
        "WHERE substr(t.s, p.i, 1) <> ' ' AND substr(t.s, p.i + z.n - 1, 1) <> ' ' GROUP BY 1, 2) "
    )


COUNTS = (
    "SELECT row_number() OVER () AS k, name, aliases, state, d FROM (SELECT lower(first_name || ' ' || "
    "last_name) AS name, lower(coalesce(aliases, '')) AS aliases, state, count(*) AS d FROM participants "
    "WHERE purged_at IS NULL GROUP BY 1, 2, 3) AS people"
)


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        bind.execute(sa.text("SET LOCAL jit = off"))
    bind.execute(sa.text(_pieces(bind.dialect.name, COUNTS, (4,)) + (
        "INSERT INTO search_gram_counts (gram, state, participants) "
        "SELECT g.gram, src.state, sum(src.d) FROM grams AS g JOIN src ON src.k = g.k "
        "GROUP BY g.gram, src.state ORDER BY g.gram, src.state"
    )))


def downgrade():
    op.execute("DELETE FROM search_gram_counts WHERE length(gram) = 4")
