"""The shapes of due process and retention (API.md "Due process and retention"), beside ceasefire.api.shapes and
built from its field types."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import Field

from ceasefire import limits
from ceasefire.api.shapes import Body, Choice, Day, Page, Paging, Record, Required
from ceasefire.models.enums import RemovalStatus, RequestedBy, ReviewDecision, State


class Decision(StrEnum):
    GRANTED = "granted"
    DENIED = "denied"


class ReviewQuery(Paging):
    due_before: Day = Field(default=None, description="Review dates strictly before this day; today when left out")


class ReviewBody(Body):
    decision: Choice(ReviewDecision) = Field(description="retain restarts the clock; purge erases the person")
    reason: Required(limits.TEXT)


class ReviewRow(Record):
    participant_id: int
    review_due_on: date
    state: State
    days_overdue: int = Field(description="Today minus review_due_on, in days (negative when not yet due)")


class ReviewPage(Page):
    items: list[ReviewRow]


class ReviewAnswer(Record):
    """The participant as the supervisor sees it after `retain`; `{"id": n, "purged": true}` after `purge`."""

    id: int
    version: int = Field(default=None, description="After retain")
    purged: bool = Field(default=None, description="After purge: true, and nothing else but the id")


class RemovalRequestCreate(Body):
    received_on: Day = Field(description="Not in the future")
    requested_by: Choice(RequestedBy)
    grounds: Required(limits.TEXT)


class RemovalRequestQuery(Paging):
    status: Choice(RemovalStatus) = Field(default=None)


class DecisionBody(Body):
    decision: Choice(Decision)
    reason: Required(limits.TEXT)


class RemovalRequestRecord(Record):
    id: int
    participant_id: int
    received_on: date
    requested_by: RequestedBy
    grounds: str | None = Field(default=None, description="Supervisors only")
    due_on: date = Field(description="received_on plus 30 days")
    status: RemovalStatus
    overdue: bool = Field(default=None, description="Open, and today is after due_on (in lists)")


class RemovalRequestPage(Page):
    items: list[RemovalRequestRecord]
