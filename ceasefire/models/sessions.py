"""Sessions kept on the server: the store's rows (Flask-Session's layout) and an index of signed-in sessions by user."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ceasefire.extensions import Model
from ceasefire.models.base import UTCDateTime


class StoredSession(Model):
    """One session's data, serialized by Flask-Session, under the SHA-256 of the id the cookie holds."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(sa.String(255), unique=True)
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)
    expiry: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class UserSession(Model):
    """A signed-in session: whose, since when, last used when and from where. The store (the database or Redis) cannot
    list a user's sessions; this row can, and while it exists the session is open: deleting it ends the session."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The SHA-256 of the session id, as the store keys it; never the id itself.
    key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ip: Mapped[str | None] = mapped_column(sa.String(64))
    user_agent: Mapped[str | None] = mapped_column(sa.String(300))
