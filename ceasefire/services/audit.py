"""The one writer of the audit trail."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from ceasefire.extensions import db
from ceasefire.models import AuditEvent, User

ACTIONS = frozenset({
    "view", "create", "update", "event", "referral_status", "export", "import", "sign_in", "sign_in_failed",
    "sign_out", "lockout", "password_change", "role_change", "token_create", "token_revoke", "audit_view",
    "review", "purge",
})


@dataclass(frozen=True)
class Origin:
    """Where an action came from: the client's address and the face (web or api). The face states it once per
    request (set_origin); a command-line action has none."""

    ip: str | None = None
    face: str | None = None


_origin: ContextVar[Origin | None] = ContextVar("audit_origin", default=None)


def set_origin(ip: str | None, face: str | None) -> None:
    _origin.set(Origin(ip, face))


def record(
    actor: User | None,
    action: str,
    object_type: str | None = None,
    object_id: int | None = None,
    detail: str | None = None,
    participant_id: int | None = None,
    origin: Origin | None = None,
) -> AuditEvent:
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    origin = origin or _origin.get() or Origin()
    row = AuditEvent(
        user_id=actor.id if actor is not None else None,
        action=action,
        object_type=object_type,
        object_id=object_id,
        ip=origin.ip,
        face=origin.face,
        detail=(detail or None) and detail[:500],
        participant_id=object_id if participant_id is None and object_type == "participant" else participant_id,
    )
    db.session.add(row)
    return row
