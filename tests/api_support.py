"""What the JSON API tests share: API.md's error shape, and a copy of what the database holds, to show that
a refused request wrote nothing."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ceasefire.extensions import db

# The audit trail may note an attempt (API.md) and keeps its total with it, a request notes when its token was last
# used, and signing in or browsing keeps the browser's session on the server: none of them is a record a refused
# request could change.
NOT_RECORDS = {"audit_events", "audit_counts", "api_tokens", "sessions", "user_sessions"}


def assert_error(status: int, body: Any, expected_status: int, code: str, field: str | None = None) -> dict:
    """The answer is API.md's error, with this status and code (and naming `field`); returns its fields."""
    assert status == expected_status, body
    assert isinstance(body, dict), body
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "fields"}, body
    assert error["code"] == code, body
    assert isinstance(error["message"], str), body
    assert error["message"].strip(), body
    assert isinstance(error["fields"], dict), body
    if field is not None:
        assert field in error["fields"], body
        assert isinstance(error["fields"][field], str), body
    return error["fields"]


def records() -> dict[str, list[tuple]]:
    """Every row of every record table, read on a connection of its own."""
    with db.engine.connect() as conn:
        return {
            table.name: [tuple(r) for r in conn.execute(sa.select(table).order_by(*table.primary_key.columns))]
            for table in db.metadata.sorted_tables
            if table.name not in NOT_RECORDS
        }
