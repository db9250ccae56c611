"""/audit: the audit trail, for supervisors."""

from __future__ import annotations

from flask import g

from ceasefire import policy
from ceasefire.api import bp, done, paging, serialize, shapes
from ceasefire.api.schema import query
from ceasefire.errors import ValidationFailed
from ceasefire.services import audit, audit_trail, read


@bp.get("/audit")
def list_audit():
    user = g.user
    policy.require(user, "audit.view")
    filters = query(shapes.AuditQuery)
    if filters["action"] and filters["action"] not in audit.ACTIONS:
        raise ValidationFailed(
            "Unknown action.", {"action": "Must be one of: " + ", ".join(sorted(audit.ACTIONS)) + "."}
        )
    body = serialize.page(read.audit_page(user, *paging(), **filters))
    audit_trail.note_read(user, filters)
    return done(body)
