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
    # these two load their old value before a change, so that the kept counts by agency and day move (models.counts)
    identifying_org_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organizations.id"), active_history=True)
    identified_on: Mapped[date] = mapped_column(default=today, active_history=True)
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


# Searching names and aliases (ceasefire.services.search). Every index holds the names as the search compares them:
# lowered by the database's lower() (on SQLite the app's, which lowers every letter: ceasefire.unicode_lower), so
# that an index's answer is the substring match itself, never more.
# PostgreSQL: trigram GIN indexes on the two lowered expressions (a `q` of three letters or more), and a GIN index on
# the array of each person's distinct one- and two-letter pieces (shorter ones). SQLite: an FTS5 trigram table, case
# sensitive over the lowered text, and an FTS5 table of the one- and two-letter pieces written as hex words (rowid =
# participant id in both), kept in step by triggers; the pieces are cut with the numbers of `search_positions`.
# Created with the table (create_all) and by the migrations, which repeat these statements.
SEARCH_POSITIONS = 500  # the longest text cut into pieces (limits.ALIASES)
_PG_GRAMS = "participant_name_grams(lower(first_name || ' ' || last_name), lower(aliases))"
NAME_SEARCH_POSTGRESQL = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_participants_name_trgm ON participants USING gin (lower(first_name || ' ' || last_name) "
    "gin_trgm_ops)",
    "CREATE INDEX ix_participants_aliases_trgm ON participants USING gin (lower(aliases) gin_trgm_ops)",
    f"CREATE INDEX ix_participants_name_grams ON participants USING gin ({_PG_GRAMS})",
)
NAME_SEARCH_INDEXES_POSTGRESQL = (
    "ix_participants_name_trgm", "ix_participants_aliases_trgm", "ix_participants_name_grams",
)
# Before the indexes: the function the grams index computes (a piece with a space is never looked for).
NAME_GRAMS_POSTGRESQL = (
    "CREATE OR REPLACE FUNCTION participant_name_grams(name text, aliases text) RETURNS text[] "
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT coalesce(array_agg(DISTINCT substr(t, i, n)), '{}') "
    "FROM unnest(ARRAY[name, coalesce(aliases, '')]) AS t, generate_series(1, 2) AS n, "
    "generate_series(1, length(t) - n + 1) AS i WHERE strpos(substr(t, i, n), ' ') = 0 $$"
)


def _grams(row: str) -> str:
    """The hex words of a row's pieces, in a trigger (`row` is new or old)."""
    return (
        "SELECT coalesce(group_concat(g, ' '), '') "  # noqa: S608
        "FROM (SELECT DISTINCT hex(substr(t.s, p.i, k.n)) AS g FROM "
        f"(SELECT lower({row}.first_name || ' ' || {row}.last_name) AS s "
        f"UNION ALL SELECT lower(coalesce({row}.aliases, ''))) AS t JOIN (SELECT 1 AS n UNION ALL SELECT 2) AS k "
        "JOIN search_positions AS p ON p.i <= length(t.s) - k.n + 1 WHERE instr(substr(t.s, p.i, k.n), ' ') = 0)"
    )


