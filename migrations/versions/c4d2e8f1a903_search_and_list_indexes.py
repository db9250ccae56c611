"""participant search (pg_trgm GIN on PostgreSQL, an FTS5 trigram table on SQLite) and list indexes that follow
each list's filter and order

Revision ID: c4d2e8f1a903
Revises: 9b93e7620ccc
Create Date: 2026-11-30 00:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4d2e8f1a903'
down_revision = '9b93e7620ccc'
branch_labels = None
depends_on = None

BY_NAME = ["last_name", "first_name", "id"]
PARTICIPANT_FILTERS = [("state", "state"), ("caseworker", "caseworker_id"), ("group", "group_id"),
                       ("community", "community_org_id"), ("supervision", "supervision_status")]
REFERRAL_INDEXES = [("ix_referrals_sent", ["sent_at", "id"]),
                    ("ix_referrals_status_sent", ["status", "sent_at", "id"]),
                    ("ix_referrals_service_sent", ["service_id", "sent_at", "id"])]

# As ceasefire.models.people.NAME_SEARCH_POSTGRESQL and NAME_SEARCH_SQLITE (revisions import nothing of the app).
POSTGRESQL = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_participants_name_trgm ON participants USING gin (lower(first_name || ' ' || last_name) "
    "gin_trgm_ops)",
    "CREATE INDEX ix_participants_aliases_trgm ON participants USING gin (lower(aliases) gin_trgm_ops)",
)
SQLITE = (
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


def upgrade():
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.drop_index('ix_participants_last_first')
        batch_op.create_index('ix_participants_last_first', BY_NAME, unique=False)
        for key, column in PARTICIPANT_FILTERS:
            batch_op.create_index(f'ix_participants_{key}_by_name', [column, *BY_NAME], unique=False)
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        for name, columns in REFERRAL_INDEXES:
            batch_op.create_index(name, columns, unique=False)
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.create_index('ix_invitations_forum_participant', ['forum_id', 'participant_id'], unique=False)
    dialect = op.get_bind().dialect.name
    for statement in POSTGRESQL if dialect == "postgresql" else SQLITE if dialect == "sqlite" else ():
        op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_participants_aliases_trgm")
        op.execute("DROP INDEX IF EXISTS ix_participants_name_trgm")
    elif dialect == "sqlite":
        for trigger in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS participant_names_{trigger}")
        op.execute("DROP TABLE IF EXISTS participant_names")
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_index('ix_invitations_forum_participant')
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        for name, _columns in REFERRAL_INDEXES:
            batch_op.drop_index(name)
    with op.batch_alter_table('participants', schema=None) as batch_op:
        for key, _column in PARTICIPANT_FILTERS:
            batch_op.drop_index(f'ix_participants_{key}_by_name')
        batch_op.drop_index('ix_participants_last_first')
        batch_op.create_index('ix_participants_last_first', ['last_name', 'first_name'], unique=False)
