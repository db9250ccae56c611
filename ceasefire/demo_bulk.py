"""seed-demo at scale: a program of hundreds of thousands of participants, built in bulk.

The first TEMPLATES participants go through the services (ceasefire.demo), so their history is real: state
changes, invitations, consents, referrals and their events, enforcement, outcomes, field work (notes, outreach,
custom notifications) and the audit trail. The program's staff, partners and groups then grow to its size
(ceasefire.demo_staff). Every further participant is a copy of one of them with a name, contact details, group,
caseworker, supervisor, police officer, community partner and providers of its own (its rows name them where the
template's named the demo's) and its whole timeline moved back by a number of days, written by set-based
INSERT ... SELECT statements (one per table), from a temporary table of the copies filled with executemany (SQLite)
or COPY (PostgreSQL), with the tables' indexes and keys set aside meanwhile (ceasefire.bulk_sql). Invitees go to
forums of their own, 15 to 40 to a forum (one forum per 25 invitees or so), each forum moved back with its invitees,
so that every invitation still comes before its forum.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, cast

import sqlalchemy as sa

from ceasefire import bulk_sql, demo, demo_staff
from ceasefire.extensions import db
from ceasefire.models import (
    AuditEvent,
    Consent,
    CustomNotification,
    EnforcementAction,
    Forum,
    Group,
    Invitation,
    Note,
    Organization,
    Outcome,
    OutreachContact,
    Participant,
    Referral,
    ReferralEvent,
    Service,
    StatusChange,
    User,
    participant_criteria,
    participant_names,
)
from ceasefire.models.base import utcnow
from ceasefire.models.enums import ForumStatus, OutcomeType, Role, State
from ceasefire.models.fieldwork import custom_notification_organizations, custom_notification_users
from ceasefire.models.people import FILL_SQLITE, NAME_SEARCH_TRIGGERS_SQLITE
from ceasefire.services import outcomes as outcome_service
from ceasefire.services.clock import local_date

# One full turn of the demo's plan: every stage of the pipeline, in the demo's proportions.
TEMPLATES = 100
# Above this size seed-demo builds in bulk; at or below it (make run's demo) every participant goes through the
# services, with the demo's five forums, six street groups and eight services. A program of 1,000 is built like
# one of a million: forums of 15 to 40 invitees, a street group per 20, staff in proportion (its forums had 200
# invitees each when it went through the services).
BULK_ABOVE = 200
# How far back a copy's timeline may move (days).
SPREAD_DAYS = 540
PLACES = ("Garfield Park Fieldhouse", "Greater Hope Baptist Church", "Westside Community Center",
          "Chatham Park District Hall", "St. Sabina Parish Hall", "Humboldt Park Boathouse")

CLONES = sa.Table(
    "bulk_clones", sa.MetaData(),
    sa.Column("new_id", sa.Integer, primary_key=True),
    sa.Column("template_id", sa.Integer),
    sa.Column("turn", sa.Integer),
    sa.Column("shift_days", sa.Integer),
    sa.Column("forum_id", sa.Integer),
    sa.Column("first_name", sa.String(80)),
    sa.Column("last_name", sa.String(80)),
    sa.Column("aliases", sa.String(200)),
    sa.Column("date_of_birth", sa.Date),
    sa.Column("phone", sa.String(40)),
    sa.Column("address", sa.String(200)),
    sa.Column("group_id", sa.Integer),
    sa.Column("caseworker_id", sa.Integer),
    sa.Column("community_org_id", sa.Integer),
    sa.Column("supervision_status", sa.String(32)),
    sa.Column("supervising_agency", sa.String(200)),
    # The copy's own staff and partners (ceasefire.demo_staff): who acts where the template's staff acted.
    sa.Column("supervisor_id", sa.Integer),
    sa.Column("police_id", sa.Integer),
    sa.Column("police_org_id", sa.Integer),
    sa.Column("community_user_id", sa.Integer),
    sa.Column("partner_org_id", sa.Integer),
    sa.Column("provider_set", sa.Integer),
    prefixes=["TEMPORARY"],
)
# The participant's own columns a copy takes from the temporary table rather than from its template.
OWN = ("first_name", "last_name", "aliases", "date_of_birth", "phone", "address", "group_id", "caseworker_id",
       "community_org_id", "supervision_status", "supervising_agency")


def seed(count: int) -> list[tuple[str, str]]:
    """demo.seed for a small program; above BULK_ABOVE, TEMPLATES through the services and the rest in bulk."""
    if count <= BULK_ABOVE:
        return demo.seed(count)
    sign_ins = demo.seed(TEMPLATES)
    _record_outcomes()
    db.session.flush()
    _Copier(count - TEMPLATES).run()
    return sign_ins


def _record_outcomes() -> None:
    """Outcomes for the templates, through the service: the closed find work or school, the enforced are arrested."""
    caseworker = db.session.scalar(sa.select(User).where(User.role == Role.CASEWORKER).order_by(User.id))
    police = db.session.scalar(sa.select(User).where(User.role == Role.POLICE).order_by(User.id))
    if caseworker is None or police is None:
        raise RuntimeError("the demo has a caseworker and a police officer")
    today = utcnow().date()
    kinds = {State.CLOSED: (caseworker, (OutcomeType.EMPLOYED, OutcomeType.ENROLLED_EDUCATION)),
             State.SERVICES_OFFERED: (caseworker, (OutcomeType.EMPLOYED,)),
             State.ENFORCED: (police, (OutcomeType.ARRESTED, OutcomeType.INCARCERATED))}
    rows = db.session.scalars(sa.select(Participant).order_by(Participant.id))
    for n, p in enumerate(rows):
        if p.state in kinds and n % 2 == 0:
            actor, types = kinds[State(p.state)]
            outcome_service.record_outcome(actor, p, types[n % len(types)], today - timedelta(days=3 + n % 20))


@dataclass
class _Bucket:
    """The forum the next invitees of one template forum go to, and how far back it (and they) move."""

    forum_id: int
    shift: int
    room: int


@dataclass
class _Copier:
    count: int
    rng: random.Random = field(default_factory=lambda: random.Random(2027))
    forums: list[dict[str, Any]] = field(default_factory=list)

    def run(self) -> None:
        conn = db.session.connection()
        self.dialect = conn.dialect.name
        self.top = {t: conn.scalar(sa.select(sa.func.max(t.c.id))) or 0 for t in (
            _t(Participant), _t(StatusChange), _t(Consent), _t(Invitation),
            _t(Referral), _t(ReferralEvent), _t(EnforcementAction), _t(Outcome),
            _t(AuditEvent), _t(Forum), _t(Note), _t(OutreachContact), _t(CustomNotification))}
        links = [participant_criteria, custom_notification_users, custom_notification_organizations]
        self.templates = list(conn.execute(sa.select(Participant.id).order_by(Participant.id)).scalars())
        self.invited = dict(conn.execute(sa.select(Invitation.participant_id, Invitation.forum_id)).all())
        self.template_forums = {f.id: f for f in conn.execute(sa.select(_t(Forum))).all()}
        self.assigned = dict(conn.execute(sa.select(Participant.id, Participant.community_org_id)).all())
        self.agencies: dict[str, str] = dict(conn.execute(sa.select(Organization.kind, Organization.name).where(
            Organization.kind.in_(("probation", "parole")))).all())
        self.staff = demo_staff.build(conn, self.count + TEMPLATES, self.rng)
        self.next_forum = self.top[_t(Forum)] + 1
        self.buckets: dict[int, _Bucket] = {}
        # Building an index (and checking a foreign key) once at the end is much cheaper than keeping it up to date
        # through millions of inserts.
        if self.dialect == "postgresql":
            restore = bulk_sql.set_aside_postgresql(conn, [table.name for table in (*self.top, *links)])
        else:
            restore = bulk_sql.set_aside_sqlite(conn, [*self.top, *links], cache_kib=262144)
        CLONES.create(conn)
        _search_off(conn)
        try:
            self._fill(conn, self._copies())
            if self.dialect == "postgresql":
                conn.exec_driver_sql("ANALYZE bulk_clones")
            conn.execute(sa.insert(_t(Forum)), self.forums)
            self._copy_tables(conn)
        finally:
            CLONES.drop(conn)
        restore()
        _search_on(conn, above=self.top[_t(Participant)])
        if self.dialect == "postgresql":
            for table in (*self.top, _t(User), _t(Organization), _t(Service), _t(Group)):
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), (SELECT max(id) FROM {table.name}))"
                )

    # The copies: one row each in the temporary table.

    def _copies(self) -> Iterator[tuple]:
        rng, staff = self.rng, self.staff
        per_supervisor = max(1, -(-len(staff.caseworkers) // len(staff.supervisors)))
        span = self.top[_t(Participant)]
        now = utcnow()
        # Each draw from rng.random() alone: choice and randint cost some twenty times as much, and the copies take
        # twenty draws each (3 million at 150,000 participants).
        draw = rng.random

        def pick(seq: Sequence[Any]) -> Any:
            return seq[int(draw() * len(seq))]

        def between(low: int, high: int) -> int:
            return low + int(draw() * (high - low + 1))

        statuses = ("none", "none", "probation", "parole", "pretrial")
        for n in range(self.count):
            template = self.templates[n % len(self.templates)]
            turn = n // len(self.templates) + 1
            forum = self.invited.get(template)
            if forum is None:
                forum_id, shift = None, between(0, SPREAD_DAYS)
            else:
                bucket = self._bucket(forum)
                forum_id, shift = bucket.forum_id, bucket.shift
            status = pick(statuses)
            caseworker = int(draw() * len(staff.caseworkers))
            police, division = pick(staff.officers)
            # Assigned to a community organization when the template is (its outreach is copied with it); a
            # community partner goes on custom notifications either way.
            partner_org, partner = pick(staff.community)
            yield (
                template + turn * span, template, turn, shift, forum_id,
                pick(demo.FIRST), pick(demo.LAST), pick(demo.NICKS) if draw() < 0.6 else None,
                date(now.year - between(16, 34), between(1, 12), between(1, 28)),
                f"({pick(('312', '773', '872'))}) 555-{between(1000, 9999)}",
                f"{between(100, 6999)} {pick(demo.STREETS)}",
                pick(staff.groups), staff.caseworkers[caseworker],
                partner_org if self.assigned[template] is not None else None, status, self.agencies.get(status),
                staff.supervisors[caseworker // per_supervisor], police, division, partner, partner_org,
                int(draw() * staff.provider_sets),
            )

    def _bucket(self, template_forum: int) -> _Bucket:
        bucket = self.buckets.get(template_forum)
        if bucket is None or bucket.room == 0:
            source = self.template_forums[template_forum]
            planned = source.status == ForumStatus.PLANNED or source.scheduled_at > utcnow()
            # A planned forum stays ahead (it moves back at most 20 days of its three weeks ahead).
            shift = self.rng.randint(0, 20) if planned else self.rng.randint(0, SPREAD_DAYS)
            when = source.scheduled_at - timedelta(days=shift)
            self.forums.append({
                "id": self.next_forum, "title": f"Call-in forum, {local_date(when):%B %-d, %Y}",
                "scheduled_at": when,
                "location": self.rng.choice(PLACES), "status": ForumStatus.PLANNED if planned else ForumStatus.HELD,
                "speakers": source.speakers, "created_by_id": self.rng.choice(self.staff.caseworkers),
                "created_at": source.created_at - timedelta(days=shift),
            })
            bucket = self.buckets[template_forum] = _Bucket(self.next_forum, shift, self.rng.randint(15, 40))
            self.next_forum += 1
        bucket.room -= 1
        return bucket

    def _fill(self, conn: sa.Connection, rows: Iterator[tuple]) -> None:
        names = ", ".join(c.name for c in CLONES.columns)
        raw: Any = conn.connection.driver_connection
        if self.dialect == "postgresql":
            with raw.cursor() as cursor, cursor.copy(f"COPY bulk_clones ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(CLONES.columns))
            cursor = raw.cursor()
            cursor.executemany(f"INSERT INTO bulk_clones ({names}) VALUES ({marks})",
                               ((*row[:8], row[8].isoformat(), *row[9:]) for row in rows))
            cursor.close()

    # The tables: one INSERT ... SELECT each, from the templates' rows joined to their copies.

    def _shift(self, column: sa.Column) -> str:
        expr = f"t.{column.name}"
        dated = isinstance(column.type, sa.Date)
        if self.dialect == "postgresql":
            return f"{expr} - b.shift_days" if dated else f"{expr} - b.shift_days * interval '1 day'"
        if dated:
            return f"date({expr}, '-' || b.shift_days || ' days')"
        return f"strftime('%Y-%m-%d %H:%M:%f', {expr}, '-' || b.shift_days || ' days')"

    def _moved(self, table: sa.Table, column: str) -> str:
        """The copy's id of a row of `table` that `column` names."""
        return f"t.{column} + b.turn * {self.top[table]}"

    def _copy(self, conn: sa.Connection, table: sa.Table, source: str, special: dict[str, str]) -> None:
        columns, values = [], []
        for column in table.columns:
            columns.append(column.name)
            if column.name in special:
                values.append(special[column.name])
            elif column.name == "id":
                values.append(self._moved(table, "id"))
            elif _dated(column):
                values.append(self._shift(column))
            elif (named := self._named(column)) is not None:
                values.append(named)
            else:
                values.append(f"t.{column.name}")
        conn.exec_driver_sql(
            f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT {', '.join(values)} FROM {source}"
        )

    def _named(self, column: sa.Column) -> str | None:
        """For a column naming a user, organization, service or group: the copy's own in place of the template's."""
        targets = {key.column.table.name for key in column.foreign_keys}
        expr = f"t.{column.name}"
        if "groups" in targets:  # a copy's enforcement names its own group
            return f"CASE WHEN {expr} IS NULL THEN NULL ELSE b.group_id END"
        mapping = {"users": self.staff.users, "organizations": self.staff.orgs, "services": self.staff.services}
        names = next((mapping[target] for target in targets if target in mapping), None)
        if not names:
            return None
        return f"CASE {expr} {' '.join(f'WHEN {old} THEN {new}' for old, new in names.items())} ELSE {expr} END"

    def _copy_tables(self, conn: sa.Connection) -> None:
        by_participant = "{} t JOIN bulk_clones b ON b.template_id = t.participant_id"
        mine = {"participant_id": "b.new_id"}
        self._copy(conn, _t(Participant), "participants t JOIN bulk_clones b ON b.template_id = t.id",
                   {"id": "b.new_id", **{name: f"b.{name}" for name in OWN}})
        for model in (StatusChange, Consent, Referral, Outcome):
            self._copy(conn, _t(model), by_participant.format(model.__tablename__), mine)
        self._copy(conn, _t(Invitation), by_participant.format("invitations"), {**mine, "forum_id": "b.forum_id"})
        self._copy(conn, _t(EnforcementAction), by_participant.format("enforcement_actions"), mine)
        self._copy(conn, _t(ReferralEvent),
                   "referral_events t JOIN referrals r ON r.id = t.referral_id "
                   "JOIN bulk_clones b ON b.template_id = r.participant_id",
                   {"referral_id": self._moved(_t(Referral), "referral_id")})
        # Field work: notes, the community's outreach, custom notifications (at the copy's door) and their teams.
        for table in (_t(Note), _t(OutreachContact)):
            self._copy(conn, table, by_participant.format(table.name), mine)
        self._copy(conn, _t(CustomNotification), by_participant.format("custom_notifications"),
                   {**mine, "place": "CASE WHEN substr(t.place, 1, 13) = 'Front porch, ' "
                                     "THEN 'Front porch, ' || b.address ELSE t.place END"})
        for link in (custom_notification_users, custom_notification_organizations):
            self._copy(conn, link, f"{link.name} t JOIN custom_notifications c ON c.id = t.custom_notification_id "
                                   "JOIN bulk_clones b ON b.template_id = c.participant_id",
                       {"custom_notification_id": self._moved(_t(CustomNotification), "custom_notification_id")})
        self._copy(conn, participant_criteria, by_participant.format("participant_criteria"), mine)
        objects = {"participant": "b.new_id", **{
            kind: self._moved(_t(model), "object_id") for kind, model in (
                ("referral", Referral), ("outcome", Outcome), ("invitation", Invitation), ("note", Note),
                ("outreach_contact", OutreachContact), ("custom_notification", CustomNotification))}}
        cases = " ".join(f"WHEN '{kind}' THEN {expr}" for kind, expr in objects.items())
        self._copy(conn, _t(AuditEvent), by_participant.format("audit_events"),
                   {**mine, "object_id": f"CASE t.object_type {cases} ELSE t.object_id END"})


def _search_off(conn: sa.Connection) -> None:
    """Before the copies: the name search's triggers go, and its tables are filled once at the end (_search_on)
    instead of row by row. (PostgreSQL's search indexes on the participants are set aside and built again with the
    others by bulk_sql; its narrow copy of the names by _search_on.)"""
    if conn.dialect.name == "sqlite":
        for trigger in ("insert", "update", "delete"):
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS participant_names_{trigger}")
    else:
        participant_names.stop(conn)


def _search_on(conn: sa.Connection, above: int) -> None:
    """After the copies: the name search's tables filled with the copies, participants above id `above`, in one
    statement each, and their triggers back."""
    if conn.dialect.name == "sqlite":
        for statement in FILL_SQLITE:
            conn.execute(sa.text(statement), {"above": above})
        for statement in NAME_SEARCH_TRIGGERS_SQLITE:
            conn.exec_driver_sql(statement)
    else:
        participant_names.fill(conn, above)


def _t(model: Any) -> sa.Table:
    return cast(sa.Table, model.__table__)


def _dated(column: sa.Column) -> bool:
    kind = column.type
    return isinstance(kind, sa.Date | sa.DateTime) or isinstance(getattr(kind, "impl", None), sa.DateTime)
