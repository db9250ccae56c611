"""Signed-in sessions, each of which can be ended on the server at once: by signing out, by a password or role change
or a deactivation, or from the profile page. Flask-Session's store holds the data; a UserSession row indexes it by user
and says when and where it was used, and a session without its row is over."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from ceasefire.extensions import db
from ceasefire.models import User, UserSession, base
from ceasefire.services import audit
from ceasefire.services.session_store import KeyedStore, key_of

# last_seen_at is written at most this often, so a busy session costs no write on every request.
TOUCH_EVERY = timedelta(minutes=1)
USER_AGENT_MAX = 300


@dataclass(frozen=True)
class OpenSession:
    """A session as its owner sees it on the profile page."""

    id: int
    ip: str | None
    user_agent: str | None
    signed_in_at: datetime
    last_seen_at: datetime
    current: bool


def _limits() -> tuple[timedelta, timedelta]:
    cfg = current_app.config
    return timedelta(minutes=cfg["SESSION_IDLE_MINUTES"]), timedelta(hours=cfg["SESSION_MAX_HOURS"])


def start(user: User, sid: str, ip: str | None, user_agent: str | None) -> UserSession:
    """A session signed in; the sign-in is audited. What ran out meanwhile, the user's sessions and in the database's
    store anyone's, is cleared away."""
    now = base.utcnow()
    if (store := _store()) is not None:
        store.sweep()
    idle, longest = _limits()
    _end(list(db.session.scalars(
        sa.select(UserSession).where(
            UserSession.user_id == user.id,
            sa.or_(UserSession.last_seen_at < now - idle, UserSession.created_at < now - longest),
        )
    )))
    record = UserSession(
        key=key_of(sid), user_id=user.id, created_at=now, last_seen_at=now, ip=ip,
        user_agent=(user_agent or None) and user_agent[:USER_AGENT_MAX],
    )
    db.session.add(record)
    audit.record(user, "sign_in", "user", user.id)
    return record


def find(sid: str) -> UserSession | None:
    return db.session.scalar(sa.select(UserSession).where(UserSession.key == key_of(sid)))


def has_expired(record: UserSession, now: datetime | None = None) -> bool:
    """Idle too long (measured to the minute, see TOUCH_EVERY) or signed in too long ago."""
    now = now or base.utcnow()
    idle, longest = _limits()
    return now - record.last_seen_at > idle or now - record.created_at > longest


def touch(record: UserSession) -> bool:
    """Note that the session is in use; True when that changed the row (once a minute at most)."""
    now = base.utcnow()
    if now - record.last_seen_at < TOUCH_EVERY:
        return False
    record.last_seen_at = now
    return True


def _store() -> KeyedStore | None:
    store = current_app.session_interface
    return store if isinstance(store, KeyedStore) else None


def _end(records: list[UserSession]) -> int:
    keys = [r.key for r in records]
    for record in records:
        db.session.delete(record)
    if keys and (store := _store()) is not None:
        store.forget(keys)
    return len(keys)


def end(record: UserSession) -> None:
    """One session over (it expired): its row and its stored data go."""
    _end([record])


def sign_out(user: User, sid: str) -> None:
    """This session over; the user's sessions elsewhere go on."""
    record = find(sid)
    _end([record] if record is not None else [])
    audit.record(user, "sign_out", "user", user.id)


def end_all(user: User, keep_sid: str | None = None) -> int:
    """Every session of the user over (but the one kept, when given); how many ended."""
    query = sa.select(UserSession).where(UserSession.user_id == user.id)
    if keep_sid is not None:
        query = query.where(UserSession.key != key_of(keep_sid))
    return _end(list(db.session.scalars(query)))


def end_others(user: User, current_sid: str) -> int:
    """From the profile page: every session of the user but this one over, and audited as a sign-out."""
    ended = end_all(user, keep_sid=current_sid)
    audit.record(user, "sign_out", "user", user.id, f"ended {ended} other session{'s' if ended != 1 else ''}")
    return ended


def open_sessions(user: User, current_sid: str | None) -> list[OpenSession]:
    """The user's open sessions, the most recently used first."""
    current = key_of(current_sid) if current_sid else None
    now = base.utcnow()
    records = db.session.scalars(
        sa.select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.last_seen_at.desc())
    )
    return [
        OpenSession(r.id, r.ip, r.user_agent, r.created_at, r.last_seen_at, r.key == current)
        for r in records
        if not has_expired(r, now)
    ]
