"""participant names: on PostgreSQL, a narrow copy of each participant's names (id, state, the names, the two
lowered texts the name search compares) with a trigram GIN index on each text, kept by a trigger, for the search of
the whole list (ceasefire.models.participant_names). Nothing on SQLite, whose FTS5 table of this name stays.

Revision ID: b7e4d2a9c6f1
Revises: a3f7c1e9d5b2
Create Date: 2026-12-01 05:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b7e4d2a9c6f1'
down_revision = 'a3f7c1e9d5b2'
branch_labels = None
depends_on = None

# As ceasefire.models.participant_names at this revision.
_ROW = (
    "NEW.id, NEW.state, NEW.last_name, NEW.first_name, lower(NEW.first_name || ' ' || NEW.last_name), "
    "lower(coalesce(NEW.aliases, ''))"
)
UPGRADE = (
    "CREATE TABLE participant_names (id integer PRIMARY KEY, state varchar(32) NOT NULL, "
    "last_name varchar(100) NOT NULL, first_name varchar(100) NOT NULL, name text NOT NULL, aliases text NOT NULL)",
    "CREATE OR REPLACE FUNCTION participant_names_keep() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER "
    "SET search_path FROM CURRENT AS $$ BEGIN "
    "IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND NEW.id <> OLD.id) THEN "
    "DELETE FROM participant_names WHERE id = OLD.id; END IF; "
    "IF TG_OP = 'DELETE' THEN RETURN NULL; END IF; "
    "IF NEW.purged_at IS NOT NULL THEN DELETE FROM participant_names WHERE id = NEW.id; RETURN NULL; END IF; "
    f"INSERT INTO participant_names (id, state, last_name, first_name, name, aliases) VALUES ({_ROW}) "
    "ON CONFLICT (id) DO UPDATE SET (state, last_name, first_name, name, aliases) = "
    "(excluded.state, excluded.last_name, excluded.first_name, excluded.name, excluded.aliases); "
    "RETURN NULL; END $$",
    "LOCK TABLE participants IN SHARE ROW EXCLUSIVE MODE",  # no change between the copy and the trigger
    "INSERT INTO participant_names (id, state, last_name, first_name, name, aliases) "
    "SELECT id, state, last_name, first_name, lower(first_name || ' ' || last_name), lower(coalesce(aliases, '')) "
    "FROM participants WHERE purged_at IS NULL",
    "CREATE TRIGGER participant_names_keep AFTER INSERT OR DELETE OR UPDATE OF id, first_name, last_name, aliases, "
    "state, purged_at ON participants FOR EACH ROW EXECUTE FUNCTION participant_names_keep()",
    "CREATE INDEX participant_names_name_trgm ON participant_names USING gin (name gin_trgm_ops)",
    "CREATE INDEX participant_names_aliases_trgm ON participant_names USING gin (aliases gin_trgm_ops)",
)


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in UPGRADE:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS participant_names_keep ON participants")
    op.execute("DROP FUNCTION IF EXISTS participant_names_keep()")
    op.execute("DROP TABLE IF EXISTS participant_names")
