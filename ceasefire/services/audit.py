"""The one writer of the audit trail."""

from __future__ import annotations

from flask import g, has_request_context, request

from ceasefire.extensions import db
from ceasefire.models import AuditEvent, User

ACTIONS = frozenset({
    "view", "create", "update", "event", "referral_status", "export", "import", "sign_in", "sign_in_failed",
    "sign_out", "lockout", "password_change", "role_change", "token_create", "token_revoke", "audit_view",
})


def record(
    actor: User | None,
    action: str,
    object_type: str | None = None,
    object_id: int | None = None,
    detail: str | None = None,
    participant_id: int | None = None,
) -> AuditEvent:
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    ip = face = None
    if has_request_context():
        ip = request.remote_addr
        face = g.get("face", "web")
    row = AuditEvent(
        user_id=actor.id if actor is not None else None,
        action=action,
        object_type=object_type,
        object_id=object_id,
        ip=ip,
        face=face,
        detail=(detail or None) and detail[:500],
        participant_id=object_id if participant_id is None and object_type == "participant" else participant_id,
    )
    db.session.add(row)
    return row
