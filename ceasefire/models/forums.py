"""Call-in forums and the invitations to them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ceasefire import limits
from ceasefire.extensions import Model
from ceasefire.models.base import UTCDateTime, enum_type, utcnow
from ceasefire.models.enums import DeliveryMethod, ForumStatus
from ceasefire.models.people import Participant
from ceasefire.models.users import User


class Forum(Model):
    __tablename__ = "forums"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(limits.TITLE))
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    location: Mapped[str | None] = mapped_column(sa.String(limits.TITLE))
    status: Mapped[ForumStatus] = mapped_column(
        enum_type(ForumStatus, "forum_status"), default=ForumStatus.PLANNED, index=True
    )
    speakers: Mapped[str | None] = mapped_column(sa.Text)
    notes: Mapped[str | None] = mapped_column(sa.Text)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    invitations: Mapped[list[Invitation]] = relationship(back_populates="forum", order_by="Invitation.id")


class Invitation(Model):
    """A participant invited to a forum; attended is None until they come or are marked a no-show."""

    __tablename__ = "invitations"
    __table_args__ = (sa.Index("ix_invitations_forum_participant", "forum_id", "participant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    forum_id: Mapped[int] = mapped_column(sa.ForeignKey("forums.id"), index=True)
    participant_id: Mapped[int] = mapped_column(sa.ForeignKey("participants.id"), index=True)
    method: Mapped[DeliveryMethod] = mapped_column(enum_type(DeliveryMethod, "delivery_method"))
    delivered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    attended: Mapped[bool | None]
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_in_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    forum: Mapped[Forum] = relationship(back_populates="invitations")
    participant: Mapped[Participant] = relationship()
    delivered_by: Mapped[User | None] = relationship(foreign_keys=[delivered_by_id])
    checked_in_by: Mapped[User | None] = relationship(foreign_keys=[checked_in_by_id])
