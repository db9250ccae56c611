"""The audit trail: append-only, written by ceasefire.services.audit alone."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ceasefire.extensions import Model
from ceasefire.models.base import UTCDateTime, utcnow


class AuditEvent(Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(sa.String(32), index=True)
    object_type: Mapped[str | None] = mapped_column(sa.String(32))
    object_id: Mapped[int | None] = mapped_column(index=True)
    # The participant a row is about, whatever its object (the participant, one of their referrals…), so a
    # supervisor can see everything done with one person's file.
    participant_id: Mapped[int | None] = mapped_column(index=True)
    ip: Mapped[str | None] = mapped_column(sa.String(64))
    face: Mapped[str | None] = mapped_column(sa.String(8))
    detail: Mapped[str | None] = mapped_column(sa.String(500))


# The database itself keeps the trail append-only: not a bug, not a console session, can rewrite it.
# (sa.DDL formats with %, so the PL/pgSQL placeholder is written %%.)
APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: %% refused', TG_OP;
END;
$$ LANGUAGE plpgsql
"""
APPEND_ONLY_TRIGGER = """
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()
"""
# Row triggers do not see TRUNCATE, which empties the table at once: refused too, whoever asks (the owner included).
NO_TRUNCATE_TRIGGER = """
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()
"""
SQLITE_TRIGGERS = tuple(
    f"""
CREATE TRIGGER audit_events_no_{op.lower()} BEFORE {op} ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: {op} refused'); END
"""
    for op in ("UPDATE", "DELETE")
)
for _statement in (APPEND_ONLY_FUNCTION, APPEND_ONLY_TRIGGER, NO_TRUNCATE_TRIGGER):
    sa.event.listen(AuditEvent.__table__, "after_create", sa.DDL(_statement).execute_if(dialect="postgresql"))
for _statement in SQLITE_TRIGGERS:
    sa.event.listen(AuditEvent.__table__, "after_create", sa.DDL(_statement).execute_if(dialect="sqlite"))
