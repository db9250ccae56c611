"""Field work on a participant: notes, community outreach contacts and custom notifications (home or street visits)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ceasefire import limits
from ceasefire.extensions import Model
from ceasefire.models.base import UTCDateTime, enum_type, utcnow
from ceasefire.models.enums import NoteVisibility, OutreachKind
from ceasefire.models.people import Participant
from ceasefire.models.users import Organization, User


class Note(Model):
    """A note on a participant; its visibility, chosen when written, decides which roles read it."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(sa.ForeignKey("participants.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # None only once the participant is purged: the text about the person is erased, the row stays.
    body: Mapped[str | None] = mapped_column(sa.Text)
    visibility: Mapped[NoteVisibility] = mapped_column(enum_type(NoteVisibility, "note_visibility"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    participant: Mapped[Participant] = relationship()
    author: Mapped[User | None] = relationship()


class OutreachContact(Model):
    """A community group's contact with a participant assigned to it: a visit, a call, an event."""

    __tablename__ = "outreach_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(sa.ForeignKey("participants.id"), index=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    contacted_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    kind: Mapped[OutreachKind] = mapped_column(enum_type(OutreachKind, "outreach_kind"))
    outcome: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    participant: Mapped[Participant] = relationship()
    organization: Mapped[Organization] = relationship()
    user: Mapped[User | None] = relationship()


custom_notification_users = sa.Table(
    "custom_notification_users",
    Model.metadata,
    sa.Column("custom_notification_id", sa.ForeignKey("custom_notifications.id"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id"), primary_key=True, index=True),
)

custom_notification_organizations = sa.Table(
    "custom_notification_organizations",
    Model.metadata,
    sa.Column("custom_notification_id", sa.ForeignKey("custom_notifications.id"), primary_key=True),
    sa.Column("organization_id", sa.ForeignKey("organizations.id"), primary_key=True, index=True),
)


class CustomNotification(Model):
    """A home or street visit by police and community partners with a personal message.

    The team is kept as the users who went and the organizations they went for (police, community groups), so a
    community user sees the visits their own group took part in."""

    __tablename__ = "custom_notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(sa.ForeignKey("participants.id"), index=True)
    delivered_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # place, message and response are None only once the participant is purged.
    place: Mapped[str | None] = mapped_column(sa.String(limits.TITLE))
    message: Mapped[str | None] = mapped_column(sa.Text)
    response: Mapped[str | None] = mapped_column(sa.Text)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    participant: Mapped[Participant] = relationship()
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])
    team_members: Mapped[list[User]] = relationship(secondary=custom_notification_users, order_by="User.id")
    team_organizations: Mapped[list[Organization]] = relationship(
        secondary=custom_notification_organizations, order_by="Organization.id"
    )
