"""On PostgreSQL, a narrow copy of each participant's names for the name search of the whole list
(ceasefire.services.search): id, state, the two names as they sort, and the two lowered texts the search compares
(as the participants' own trigram indexes hold them), with a trigram GIN index on each text.

A search matching tens of thousands (`q=john` at a million) spends its time reading the matches' rows to count them
by state and sort them by name; read off the participants, each of those rows is a wide one (the table is 638 MB
at a million, its indexes included), off this table a narrow one (129 MB, its indexes included). A purged
participant has no row here (no one sees one in a list).

Kept by a trigger on participants, in the same transaction as the change, whose function runs as its owner (the
tables' owner, SECURITY DEFINER): the app's own database role may read the copy, never write it
(services.app_role). The database's own, not the models'
(Alembic leaves it alone: models.people.name_search_table); created with the participants (create_all) and by the
migration, which repeats these statements. Bulk seeding drops the trigger and the indexes, fills the table in one
statement and builds them again (fill, below). SQLite's own name search table of the same name is an FTS5 table
(models.people).
"""

from __future__ import annotations

import sqlalchemy as sa

from ceasefire.models.people import Participant

TABLE_NAME = "participant_names"
NAMES = sa.table(
    TABLE_NAME,
    sa.column("id", sa.Integer), sa.column("state", sa.String), sa.column("last_name", sa.String),
    sa.column("first_name", sa.String), sa.column("name", sa.Text), sa.column("aliases", sa.Text),
)

_ROW = (
    "NEW.id, NEW.state, NEW.last_name, NEW.first_name, lower(NEW.first_name || ' ' || NEW.last_name), "
    "lower(coalesce(NEW.aliases, ''))"
)
TABLE = (
    "CREATE TABLE participant_names (id integer PRIMARY KEY, state varchar(32) NOT NULL, "
    "last_name varchar(100) NOT NULL, first_name varchar(100) NOT NULL, name text NOT NULL, aliases text NOT NULL)"
)
FUNCTION = (
    "CREATE OR REPLACE FUNCTION participant_names_keep() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER "  # noqa: S608
    "SET search_path FROM CURRENT AS $$ BEGIN "
    "IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND NEW.id <> OLD.id) THEN "
    "DELETE FROM participant_names WHERE id = OLD.id; END IF; "
    "IF TG_OP = 'DELETE' THEN RETURN NULL; END IF; "
    "IF NEW.purged_at IS NOT NULL THEN DELETE FROM participant_names WHERE id = NEW.id; RETURN NULL; END IF; "
    f"INSERT INTO participant_names (id, state, last_name, first_name, name, aliases) VALUES ({_ROW}) "
    "ON CONFLICT (id) DO UPDATE SET (state, last_name, first_name, name, aliases) = "
    "(excluded.state, excluded.last_name, excluded.first_name, excluded.name, excluded.aliases); "
    "RETURN NULL; END $$"
)
TRIGGER = (
    "CREATE TRIGGER participant_names_keep AFTER INSERT OR DELETE OR UPDATE OF id, first_name, last_name, aliases, "
    "state, purged_at ON participants FOR EACH ROW EXECUTE FUNCTION participant_names_keep()"
)
INDEXES = (
    "CREATE INDEX participant_names_name_trgm ON participant_names USING gin (name gin_trgm_ops)",
    "CREATE INDEX participant_names_aliases_trgm ON participant_names USING gin (aliases gin_trgm_ops)",
)
# Everyone above an id, in one statement (the migration: everyone; bulk seeding: the copies).
FILL = (
    "INSERT INTO participant_names (id, state, last_name, first_name, name, aliases) "
    "SELECT id, state, last_name, first_name, lower(first_name || ' ' || last_name), lower(coalesce(aliases, '')) "
    "FROM participants WHERE id > :above AND purged_at IS NULL"
)
CREATE = (TABLE, FUNCTION, TRIGGER, *INDEXES)  # after the participants and pg_trgm (models.people)


def fill(conn: sa.Connection, above: int) -> None:
    """Bulk seeding, on PostgreSQL: the rows of the participants above id `above`, copied in without the trigger,
    added in one statement, the indexes built again after them (cheaper than keeping them up through every row)."""
    for index in INDEXES:
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {index.split()[2]}")
    conn.execute(sa.text(FILL), {"above": above})
    for index in INDEXES:
        conn.exec_driver_sql(index)
    conn.exec_driver_sql(TRIGGER)


def stop(conn: sa.Connection) -> None:
    """Bulk seeding, on PostgreSQL: the trigger set aside until fill."""
    conn.exec_driver_sql("DROP TRIGGER IF EXISTS participant_names_keep ON participants")


for _statement in CREATE:
    sa.event.listen(Participant.__table__, "after_create", sa.DDL(_statement).execute_if(dialect="postgresql"))
sa.event.listen(Participant.__table__, "after_drop",
                sa.DDL("DROP TABLE IF EXISTS participant_names").execute_if(dialect="postgresql"))
