"""SQLite's lower() lowers every letter: each of the app's connections defines it (ceasefire.unicode_lower), as
PostgreSQL's lower() does, where SQLite's own lowered the 26 ASCII letters alone (a participant written "PEÑA" was not
found by "peña"). What the old lower() wrote is written again: the indexes on lower(...) rebuilt, and, when some
participant's name or aliases hold a letter beyond ASCII, the name search's tables and kept pieces filled anew, as
ceasefire.models.people.FILL_SQLITE and ceasefire.models.search_counts.refresh fill them at this revision. Nothing on
PostgreSQL.

Revision ID: d7f3a1c9e5b2
Revises: c4e8a2f6b1d9
Create Date: 2026-12-03 17:10:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd7f3a1c9e5b2'
down_revision = 'c4e8a2f6b1d9'
branch_labels = None
depends_on = None

STATES = ("identified", "invited", "attended", "services_offered", "enforced", "closed")
LOWERED = "lower(first_name || ' ' || last_name), lower(coalesce(aliases, ''))"
# The one- and two-letter pieces of a row's lowered name and aliases as hex words (models.people._grams).
GRAMS = (
    "SELECT coalesce(group_concat(g, ' '), '') FROM (SELECT DISTINCT hex(substr(t.s, p.i, k.n)) AS g FROM "
    "(SELECT lower(d.first_name || ' ' || d.last_name) AS s UNION ALL SELECT lower(coalesce(d.aliases, ''))) AS t "
    "JOIN (SELECT 1 AS n UNION ALL SELECT 2) AS k JOIN search_positions AS p ON p.i <= length(t.s) - k.n + 1 "
    "WHERE instr(substr(t.s, p.i, k.n), ' ') = 0)"
)
# The pieces of one to four letters of each distinct pair (models.search_counts._pieces, GRAM_MAX = 4), the empty
# piece beside them.
PIECES = (
    "WITH src AS (SELECT k, name, aliases FROM search_refresh_names), "
    "texts AS (SELECT k, name AS s FROM src UNION ALL SELECT k, aliases AS s FROM src), "
    "grams AS (SELECT t.k, substr(t.s, p.i, z.n) AS gram FROM texts AS t CROSS JOIN (SELECT 1 AS n UNION ALL "
    "SELECT 2 AS n UNION ALL SELECT 3 AS n UNION ALL SELECT 4 AS n) AS z "
    "JOIN search_positions AS p ON p.i <= length(t.s) - z.n + 1 "
    "WHERE substr(t.s, p.i, 1) <> ' ' AND substr(t.s, p.i + z.n - 1, 1) <> ' ' UNION SELECT k, '' AS gram FROM src) "
    "INSERT INTO search_refresh_pieces (k, gram) SELECT k, gram FROM grams"
)
REFILL = (
    # the trigram table and the table of short pieces (models.people.FILL_SQLITE)
    "DELETE FROM participant_names",
    f"INSERT INTO participant_names (rowid, name, aliases) SELECT id, {LOWERED} FROM participants",
    "INSERT INTO participant_grams (participant_grams) VALUES ('delete-all')",
    f"INSERT INTO participant_grams (rowid, grams) SELECT d.id, ({GRAMS}) FROM participants AS d",
    # the kept counts of pieces and names, and the postings (models.search_counts.refresh)
    "CREATE TEMPORARY TABLE search_refresh_names (k INTEGER, name TEXT, aliases TEXT)",
    "INSERT INTO search_refresh_names (k, name, aliases) SELECT row_number() OVER (ORDER BY name, aliases), name, "
    "aliases FROM (SELECT DISTINCT lower(first_name || ' ' || last_name) AS name, lower(coalesce(aliases, '')) "
    "AS aliases FROM participants WHERE purged_at IS NULL) AS pairs",
    "CREATE INDEX search_refresh_names_pair ON search_refresh_names (name, aliases)",
    "CREATE TEMPORARY TABLE search_refresh_pieces (k INTEGER, gram TEXT)",
    PIECES,
    "CREATE INDEX search_refresh_pieces_k ON search_refresh_pieces (k)",
    "CREATE TEMPORARY TABLE search_refresh_people AS SELECT n.k, p.id, p.last_name, p.first_name, p.state "
    "FROM participants AS p JOIN search_refresh_names AS n ON n.name = lower(p.first_name || ' ' || p.last_name) "
    "AND n.aliases = lower(coalesce(p.aliases, '')) WHERE p.purged_at IS NULL",
    "DELETE FROM search_gram_counts",
    "INSERT INTO search_gram_counts (gram, state, participants) SELECT c.gram, b.state, sum(b.d) "
    "FROM search_refresh_pieces AS c JOIN (SELECT k, state, count(*) AS d FROM search_refresh_people "
    "GROUP BY k, state) AS b ON b.k = c.k GROUP BY c.gram, b.state ORDER BY c.gram, b.state",
    "INSERT INTO search_gram_counts (gram, state, participants) SELECT '', s.state, 0 FROM ("
    + " UNION ALL ".join(f"SELECT '{s}' AS state" for s in STATES)
    + ") AS s WHERE s.state NOT IN (SELECT state FROM search_gram_counts WHERE gram = '')",
    "DELETE FROM search_name_counts",
    "INSERT INTO search_name_counts (name, state, participants) "
    + " UNION ALL ".join(f"SELECT '', '{s}', 0" for s in STATES),
    "INSERT INTO search_name_counts (name, state, participants) SELECT lower(first_name || ' ' || last_name), "
    "state, count(*) FROM participants WHERE purged_at IS NULL GROUP BY 1, 2 ORDER BY 1, 2",
    "DELETE FROM search_postings",
    "INSERT INTO search_postings (gram, last_name, first_name, participant_id, state) "
    "SELECT c.gram, p.last_name, p.first_name, p.id, p.state FROM search_refresh_pieces AS c "
    "JOIN search_refresh_people AS p ON p.k = c.k WHERE length(c.gram) IN (2, 3) ORDER BY 1, 2, 3, 4",
    "DROP TABLE search_refresh_names",
    "DROP TABLE search_refresh_pieces",
    "DROP TABLE search_refresh_people",
)


ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _every_letter(text):
    return None if text is None else str(text).lower()


def _ascii_letters(text):
    return None if text is None else str(text).translate(ASCII_LOWER)


def _rewrite(lower) -> None:
    """Everything lower() wrote, written again by `lower` (defined on this connection for the rest of it): the
    indexes on lower(...), and the name search's tables and kept pieces when some name holds a letter beyond ASCII
    (else both lower()s wrote the same)."""
    bind = op.get_bind()
    bind.connection.dbapi_connection.create_function("lower", 1, lower, deterministic=True)
    lowered = bind.exec_driver_sql(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND sql LIKE '%lower(%' ORDER BY name").scalars().all()
    for name in lowered:
        bind.exec_driver_sql(f'REINDEX "{name}"')
    beyond_ascii = bind.exec_driver_sql(
        "SELECT 1 FROM participants WHERE first_name || last_name || coalesce(aliases, '') GLOB '*[^ -~]*' LIMIT 1"
    ).first()
    if beyond_ascii is not None:
        for statement in REFILL:
            bind.exec_driver_sql(statement)


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        _rewrite(_every_letter)


def downgrade():
    # as SQLite's own lower() writes it, which the app uses again at the revision before
    if op.get_bind().dialect.name == "sqlite":
        _rewrite(_ascii_letters)
