"""participant search serves a q of one or two letters and counts off the index: on PostgreSQL a GIN index on each
person's one- and two-letter pieces; on SQLite the FTS5 trigram table rebuilt over the lowered names (case
sensitive, so that its answer is the substring match itself) and an FTS5 table of the pieces

Revision ID: e5f1a2b3c4d6
Revises: e5a1c7d3b9f2
Create Date: 2026-11-30 03:20:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e5f1a2b3c4d6'
down_revision = 'e5a1c7d3b9f2'
branch_labels = None
depends_on = None

# As ceasefire.models.people (revisions import nothing of the app).
POSTGRESQL = (
    "CREATE OR REPLACE FUNCTION participant_name_grams(name text, aliases text) RETURNS text[] "
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT coalesce(array_agg(DISTINCT substr(t, i, n)), '{}') "
    "FROM unnest(ARRAY[name, coalesce(aliases, '')]) AS t, generate_series(1, 2) AS n, "
    "generate_series(1, length(t) - n + 1) AS i WHERE strpos(substr(t, i, n), ' ') = 0 $$",
    "CREATE INDEX ix_participants_name_grams ON participants USING gin "
    "(participant_name_grams(lower(first_name || ' ' || last_name), lower(aliases)))",
)


def grams(row: str) -> str:
    """The hex words of a row's pieces, in a trigger (`row` is new or old)."""
    return (
        "SELECT coalesce(group_concat(g, ' '), '') "  # noqa: S608
        "FROM (SELECT DISTINCT hex(substr(t.s, p.i, k.n)) AS g FROM "
        f"(SELECT lower({row}.first_name || ' ' || {row}.last_name) AS s "
        f"UNION ALL SELECT lower(coalesce({row}.aliases, ''))) AS t JOIN (SELECT 1 AS n UNION ALL SELECT 2) AS k "
        "JOIN search_positions AS p ON p.i <= length(t.s) - k.n + 1 WHERE instr(substr(t.s, p.i, k.n), ' ') = 0)"
    )


NAME = "lower(new.first_name || ' ' || new.last_name)"
ALIASES = "lower(coalesce(new.aliases, ''))"
# The pieces' table keeps no copy of its text (content=''): a row is taken out with the words it went in with.
ADD = f"INSERT INTO participant_grams (rowid, grams) VALUES (new.id, ({grams('new')})); "  # noqa: S608
FORGET = (
    "INSERT INTO participant_grams (participant_grams, rowid, grams) "  # noqa: S608
    f"VALUES ('delete', old.id, ({grams('old')})); "
)
SQLITE = (
    "CREATE TABLE search_positions (i INTEGER PRIMARY KEY)",
    "INSERT INTO search_positions (i) WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
    "WHERE i < 500) SELECT i FROM n",
    "CREATE VIRTUAL TABLE participant_names USING fts5(name, aliases, tokenize='trigram case_sensitive 1')",
    "CREATE VIRTUAL TABLE participant_grams USING fts5(grams, tokenize='unicode61', detail='none', content='', "
    "columnsize=0)",
    "CREATE TRIGGER participant_names_insert AFTER INSERT ON participants BEGIN "
    f"INSERT INTO participant_names (rowid, name, aliases) VALUES (new.id, {NAME}, {ALIASES}); "
    f"{ADD}END",
    "CREATE TRIGGER participant_names_update AFTER UPDATE OF first_name, last_name, aliases ON participants BEGIN "
    f"UPDATE participant_names SET name = {NAME}, aliases = {ALIASES} WHERE rowid = new.id; "
    f"{FORGET}{ADD}END",
    "CREATE TRIGGER participant_names_delete AFTER DELETE ON participants BEGIN "
    f"DELETE FROM participant_names WHERE rowid = old.id; {FORGET}END",
    "INSERT INTO participant_names (rowid, name, aliases) SELECT id, lower(first_name || ' ' || last_name), "
    "lower(coalesce(aliases, '')) FROM participants",
    f"INSERT INTO participant_grams (rowid, grams) SELECT r.id, ({grams('r')}) FROM participants AS r",
)
# The previous revision's SQLite search: a case-blind trigram table over the names as written.
SQLITE_BEFORE = (
    "CREATE VIRTUAL TABLE participant_names USING fts5(name, aliases, tokenize='trigram')",
    "CREATE TRIGGER participant_names_insert AFTER INSERT ON participants BEGIN "
    "INSERT INTO participant_names (rowid, name, aliases) "
    "VALUES (new.id, new.first_name || ' ' || new.last_name, coalesce(new.aliases, '')); END",
    "CREATE TRIGGER participant_names_update AFTER UPDATE OF first_name, last_name, aliases ON participants BEGIN "
    "UPDATE participant_names SET name = new.first_name || ' ' || new.last_name, aliases = coalesce(new.aliases, '') "
    "WHERE rowid = new.id; END",
    "CREATE TRIGGER participant_names_delete AFTER DELETE ON participants BEGIN "
    "DELETE FROM participant_names WHERE rowid = old.id; END",
    "INSERT INTO participant_names (rowid, name, aliases) "
    "SELECT id, first_name || ' ' || last_name, coalesce(aliases, '') FROM participants",
)


def _drop_sqlite():
    for trigger in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS participant_names_{trigger}")
    for table in ("participant_names", "participant_grams", "search_positions"):
        op.execute(f"DROP TABLE IF EXISTS {table}")


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for statement in POSTGRESQL:
            op.execute(statement)
    elif dialect == "sqlite":
        _drop_sqlite()
        for statement in SQLITE:
            op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_participants_name_grams")
        op.execute("DROP FUNCTION IF EXISTS participant_name_grams(text, text)")
    elif dialect == "sqlite":
        _drop_sqlite()
        for statement in SQLITE_BEFORE:
            op.execute(statement)
