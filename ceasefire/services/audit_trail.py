"""Reading the audit trail (supervisors only); every read of it is itself audited."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from ceasefire import policy
from ceasefire.errors import ValidationFailed
from ceasefire.extensions import db
from ceasefire.models import AuditEvent, Participant, User
from ceasefire.services import audit, clock, search


def _day_start(day: date) -> datetime:
    """Midnight of a day in the program's time zone: the date range reads as the program's days."""
    return datetime.combine(day, time.min, clock.zone())


def query(
    actor: User,
    participant_id: int | None = None,
    user_id: int | None = None,
    action: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    participant_name: str | None = None,
) -> sa.Select:
    policy.require(actor, "audit.view")
    q = sa.select(AuditEvent)
    if participant_id is not None:
        q = q.where(AuditEvent.participant_id == participant_id)
    if participant_name and participant_name.strip():
        q = q.where(AuditEvent.participant_id.in_(named(participant_name)))
    if user_id is not None:
        q = q.where(AuditEvent.user_id == user_id)
    if action:
        q = q.where(AuditEvent.action == action)
    if date_from:
        q = q.where(AuditEvent.at >= _day_start(date_from))
    if date_to:
        q = q.where(AuditEvent.at < _day_start(date_to + timedelta(days=1)))
    return q.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


NAMED_MAX = 1000  # the people a name may find before the trail is filtered by them (beyond: type more of it)


def named(text: str) -> list[int]:
    """The ids of the participants whose "first last" or "last, first" holds `text` (any case), found off the name
    search's index (services.search); more than NAMED_MAX is refused with a message, so that the trail is read by
    the ids of a few people, never walked for every row of a common name."""
    needle = search.needle(text)
    pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    space, comma = sa.literal_column("' '", sa.String), sa.literal_column("', '", sa.String)
    exact = sa.or_(
        sa.func.lower(Participant.first_name.concat(space).concat(Participant.last_name)).like(pattern, escape="\\"),
        sa.func.lower(Participant.last_name.concat(comma).concat(Participant.first_name)).like(pattern, escape="\\"),
    )
    # A piece without the comma is part of "first last" (so the index finds every match, and a few more by alias,
    # which `exact` leaves out); "reed, ma" is looked for as "reed".
    head, _, tail = needle.partition(",")
    piece = head.strip() or tail.strip()
    found = list(db.session.scalars(
        sa.select(Participant.id).where(search.name_matches(piece) if piece else sa.true(), exact)
        .limit(NAMED_MAX + 1)
    ))
    if len(found) > NAMED_MAX:
        raise ValidationFailed(
            f"More than {NAMED_MAX:,} people's names hold \"{text.strip()}\": type more of the name.",
            {"participant": f"More than {NAMED_MAX:,} people match: type more of the name."},
        )
    return found


def note_read(actor: User, filters: dict, export: bool = False) -> None:
    detail = ",".join(f"{k}={v}" for k, v in filters.items() if v not in (None, ""))
    audit.record(actor, "export" if export else "audit_view", "audit", None, detail or "all")
