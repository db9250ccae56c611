"""Enforcement actions against a participant or a whole group, and group enforcement: one action against a street
group that touched some of its members, each of whom carries an individual action linked to it."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ceasefire import limits
from ceasefire.extensions import Model
from ceasefire.models.base import UTCDateTime, enum_type, utcnow
from ceasefire.models.enums import ActionType
from ceasefire.models.people import Group
from ceasefire.models.users import Organization


class GroupEnforcement(Model):
    """An enforcement action against a street group, recorded once; the members it touched each carry an
    EnforcementAction that points here (group_enforcement_id)."""

    __tablename__ = "group_enforcements"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("groups.id"), index=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    action_type: Mapped[ActionType] = mapped_column(enum_type(ActionType, "action_type"))
    occurred_on: Mapped[date] = mapped_column(index=True)
    incident_ref: Mapped[str | None] = mapped_column(sa.String(limits.NAME))
    description: Mapped[str | None] = mapped_column(sa.Text)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    group: Mapped[Group] = relationship()
    agency: Mapped[Organization] = relationship()
    actions: Mapped[list[EnforcementAction]] = relationship(
        back_populates="group_enforcement", order_by="EnforcementAction.id"
    )


class EnforcementAction(Model):
    """Against one participant (participant_id), possibly as part of a group action (group_enforcement_id); a row
    with a group_id and no participant stands for the whole group as it is."""

    __tablename__ = "enforcement_actions"
    __table_args__ = (
        sa.CheckConstraint(
            "participant_id IS NOT NULL OR group_id IS NOT NULL", name="participant_or_group"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("participants.id"), index=True)
    group_id: Mapped[int | None] = mapped_column(sa.ForeignKey("groups.id"), index=True)
    group_enforcement_id: Mapped[int | None] = mapped_column(sa.ForeignKey("group_enforcements.id"), index=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    action_type: Mapped[ActionType] = mapped_column(enum_type(ActionType, "action_type"))
    occurred_on: Mapped[date] = mapped_column(index=True)
    incident_ref: Mapped[str | None] = mapped_column(sa.String(limits.NAME))
    description: Mapped[str | None] = mapped_column(sa.Text)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    agency: Mapped[Organization] = relationship()
    group_enforcement: Mapped[GroupEnforcement | None] = relationship(back_populates="actions")
