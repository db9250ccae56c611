"""The shapes that came with outcomes, forums after the fact and the reports (API.md: Outcomes; Forums, past and
present; Reports), beside ceasefire.api.shapes and built from its field types."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import Field, create_model

from ceasefire import limits
from ceasefire.api.shapes import Body, Choice, Day, Id, Moment, Query, Record, Required, Text
from ceasefire.models.enums import ForumStatus, OutcomeType

# Outcomes


class OutcomeCreate(Body):
    type: Choice(OutcomeType) = Field(
        description="Police record only arrested, arrested_violent, incarcerated, shot and killed"
    )
    occurred_on: Day = Field(description="Not in the future (the program's time zone)")
    note: Text(limits.TEXT) | None = None


class OutcomeRecord(Record):
    id: int
    participant_id: int
    type: OutcomeType
    occurred_on: date
    note: str | None
    recorded_by: int | None
    recorded_at: datetime


class OutcomeList(Record):
    items: list[OutcomeRecord] = Field(description="Newest occurred_on first; only the types the caller may see")


# Custom notifications (issue #9)


class CustomNotificationCreate(Body):
    delivered_at: Moment = Field(description="When the visit was made; not in the future")
    place: Required(limits.TITLE) = Field(description="Where: a home address, a street corner")
    message: Required(limits.TEXT) = Field(description="The personal message delivered")
    response: Text(limits.TEXT) | None = Field(default=None, description="What the person said or did")
    team_user_ids: list[Id] = Field(
        default_factory=list, max_length=50,
        description="Users who went (police, community, program staff); their organizations take part too",
    )
    team_organization_ids: list[Id] = Field(
        default_factory=list, max_length=50, description="Police and community organizations that took part",
    )


class CustomNotificationRecord(Record):
    id: int
    participant_id: int
    delivered_at: datetime
    place: str | None
    message: str | None
    response: str | None
    team_user_ids: list[int]
    team_organization_ids: list[int]
    recorded_by: int | None
    recorded_at: datetime


class CustomNotificationList(Record):
    items: list[CustomNotificationRecord] = Field(
        description="Newest delivered_at first; a community user gets those its own group took part in"
    )


# Forums after the fact


class ForumPatch(Body):
    title: Required(limits.TITLE) = Field(default=None)
    scheduled_at: Moment = Field(default=None)
    location: Text(limits.TITLE) | None = None
    speakers: Text(limits.TEXT) | None = None
    notes: Text(limits.TEXT) | None = None
    status: Choice(ForumStatus) = Field(default=None, description="planned -> held | cancelled; the same is no change")


# Reports: `from` is a word Python keeps for itself, so these query models are made by name.


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


_WINDOW: dict[str, Any] = {
    "from": (Day, Field(default=None, description="First day of the window, inclusive (YYYY-MM-DD)")),
    "to": (Day, Field(default=None, description="Last day of the window, inclusive (YYYY-MM-DD)")),
    "format": (Choice(ExportFormat), Field(default=None, description="csv or xlsx: the same numbers as a file")),
}
ReportQuery = create_model("ReportQuery", __base__=Query, **_WINDOW)
PipelineQuery = create_model(
    "PipelineQuery", __base__=Query, **_WINDOW,
    group_id=(Id, Field(default=None, description="Only this street group")),
    forum_id=(Id, Field(default=None, description="Only those invited to this forum")),
)

Count = int | str  # a number, or "<5" for community users


class PipelineReport(Record):
    counts: dict[str, Count]
    funnel: list[dict[str, Any]]
    conversion: dict[str, float | None]
    median_days: dict[str, float | None]


class CohortRow(Record):
    forum_id: int
    title: str
    held_on: date
    invited: Count
    attended: Count
    attendance_rate: float | None
    cohort: Count
    services_offered: Count
    referrals_accepted: Count
    referrals_completed: Count
    enforced_6m: Count
    enforced_12m: Count
    outcomes_6m: dict[str, Count]
    outcomes_12m: dict[str, Count]


class CohortReport(Record):
    items: list[CohortRow]


class ReferralRow(Record):
    organization_id: int
    organization_name: str
    service_id: int
    service_name: str
    sent: int
    accepted: int
    declined: int
    enrolled: int
    completed: int
    dropped: int
    withdrawn: int
    acceptance_rate: float | None
    median_days_to_answer: float | None
    waiting_over_7_days: int
    waiting_over_14_days: int


class ReferralReport(Record):
    items: list[ReferralRow]


class IdentificationReport(Record):
    total: Count
    by_age: dict[str, Count]
    by_supervision: dict[str, Count]
    by_identifying_agency: list[dict[str, Any]]
