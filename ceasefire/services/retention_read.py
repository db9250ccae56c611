"""The read side of due process: the review queue and removal requests as records (ceasefire.services.records),
with the fields ceasefire.policy grants, for both faces."""

from __future__ import annotations

from datetime import date
from typing import cast

import sqlalchemy as sa

from ceasefire import policy
from ceasefire.extensions import db
from ceasefire.models import Participant, RemovalRequest, User
from ceasefire.models.enums import RemovalStatus, RequestedBy, State
from ceasefire.services import retention
from ceasefire.services.clock import program_today
from ceasefire.services.read import paginate, participant_records
from ceasefire.services.records import ABSENT, Page, RemovalRequestRecord, ReviewItem

NAMES = ("first_name", "last_name")


def review_page(user: User, page: int, per_page: int, due_before: date | None = None, clamp: bool = False,
                detail: bool = False) -> Page[ReviewItem]:
    """GET /reviews: who falls due before `due_before`, the most overdue first. With `detail` (the queue page),
    each with the participant as the supervisor sees them."""
    today = program_today()

    def build(rows: list[Participant]) -> list[ReviewItem]:
        people = {p.id: p for p in participant_records(user, rows)} if detail else {}
        items = []
        for p in rows:
            due = cast(date, p.review_due_on)  # the query keeps those with a review date
            person = people.get(p.id, ABSENT)
            items.append(ReviewItem(p.id, due, State(p.state), (today - due).days, participant=person))
        return items

    return paginate(retention.reviews_query(user, due_before), page, per_page, build, clamp)


def removal_request_records(user: User, rows: list[RemovalRequest]) -> list[RemovalRequestRecord]:
    allowed = policy.REMOVAL_REQUEST_FIELDS.get(user.role, ())
    today = program_today()
    people_rows = list(db.session.scalars(
        policy.scope(user, sa.select(Participant).where(Participant.id.in_({r.participant_id for r in rows})))
    )) if rows else []
    people = {p.id: p for p in participant_records(user, people_rows, NAMES)}
    records = []
    for r in rows:
        status = RemovalStatus(r.status)
        records.append(RemovalRequestRecord(
            r.id, r.participant_id, r.received_on, RequestedBy(r.requested_by), r.due_on, status,
            grounds=r.grounds if "grounds" in allowed else ABSENT,
            overdue=status == RemovalStatus.OPEN and today > r.due_on,
            decision_reason=r.decision_reason if "grounds" in allowed else None,
            decided_at=r.decided_at,
            days_left=(r.due_on - today).days,
            participant=people.get(r.participant_id, ABSENT),
        ))
    return records


def removal_request_record(user: User, request: RemovalRequest) -> RemovalRequestRecord:
    return removal_request_records(user, [request])[0]


def removal_request_page(user: User, page: int, per_page: int, status: RemovalStatus | None = None,
                         clamp: bool = False) -> Page[RemovalRequestRecord]:
    query = retention.removal_requests_query(user, status)
    return paginate(query, page, per_page, lambda rows: removal_request_records(user, rows), clamp)


def removal_queue(user: User, page: int, per_page: int) -> Page[RemovalRequestRecord]:
    """The supervisor's queue: open requests, the overdue first (the earliest due date first)."""
    query = retention.removal_requests_query(user, RemovalStatus.OPEN).order_by(None).order_by(
        RemovalRequest.due_on, RemovalRequest.id
    )
    return paginate(query, page, per_page, lambda rows: removal_request_records(user, rows), True)
