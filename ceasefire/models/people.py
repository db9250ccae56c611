"""Participants, their street groups, their consent to share, and the pipeline history."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ceasefire import limits
from ceasefire.extensions import Model
from ceasefire.models.base import UTCDateTime, enum_type, today, utcnow
from ceasefire.models.dueprocess import IdentificationCriterion, participant_criteria
from ceasefire.models.enums import ConsentMethod, State, SupervisionStatus
from ceasefire.models.users import Organization, User


class Group(Model):
    """A street group. Enforcement can target a whole group."""

    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(limits.NAME), unique=True)
    aliases: Mapped[str | None] = mapped_column(sa.String(limits.ALIASES))
    area: Mapped[str | None] = mapped_column(sa.String(limits.TITLE))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# Every list of participants is ordered by name (then id); each filter has an index that starts with it and then
# follows that order, so a page is read off the index, never sorted (the `workspaces` filters included).
_BY_NAME = ("last_name", "first_name", "id")


class Participant(Model):
    __tablename__ = "participants"
    __table_args__ = (
        sa.Index("ix_participants_last_first", *_BY_NAME),
        *(sa.Index(f"ix_participants_{key}_by_name", column, *_BY_NAME) for key, column in (
            ("state", "state"), ("caseworker", "caseworker_id"), ("group", "group_id"),
            ("community", "community_org_id"), ("supervision", "supervision_status"),
        )),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(sa.String(limits.NAME))
    last_name: Mapped[str] = mapped_column(sa.String(limits.NAME))
    aliases: Mapped[str | None] = mapped_column(sa.String(limits.ALIASES))
    date_of_birth: Mapped[date | None]
    phone: Mapped[str | None] = mapped_column(sa.String(limits.PHONE))
    address: Mapped[str | None] = mapped_column(sa.String(limits.ADDRESS))
    supervision_status: Mapped[SupervisionStatus] = mapped_column(
        enum_type(SupervisionStatus, "supervision_status"), default=SupervisionStatus.NONE
    )
    supervising_agency: Mapped[str | None] = mapped_column(sa.String(limits.TITLE))
    identification_basis: Mapped[str | None] = mapped_column(sa.Text)
    identifying_org_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organizations.id"))
    identified_on: Mapped[date] = mapped_column(default=today)
    group_id: Mapped[int | None] = mapped_column(sa.ForeignKey("groups.id"), index=True)
    caseworker_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    community_org_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    state: Mapped[State] = mapped_column(enum_type(State, "state"), default=State.IDENTIFIED, index=True)
    version: Mapped[int] = mapped_column(default=1)
    # Due process: the next retention review (computed, never set by a form or the API), the age band at
    # identification (kept when a purge erases the date of birth), and when the person was purged.
    review_due_on: Mapped[date | None] = mapped_column(index=True)
    age_band: Mapped[str | None] = mapped_column(sa.String(16))
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    __mapper_args__ = {"version_id_col": version}

    group: Mapped[Group | None] = relationship()
    caseworker: Mapped[User | None] = relationship(foreign_keys=[caseworker_id])
    community_org: Mapped[Organization | None] = relationship(foreign_keys=[community_org_id])
    identifying_org: Mapped[Organization | None] = relationship(foreign_keys=[identifying_org_id])
    consents: Mapped[list[Consent]] = relationship(
        back_populates="participant", order_by="Consent.id", cascade="all, delete-orphan"
    )
    history: Mapped[list[StatusChange]] = relationship(
        back_populates="participant", order_by="StatusChange.id", cascade="all, delete-orphan"
    )
    criteria: Mapped[list[IdentificationCriterion]] = relationship(
        secondary=participant_criteria, order_by="IdentificationCriterion.id"
    )

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def consent_in_force(self, on: date | None = None) -> Consent | None:
        on = on or today()
        for consent in self.consents:
            if consent.in_force(on):
                return consent
        return None


class Consent(Model):
    """The participant's consent to share with providers. Revoking it closes providers' access at once."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(sa.ForeignKey("participants.id"), index=True)
    scope: Mapped[str] = mapped_column(sa.String(limits.TITLE), default="referral services")
    given_on: Mapped[date] = mapped_column(default=today)
    expires_on: Mapped[date | None]
    revoked_on: Mapped[date | None]
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # How it was given (None on consents recorded before the question was asked, or through the API's flag);
    # a verbal consent names its witness.
    method: Mapped[ConsentMethod | None] = mapped_column(enum_type(ConsentMethod, "consent_method"))
    witness_name: Mapped[str | None] = mapped_column(sa.String(limits.NAME))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    participant: Mapped[Participant] = relationship(back_populates="consents")

    def in_force(self, on: date) -> bool:
        return (
            self.revoked_on is None
            and self.given_on <= on
            and (self.expires_on is None or self.expires_on >= on)
        )

    @classmethod
    def in_force_clause(cls, on: date | sa.BindParameter[date]):
        """The same rule as in_force(), as SQL, for scoping queries (`on` a date, or a parameter for one)."""
        return sa.and_(
            cls.revoked_on.is_(None),
            cls.given_on <= on,
            sa.or_(cls.expires_on.is_(None), cls.expires_on >= on),
        )


