"""What tests share that is not a fixture: the test users' password, reading a form's CSRF token, and for the
matrix tests, putting records where a test needs them honestly, through the services people use (never by writing
a state column), and reading back what the database holds on a connection of its own."""

from __future__ import annotations

import itertools
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from ceasefire.extensions import db
from ceasefire.models import (
    EnforcementAction,
    Forum,
    Group,
    Invitation,
    Organization,
    Participant,
    Referral,
    Service,
    StatusChange,
    User,
)
from ceasefire.models.base import today
from ceasefire.models.enums import ForumStatus, OrgKind, Role, State
from ceasefire.services import catalog, events
from ceasefire.services import participants as participant_service
from ceasefire.services import referrals as referral_service

# Every test user's password (the `make_user` fixture).
PASSWORD = "correct horse battery staple"

# The reason sent with each event that takes one, as the API's clients send it.
REASONS = {"close": "moved", "reopen": "Back in the area; in contact with the group again."}


def csrf_token_of(html: str) -> str:
    """The CSRF token a page's form carries."""
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


@dataclass
class Snapshot:
    """What the database holds about one participant, read outside the request's session."""

    state: State
    version: int
    history: list[tuple]
    invitations: list[tuple]
    enforcement_actions: int


def snapshot(participant_id: int) -> Snapshot:
    with db.engine.connect() as conn:
        state, version = conn.execute(
            sa.select(Participant.state, Participant.version).where(Participant.id == participant_id)
        ).one()
        history = conn.execute(
            sa.select(
                StatusChange.id, StatusChange.event, StatusChange.from_state, StatusChange.to_state,
                StatusChange.actor_id, StatusChange.reason,
            ).where(StatusChange.participant_id == participant_id).order_by(StatusChange.id)
        ).all()
        invitations = conn.execute(
            sa.select(
                Invitation.id, Invitation.forum_id, Invitation.method, Invitation.attended, Invitation.checked_in_by_id
            ).where(Invitation.participant_id == participant_id).order_by(Invitation.id)
        ).all()
        enforcement = conn.scalar(
            sa.select(sa.func.count(EnforcementAction.id)).where(EnforcementAction.participant_id == participant_id)
        )
    return Snapshot(State(state), version, [tuple(r) for r in history], [tuple(r) for r in invitations], enforcement)


