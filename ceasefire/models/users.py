"""Who signs in, for which organization, and their API tokens."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ceasefire import limits
from ceasefire.extensions import Model
from ceasefire.models.base import UTCDateTime, enum_type, utcnow
from ceasefire.models.enums import OrgKind, Role


class Organization(Model):
    """An agency or organization, with fields after Open Referral HSDS."""

    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(limits.TITLE), index=True)
    kind: Mapped[OrgKind] = mapped_column(enum_type(OrgKind, "org_kind"), index=True)
    description: Mapped[str | None] = mapped_column(sa.Text)
    email: Mapped[str | None] = mapped_column(sa.String(limits.EMAIL))
    phone: Mapped[str | None] = mapped_column(sa.String(limits.PHONE))
    url: Mapped[str | None] = mapped_column(sa.String(limits.URL))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # Service lives in models/referrals.py, which imports this module: importing it here would close a circle.
    services: Mapped[list[Service]] = relationship(back_populates="organization")  # type: ignore[name-defined]  # noqa: F821


class User(UserMixin, Model):
    __tablename__ = "users"
    # Pickers list staff by name (the participant list's caseworker filter, the audit page's users): the first
    # hundred are read off this index, not sorted from every user.
    __table_args__ = (sa.Index("ix_users_name", "name", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(limits.EMAIL), unique=True)
    name: Mapped[str] = mapped_column(sa.String(limits.NAME))
    role: Mapped[Role] = mapped_column(enum_type(Role, "role"), index=True)
    organization_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Sign-in protection (CJIS 5.5.3): failures since the last success, and the end of a lockout.
    failed_logins: Mapped[int] = mapped_column(default=0, server_default=sa.text("0"))
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when an admin resets the password: the next sign-in leads to choosing a new one before anything else.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))
    totp_last_step: Mapped[int | None]

    organization: Mapped[Organization | None] = relationship()

    @property
    def has_second_factor(self) -> bool:
        return self.totp_secret is not None

    @property
    def is_active(self) -> bool:
        return self.active

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"


class ApiToken(Model):
    """A bearer token; only its SHA-256 is kept, so a copy of the database gives no working token."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(limits.NAME))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class RecoveryCode(Model):
    """A one-time code to sign in without the authenticator; only its SHA-256 is kept."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# The admin pages' search boxes (ceasefire.services.directory) find any part of a name (or a user's email). On
# PostgreSQL, where a statewide program keeps some 20,000 users and 4,000 organizations and services, trigram GIN
# indexes on the lowered text serve them; SQLite reads its few thousand rows. Created with the tables (create_all)
# and by the migrations, which repeat these statements; Alembic does not compare indexes on expressions.
ADMIN_SEARCH_POSTGRESQL = {
    "ix_users_name_trgm": "CREATE INDEX ix_users_name_trgm ON users USING gin (lower(name) gin_trgm_ops)",
    "ix_users_email_trgm": "CREATE INDEX ix_users_email_trgm ON users USING gin (lower(email) gin_trgm_ops)",
    "ix_organizations_name_trgm": "CREATE INDEX ix_organizations_name_trgm ON organizations USING gin "
                                  "(lower(name) gin_trgm_ops)",
    "ix_services_name_trgm": "CREATE INDEX ix_services_name_trgm ON services USING gin (lower(name) gin_trgm_ops)",
}


def admin_search_index(name: str | None) -> bool:
    return name in ADMIN_SEARCH_POSTGRESQL


for _statement in ("CREATE EXTENSION IF NOT EXISTS pg_trgm", *ADMIN_SEARCH_POSTGRESQL.values()):
    sa.event.listen(Model.metadata, "after_create", sa.DDL(_statement).execute_if(dialect="postgresql"))