class StatusChange(Model):
    """One row per pipeline event; written only by ceasefire.pipeline."""

    __tablename__ = "status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(sa.ForeignKey("participants.id"), index=True)
    event: Mapped[str] = mapped_column(sa.String(32))
    from_state: Mapped[State | None] = mapped_column(enum_type(State, "from_state"))
    to_state: Mapped[State] = mapped_column(enum_type(State, "to_state"), index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    reason: Mapped[str | None] = mapped_column(sa.Text)

    participant: Mapped[Participant] = relationship(back_populates="history")
    actor: Mapped[User | None] = relationship()


# Searching names and aliases (ceasefire.services.search). PostgreSQL: trigram GIN indexes on the two lowered
# expressions the search compares. SQLite: an FTS5 table of trigrams, one row a participant (rowid = id), kept in
# step by triggers. Created with the table (create_all) and by the migration, which repeats these statements.
NAME_SEARCH_POSTGRESQL = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_participants_name_trgm ON participants USING gin (lower(first_name || ' ' || last_name) "
    "gin_trgm_ops)",
    "CREATE INDEX ix_participants_aliases_trgm ON participants USING gin (lower(aliases) gin_trgm_ops)",
)
NAME_SEARCH_SQLITE = (
    "CREATE VIRTUAL TABLE participant_names USING fts5(name, aliases, tokenize='trigram')",
    "CREATE TRIGGER participant_names_insert AFTER INSERT ON participants BEGIN "
    "INSERT INTO participant_names (rowid, name, aliases) "
    "VALUES (new.id, new.first_name || ' ' || new.last_name, coalesce(new.aliases, '')); END",
    "CREATE TRIGGER participant_names_update AFTER UPDATE OF first_name, last_name, aliases ON participants BEGIN "
    "UPDATE participant_names SET name = new.first_name || ' ' || new.last_name, aliases = coalesce(new.aliases, '') "
    "WHERE rowid = new.id; END",
    "CREATE TRIGGER participant_names_delete AFTER DELETE ON participants BEGIN "
    "DELETE FROM participant_names WHERE rowid = old.id; END",
)


def name_search_table(name: str | None) -> bool:
    """The FTS5 table and its shadow tables: the database's own, not the models' (Alembic leaves them alone)."""
    return bool(name) and str(name).startswith("participant_names")


for _statement in NAME_SEARCH_POSTGRESQL:
    sa.event.listen(Participant.__table__, "after_create", sa.DDL(_statement).execute_if(dialect="postgresql"))
for _statement in NAME_SEARCH_SQLITE:
    sa.event.listen(Participant.__table__, "after_create", sa.DDL(_statement).execute_if(dialect="sqlite"))
sa.event.listen(Participant.__table__, "after_drop",
                sa.DDL("DROP TABLE IF EXISTS participant_names").execute_if(dialect="sqlite"))
