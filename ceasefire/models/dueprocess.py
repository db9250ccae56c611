"""Due process and retention (28 CFR Part 23, California Penal Code 186.34): the criteria a program identifies
people by, retention reviews, and requests to be removed from the list."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ceasefire import limits
from ceasefire.extensions import Model
from ceasefire.models.base import UTCDateTime, enum_type, utcnow
from ceasefire.models.enums import RemovalStatus, RequestedBy, ReviewDecision


class IdentificationCriterion(Model):
    """One entry of the program's list of identification criteria. Retiring one (retired_on) takes it off the list
    police tick from, and leaves every participant identified by it as they were."""

    __tablename__ = "identification_criteria"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(limits.TITLE), unique=True)
    retired_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def active(self) -> bool:
        return self.retired_on is None


# Which criteria a participant was identified by.
participant_criteria = sa.Table(
    "participant_criteria",
    Model.metadata,
    sa.Column("participant_id", sa.ForeignKey("participants.id"), primary_key=True),
    sa.Column("criterion_id", sa.ForeignKey("identification_criteria.id"), primary_key=True, index=True),
)


class Review(Model):
    """A retention review: retain (the clock restarts) or purge, who decided, when and why."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(sa.ForeignKey("participants.id"), index=True)
    decision: Mapped[ReviewDecision] = mapped_column(enum_type(ReviewDecision, "review_decision"))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RemovalRequest(Model):
    """A written request to be removed from the list, answered within 30 days of receipt."""

    __tablename__ = "removal_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(sa.ForeignKey("participants.id"), index=True)
    received_on: Mapped[date]
    requested_by: Mapped[RequestedBy] = mapped_column(enum_type(RequestedBy, "requested_by"))
    grounds: Mapped[str | None] = mapped_column(sa.Text)
    due_on: Mapped[date] = mapped_column(index=True)
    status: Mapped[RemovalStatus] = mapped_column(
        enum_type(RemovalStatus, "removal_status"), default=RemovalStatus.OPEN, index=True
    )
    decision_reason: Mapped[str | None] = mapped_column(sa.Text)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
