"""The services catalogue, referrals to it, and each referral's history."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ceasefire import limits
from ceasefire.extensions import Model
from ceasefire.models.base import Likely, UTCDateTime, enum_type, utcnow
from ceasefire.models.enums import ReferralStatus, ServiceCategory
from ceasefire.models.people import Participant
from ceasefire.models.users import Organization, User


class Service(Model):
    """A provider's offer, after Open Referral HSDS."""

    __tablename__ = "services"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(limits.TITLE))
    category: Mapped[ServiceCategory] = mapped_column(enum_type(ServiceCategory, "category"), index=True)
    description: Mapped[str | None] = mapped_column(sa.Text)
    eligibility: Mapped[str | None] = mapped_column(sa.Text)
    capacity: Mapped[int | None]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organization: Mapped[Organization] = relationship(back_populates="services")


# Each status a referral can reach, as a bit of Referral.reached (fixed here, and in the migration that fills them:
# never renumbered).
REACHED_BITS: dict[ReferralStatus, int] = {
    ReferralStatus.SENT: 1, ReferralStatus.ACCEPTED: 2, ReferralStatus.DECLINED: 4, ReferralStatus.ENROLLED: 8,
    ReferralStatus.COMPLETED: 16, ReferralStatus.DROPPED: 32, ReferralStatus.WITHDRAWN: 64,
}
ANSWERS = (ReferralStatus.ACCEPTED, ReferralStatus.DECLINED)  # a referral is answered by the first of these

# A referral waits on its provider while they must answer it (sent) or take the person in (accepted).
WAITING = "status IN ('sent', 'accepted')"


class Referral(Model):
    __tablename__ = "referrals"
    # The referral list is newest first, whole or by status or by the provider's services: read off an index.
    __table_args__ = (
        sa.Index("ix_referrals_sent", "sent_at", "id"),
        sa.Index("ix_referrals_status_sent", "status", "sent_at", "id"),
        # The referral outcomes report counts a page of services' referrals in a window, and finds their medians, off
        # this index alone, what it reads of each referral carried in the index (models.referral_outcomes): key
        # columns, since SQLite has no INCLUDE.
        sa.Index("ix_referrals_service_sent", "service_id", "sent_at", "id", "status", "reached", "answered_at"),
        # Each service's answered referrals in the order of their time to answer, sent_at beside it for a window: the
        # medians read in order, where SQLite worked out and sorted every answer's span (its percentiles are taken in
        # the database; PostgreSQL's come with the counts, off the index above).
        sa.Index("ix_referrals_answers", "service_id", "answer_us", "sent_at",
                 sqlite_where=sa.text("answer_us IS NOT NULL"), postgresql_where=sa.text("answer_us IS NOT NULL")),
        # The homes: a caseworker's referrals sent by them; the referrals waiting on a provider (sent or accepted)
        # that waited longest, read in that order off a partial index whatever the number of referrals.
        sa.Index("ix_referrals_sent_by", "sent_by_id"),
        sa.Index("ix_referrals_waiting", "updated_at", "id", postgresql_where=sa.text(WAITING),
                 sqlite_where=sa.text(WAITING)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # the old value loaded before a change, so that the cohort members kept of both people are made anew
    participant_id: Mapped[int] = mapped_column(sa.ForeignKey("participants.id"), index=True, active_history=True)
    # the old value loaded before a change, so that the kept counts of both services move (models.counts)
    service_id: Mapped[int] = mapped_column(sa.ForeignKey("services.id"), index=True, active_history=True)
    status: Mapped[ReferralStatus] = mapped_column(
        enum_type(ReferralStatus, "referral_status"), default=ReferralStatus.SENT, index=True
    )
    note: Mapped[str | None] = mapped_column(sa.Text)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    sent_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # Kept from the referral's events (models.referral_outcomes), for the referral outcomes report: the statuses it
    # ever reached, one bit each (REACHED_BITS), and its first answer (accept or decline), null while unanswered,
    # with the microseconds from sent_at to it (`answer_us`), whose index gives SQLite each service's answers in
    # order for their medians.
    reached: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answer_us: Mapped[int | None] = mapped_column(sa.BigInteger)

    participant: Mapped[Participant] = relationship()
    service: Mapped[Service] = relationship()
    sent_by: Mapped[User | None] = relationship()
    events: Mapped[list[ReferralEvent]] = relationship(
        back_populates="referral", order_by="ReferralEvent.id", cascade="all, delete-orphan"
    )


class ReferralEvent(Model):
    __tablename__ = "referral_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(sa.ForeignKey("referrals.id"), index=True, active_history=True)
    from_status: Mapped[ReferralStatus | None] = mapped_column(enum_type(ReferralStatus, "from_status"))
    to_status: Mapped[ReferralStatus] = mapped_column(enum_type(ReferralStatus, "to_status"))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    # What the person who made the change wrote beside it (the provider inbox), kept in the referral's history.
    note: Mapped[str | None] = mapped_column(sa.Text)

    referral: Mapped[Referral] = relationship(back_populates="events")


def waiting_on_provider() -> sa.ColumnElement[bool]:
    """A referral waits on its provider (sent or accepted): the partial index's own condition (WAITING), its values
    written into the statement, since SQLite uses a partial index only where a query holds its condition as it is
    (a bound value proves nothing), and likely() to SQLite's planner, which would otherwise take the status for a
    narrow condition and sort every referral waiting off the status index (50 ms at 150,000)."""
    values = [ReferralStatus.SENT.value, ReferralStatus.ACCEPTED.value]
    statuses: sa.BindParameter[list[str]] = sa.bindparam("waiting_statuses", values, expanding=True,
                                                         literal_execute=True)
    return Likely(Referral.status.in_(statuses))