@dataclass
class Program:
    """A small program to drive participants through: a supervisor who does the driving, a police agency,
    a provider with a service, and forums made on demand."""

    supervisor: User
    police_org: Organization
    service: Service
    _depth: int = 0  # inside batch(): flush, and commit once at the end

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Many steps, one commit (a commit costs a file sync on SQLite)."""
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
        if not self._depth:
            db.session.commit()

    def _save(self) -> None:
        if self._depth:
            db.session.flush()
        else:
            db.session.commit()

    @classmethod
    def build(cls, supervisor: User, provider_org: Organization | None = None) -> Program:
        police_org = Organization(name="Metro Police", kind=OrgKind.POLICE)
        db.session.add(police_org)
        if provider_org is None:
            provider_org = Organization(name="Second Chance Employment", kind=OrgKind.PROVIDER)
            db.session.add(provider_org)
        db.session.flush()
        service = Service(organization_id=provider_org.id, name="Transitional jobs", category="employment")
        db.session.add(service)
        db.session.commit()
        return cls(supervisor, police_org, service)

    def forum(self, status: ForumStatus = ForumStatus.PLANNED) -> Forum:
        forum = catalog.create_forum(
            # today (an hour ago), so that its invitees may be checked in
            self.supervisor, "Call-in forum", datetime.now(UTC) - timedelta(hours=1), location="Fieldhouse"
        )
        forum.status = status
        self._save()
        return forum

    def create(self, actor: User | None = None, **fields: Any) -> Participant:
        data = {"first_name": "Marcus", "last_name": "Johnson"} | fields
        participant = participant_service.create_participant(actor or self.supervisor, data)
        self._save()
        return participant

    def fire(self, participant: Participant, name: str, actor: User | None = None, **data: Any) -> Participant:
        events.perform(actor or self.supervisor, participant, participant.version, name, data)
        self._save()
        return participant

    def consent(self, participant: Participant, given: bool = True) -> None:
        participant_service.update_participant(
            self.supervisor, participant, participant.version, {"consent_to_share": given}
        )
        self._save()

    def refer(self, participant: Participant, service: Service | None = None) -> Referral:
        if participant.consent_in_force() is None:
            self.consent(participant)
        referral = referral_service.send_referral(self.supervisor, participant, service or self.service, "From a test")
        self._save()
        return referral

    def event_data(self, name: str) -> dict[str, Any]:
        """The extra fields API.md asks of each event, as JSON."""
        if name == "invite":
            return {"forum_id": self.forum().id, "method": "custom_notification"}
        if name == "enforce":
            return {
                "action_type": "arrest", "occurred_on": today().isoformat(), "agency_id": self.police_org.id,
                "description": "Arrested after a shooting on Oak St.",
            }
        if name in REASONS:
            return {"reason": REASONS[name]}
        return {}

    def prepare(self, participant: Participant, name: str) -> None:
        """What must exist before an event can pass its guard, whatever the state (offer_services: a referral)."""
        if name == "offer_services" and not referral_service.has_sent_referral(participant):
            self.refer(participant)

    def bring_to(self, state: State | str, **fields: Any) -> Participant:
        """A new participant walked to `state` along the pipeline's own roads, one event at a time."""
        state = State(state)
        with self.batch():
            return self._walk(state, fields)

    def _walk(self, state: State, fields: dict[str, Any]) -> Participant:
        participant = self.create(**fields)
        roads: dict[State, list[str]] = {
            State.IDENTIFIED: [],
            State.INVITED: ["invite"],
            State.ATTENDED: ["invite", "attend"],
            State.SERVICES_OFFERED: ["invite", "attend", "offer_services"],
            State.ENFORCED: ["enforce"],
            State.CLOSED: ["close"],
        }
        for name in roads[state]:
            self.prepare(participant, name)
            self.fire(participant, name, **_typed(self.event_data(name)))
        assert participant.state == state
        return participant


def _typed(data: dict[str, Any]) -> dict[str, Any]:
    """JSON values as the service layer takes them (the API's validator does this for requests)."""
    out = dict(data)
    if "occurred_on" in out:
        out["occurred_on"] = datetime.fromisoformat(out["occurred_on"]).date()
    return out


def put_in_scope(program: Program, participant: Participant, user: User) -> None:
    """Make the participant one the user may see: a referral to a provider's organization with a consent in
    force, or the assignment of a community group."""
    if user.role == Role.PROVIDER:
        service = Service(organization_id=user.organization_id, name="Trauma counselling", category="mental_health")
        db.session.add(service)
        db.session.flush()
        program.refer(participant, service)
    elif user.role == Role.COMMUNITY:
        participant_service.update_participant(
            program.supervisor, participant, participant.version, {"community_org_id": user.organization_id}
        )
        program._save()


@contextmanager
def counting() -> Iterator[list[str]]:
    """The SQL statements run inside the block, as a list (query counts are asserted; timings never are). The
    session's and the token's once-a-minute writes of their last use are held off inside it: a slow run may cross a
    minute between a test's warm-up request and the one counted, and those writes are not the request's own cost."""
    from ceasefire.services import accounts, sessions

    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    held = sessions.TOUCH_EVERY, accounts.TOKEN_USE_RESOLUTION
    sessions.TOUCH_EVERY = accounts.TOKEN_USE_RESOLUTION = timedelta(days=3650)
    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
        sessions.TOUCH_EVERY, accounts.TOKEN_USE_RESOLUTION = held


@contextmanager
def sent() -> Iterator[list[tuple[str, Any]]]:
    """The SQL statements run inside the block, each with its parameters, as a list."""
    statements: list[tuple[str, Any]] = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", keep)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", keep)


def sqlite_plan(statement: str, parameters: Any) -> str:
    """SQLite's plan of a statement as it was sent (EXPLAIN QUERY PLAN), its steps joined by " | "."""
    rows = db.session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
    return " | ".join(str(row[-1]) for row in rows)


