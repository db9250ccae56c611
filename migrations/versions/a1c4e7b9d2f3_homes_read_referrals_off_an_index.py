"""the homes read a caseworker's referrals (sent by them) and the referrals waiting longest on a provider off an
index: referrals by sender, and a partial index of the sent and accepted ones by their last change; on PostgreSQL the
admin pages' search boxes are served by trigram indexes on users' names and emails, organizations' and services' names

Revision ID: a1c4e7b9d2f3
Revises: e5f1a2b3c4d6
Create Date: 2026-11-30 06:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a1c4e7b9d2f3'
down_revision = 'e5f1a2b3c4d6'
branch_labels = None
depends_on = None

WAITING = "status IN ('sent', 'accepted')"  # as ceasefire.models.referrals
# As ceasefire.models.users.ADMIN_SEARCH_POSTGRESQL.
ADMIN_SEARCH = {
    "ix_users_name_trgm": "CREATE INDEX ix_users_name_trgm ON users USING gin (lower(name) gin_trgm_ops)",
    "ix_users_email_trgm": "CREATE INDEX ix_users_email_trgm ON users USING gin (lower(email) gin_trgm_ops)",
    "ix_organizations_name_trgm": "CREATE INDEX ix_organizations_name_trgm ON organizations USING gin "
                                  "(lower(name) gin_trgm_ops)",
    "ix_services_name_trgm": "CREATE INDEX ix_services_name_trgm ON services USING gin (lower(name) gin_trgm_ops)",
}


def upgrade():
    op.create_index("ix_referrals_sent_by", "referrals", ["sent_by_id"], unique=False)
    op.create_index("ix_referrals_waiting", "referrals", ["updated_at", "id"], unique=False,
                    postgresql_where=sa.text(WAITING), sqlite_where=sa.text(WAITING))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for statement in ADMIN_SEARCH.values():
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for name in ADMIN_SEARCH:
            op.execute(f"DROP INDEX IF EXISTS {name}")
    op.drop_index("ix_referrals_waiting", table_name="referrals")
    op.drop_index("ix_referrals_sent_by", table_name="referrals")