_NAME = "lower(new.first_name || ' ' || new.last_name)"
_ALIASES = "lower(coalesce(new.aliases, ''))"
# The pieces' table keeps no copy of its text (content=''): a row is taken out with the words it went in with.
_ADD = f"INSERT INTO participant_grams (rowid, grams) VALUES (new.id, ({_grams('new')})); "  # noqa: S608
_FORGET = (
    "INSERT INTO participant_grams (participant_grams, rowid, grams) "  # noqa: S608
    f"VALUES ('delete', old.id, ({_grams('old')})); "
)
NAME_SEARCH_SQLITE_TABLES = (
    "CREATE TABLE search_positions (i INTEGER PRIMARY KEY)",
    "INSERT INTO search_positions (i) WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "  # noqa: S608
    f"WHERE i < {SEARCH_POSITIONS}) SELECT i FROM n",
    "CREATE VIRTUAL TABLE participant_names USING fts5(name, aliases, tokenize='trigram case_sensitive 1')",
    "CREATE VIRTUAL TABLE participant_grams USING fts5(grams, tokenize='unicode61', detail='none', content='', "
    "columnsize=0)",
)
NAME_SEARCH_TRIGGERS_SQLITE = (
    "CREATE TRIGGER participant_names_insert AFTER INSERT ON participants BEGIN "  # noqa: S608
    f"INSERT INTO participant_names (rowid, name, aliases) VALUES (new.id, {_NAME}, {_ALIASES}); "
    f"{_ADD}END",
    "CREATE TRIGGER participant_names_update "  # noqa: S608
    "AFTER UPDATE OF first_name, last_name, aliases ON participants BEGIN "
    f"UPDATE participant_names SET name = {_NAME}, aliases = {_ALIASES} WHERE rowid = new.id; "
    f"{_FORGET}{_ADD}END",
    "CREATE TRIGGER participant_names_delete AFTER DELETE ON participants BEGIN "  # noqa: S608
    f"DELETE FROM participant_names WHERE rowid = old.id; {_FORGET}END",
)
NAME_SEARCH_SQLITE = NAME_SEARCH_SQLITE_TABLES + NAME_SEARCH_TRIGGERS_SQLITE
# Filling the SQLite tables for the participants above an id, in one statement each (bulk seeding): the pieces are cut
# as the triggers cut them, once for each distinct name and aliases (people copied from the same few hundred names
# share them: 150,000 participants took 6.9 s cut person by person, 2.3 s so).
FILL_SQLITE = (
    "INSERT INTO participant_names (rowid, name, aliases) SELECT id, lower(first_name || ' ' || last_name), "
    "lower(coalesce(aliases, '')) FROM participants WHERE id > :above",
    "CREATE TEMPORARY TABLE participant_grams_cut AS SELECT first_name, last_name, aliases, "  # noqa: S608
    f"({_grams('d')}) AS grams FROM (SELECT DISTINCT first_name, last_name, aliases FROM participants "
    "WHERE id > :above) AS d",
    "CREATE INDEX participant_grams_cut_names ON participant_grams_cut (first_name, last_name, aliases)",
    "INSERT INTO participant_grams (rowid, grams) SELECT r.id, c.grams FROM participants AS r "
    "JOIN participant_grams_cut AS c ON c.first_name = r.first_name AND c.last_name = r.last_name "
    "AND c.aliases IS r.aliases WHERE r.id > :above",
    "DROP TABLE participant_grams_cut",
)


# The list sorted by state reads each state in the pipeline's order off an index on that order (a CASE of the
# state, then the name), as every other order is read off an index: the same expression in the index and in the
# query's ORDER BY, its values written into the SQL (a bound parameter is not the indexed expression). Both
# databases; created with the table and by the migration, which repeats the statement.
_STATE_RANKS = " ".join(f"WHEN state = '{s.value}' THEN {i}" for i, s in enumerate(State))
STATE_ORDER_INDEX = "ix_participants_state_order"
STATE_ORDER_DDL = (
    f"CREATE INDEX {STATE_ORDER_INDEX} ON participants ((CASE {_STATE_RANKS} END), last_name, first_name, id)"
)
STATE_RANK: sa.ColumnElement[int] = sa.case(
    *((Participant.state == sa.literal_column(f"'{s.value}'"), sa.literal_column(str(i))) for i, s in enumerate(State))
)


def name_search_table(name: str | None) -> bool:
    """The FTS5 tables, their shadow tables and the numbers that cut the pieces: the database's own, not the
    models' (Alembic leaves them alone)."""
    return bool(name) and str(name).startswith(("participant_names", "participant_grams", "search_positions"))


def name_search_index(name: str | None) -> bool:
    """The indexes on expressions, which Alembic does not compare: PostgreSQL's search indexes (every trigram
    index's name ends in _trgm: models.search_counts.NAME_COUNTS_INDEX too), the state order and the look-ups'
    lowered names (ceasefire.models.LOOKUP_INDEXES)."""
    return (name in NAME_SEARCH_INDEXES_POSTGRESQL or name == STATE_ORDER_INDEX
            or str(name).endswith(("_trgm", "_name_lower", "_title_lower", "_location_lower")))


for _statement in (NAME_SEARCH_POSTGRESQL[0], NAME_GRAMS_POSTGRESQL, *NAME_SEARCH_POSTGRESQL[1:]):
    sa.event.listen(Participant.__table__, "after_create", sa.DDL(_statement).execute_if(dialect="postgresql"))
for _statement in NAME_SEARCH_SQLITE:
    sa.event.listen(Participant.__table__, "after_create", sa.DDL(_statement).execute_if(dialect="sqlite"))
sa.event.listen(Participant.__table__, "after_create", sa.DDL(STATE_ORDER_DDL))
for _table in ("participant_names", "participant_grams", "search_positions"):
    sa.event.listen(Participant.__table__, "after_drop",
                    sa.DDL(f"DROP TABLE IF EXISTS {_table}").execute_if(dialect="sqlite"))