def lower_compound_select_limit(terms: int) -> None:
    """On SQLite, the app's connections from now on take at most `terms` selects in one compound select (SQLite's
    own limit is 500), so that a test reaches it with a few rows. The session's work is committed and the open
    connections closed first: they keep the limit they had. Nothing on PostgreSQL, which has no such limit."""
    if db.engine.dialect.name != "sqlite":
        return
    sa.event.listen(db.engine, "connect",
                    lambda dbapi, _record: dbapi.setlimit(sqlite3.SQLITE_LIMIT_COMPOUND_SELECT, terms))
    db.session.commit()
    db.engine.dispose()


def text(response) -> str:
    return response.get_data(as_text=True)


def at(day: str, hour: int = 18, minute: int = 0) -> datetime:
    """A moment on `day` (YYYY-MM-DD), in UTC: 18:00 unless told."""
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=UTC)


def set_history(participant: Participant, *moments: datetime) -> None:
    """Move each of the participant's history rows, oldest first, to the moments given (one for each); the first is
    also the day of identification."""
    rows = db.session.scalars(
        sa.select(StatusChange).where(StatusChange.participant_id == participant.id).order_by(StatusChange.id)
    ).all()
    assert len(rows) == len(moments), [r.event for r in rows]
    for row, moment in zip(rows, moments, strict=True):
        row.at = moment
    participant.identified_on = moments[0].date()


_serial = itertools.count(1)


def grow_staff(extra: int) -> None:
    """`extra` more groups, caseworkers, police officers, community groups, providers, services and planned forums,
    written in bulk
    (a look-up never reads them one by one, so their history does not matter here)."""
    n = next(_serial) * 100_000
    hashed = db.session.scalar(sa.select(User.password_hash).limit(1))
    db.session.execute(sa.insert(Group), [{"name": f"Filler Group {n + i}", "area": "Somewhere"} for i in range(extra)])
    orgs = [{"name": f"Filler Community {n + i}", "kind": OrgKind.COMMUNITY} for i in range(extra)]
    orgs += [{"name": f"Filler Provider {n + i}", "kind": OrgKind.PROVIDER} for i in range(extra)]
    db.session.execute(sa.insert(Organization), orgs)
    db.session.execute(sa.insert(User), [
        {"name": f"Filler Staff {n + i}", "email": f"filler-{role}{n + i}@example.org", "role": role,
         "password_hash": hashed}
        for i in range(extra) for role in (Role.CASEWORKER, Role.POLICE)
    ])
    soon = datetime.now(UTC) + timedelta(days=7)
    db.session.execute(sa.insert(Forum), [
        {"title": f"Filler Forum {n + i}", "location": f"Filler Hall {n + i}", "scheduled_at": soon,
         "status": ForumStatus.PLANNED} for i in range(extra)
    ])
    providers = db.session.scalars(sa.select(Organization.id).where(
        Organization.name.in_([o["name"] for o in orgs if o["kind"] == OrgKind.PROVIDER])))
    db.session.execute(sa.insert(Service), [
        {"organization_id": org, "name": f"Filler Service {n + i}", "category": "employment"}
        for i, org in enumerate(providers)
    ])
    db.session.commit()


def check_tallies() -> None:
    """Each forum's kept cohort counts (models.cohort_tallies), read on a connection of their own (what is
    committed), equal the report's statement run afresh over every forum, counted for the forum's day."""
    from ceasefire.models import cohort_tallies

    table = cohort_tallies.TALLIES
    with db.engine.connect() as conn:
        held = {fid: cohort_tallies.held_on(moment)
                for fid, moment in conn.execute(sa.select(Forum.id, Forum.scheduled_at))}
        recounted = {fid: {"held": cohort_tallies.day_of(held[fid]), **counts}
                     for fid, counts in cohort_tallies.count(conn, held).items()}
        kept = {row.forum_id: {name: getattr(row, name) for name in ("held", *cohort_tallies.MEASURES)}
                for row in conn.execute(sa.select(table))}
    assert kept == recounted
