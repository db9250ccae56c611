"""Outcomes: what happened to a participant after the fact. Dated events, not pipeline states."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ceasefire.extensions import Model
from ceasefire.models.base import UTCDateTime, enum_type, utcnow
from ceasefire.models.enums import OutcomeType


class Outcome(Model):
    __tablename__ = "outcomes"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(sa.ForeignKey("participants.id"), index=True)
    type: Mapped[OutcomeType] = mapped_column(enum_type(OutcomeType, "outcome_type"), index=True)
    occurred_on: Mapped[date] = mapped_column(index=True)
    note: Mapped[str | None] = mapped_column(sa.Text)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
