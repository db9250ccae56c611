"""Reading the audit trail (supervisors only); every read of it is itself audited."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from ceasefire import policy
from ceasefire.models import AuditEvent, User
from ceasefire.services import audit


def query(
    actor: User,
    participant_id: int | None = None,
    user_id: int | None = None,
    action: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> sa.Select:
    policy.require(actor, "audit.view")
    q = sa.select(AuditEvent)
    if participant_id is not None:
        q = q.where(AuditEvent.participant_id == participant_id)
    if user_id is not None:
        q = q.where(AuditEvent.user_id == user_id)
    if action:
        q = q.where(AuditEvent.action == action)
    if date_from:
        q = q.where(AuditEvent.at >= datetime.combine(date_from, time.min, UTC))
    if date_to:
        q = q.where(AuditEvent.at < datetime.combine(date_to + timedelta(days=1), time.min, UTC))
    return q.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


def note_read(actor: User, filters: dict, export: bool = False) -> None:
    detail = ",".join(f"{k}={v}" for k, v in filters.items() if v not in (None, ""))
    audit.record(actor, "export" if export else "audit_view", "audit", None, detail or "all")
