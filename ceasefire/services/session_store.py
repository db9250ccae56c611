"""Where sessions live: Flask-Session's server-side store, in the database by default and in Redis when
SESSION_REDIS_URL (REDIS_URL) is set. The cookie holds a random id alone, for as long as the browser runs; the store
keys the data by the id's SHA-256, so a copy of the database or of Redis gives no working cookie."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, cast

import sqlalchemy as sa
from flask import Flask
from flask_session.base import ServerSideSession, ServerSideSessionInterface
from flask_session.redis import RedisSessionInterface
from redis import Redis

from ceasefire.extensions import db
from ceasefire.models import StoredSession, base

# A declarative class's __table__ is a Table, which SQLAlchemy's types know only as a FromClause.
SESSIONS = cast(sa.Table, StoredSession.__table__)

# For the type checker the mixin below is the Flask-Session interface it is mixed into; at run time a plain class.
if TYPE_CHECKING:
    from flask_session.base import ServerSideSessionInterface as _Mixin
else:
    _Mixin = object


def key_of(sid: str) -> str:
    """The key a session is stored and indexed under: the SHA-256 of the id its cookie holds."""
    return hashlib.sha256(sid.encode()).hexdigest()


class KeyedStore(_Mixin):
    """What ours add to Flask-Session's interfaces: hashed keys, and forgetting sessions by key."""

    key_prefix: str

    def _get_store_id(self, sid: str) -> str:
        return self.key_prefix + key_of(sid)

    def open_session(self, app: Flask, request) -> ServerSideSession:
        """Static files and the API (bearer tokens, no cookies) use no session: no lookup in the store for them."""
        if request.path.startswith((f"{app.static_url_path}/", "/api/")):
            return self.session_class(sid=self._generate_sid(self.sid_length), permanent=self.permanent)
        return super().open_session(app, request)

    def forget(self, keys: Iterable[str]) -> None:
        raise NotImplementedError

    def sweep(self) -> None:
        """Delete what has expired, where the store does not do it itself."""


class DatabaseStore(KeyedStore, ServerSideSessionInterface):
    """Flask-Session's SqlAlchemySessionInterface, on a table the migrations own. Flask-Session 0.8's own class
    declares its model anew on every app it is given (the second app fails: "Table 'sessions' is already defined",
    pallets-eco/flask-session#245), creates the table itself outside the migrations, and stores naive times."""

    session_class = ServerSideSession
    ttl = False  # expired rows go at each sign-in (sweep) or with Flask-Session's `flask session_cleanup`

    def _retrieve_session_data(self, store_id: str) -> dict | None:
        row = db.session.execute(
            sa.select(StoredSession.data, StoredSession.expiry).where(StoredSession.session_id == store_id)
        ).first()
        if row is None or row.expiry <= base.utcnow():
            return None
        return self.serializer.decode(row.data)

    def _delete_session(self, store_id: str) -> None:
        db.session.execute(sa.delete(SESSIONS).where(StoredSession.session_id == store_id))
        db.session.commit()

    def _upsert_session(self, session_lifetime: timedelta, session: ServerSideSession, store_id: str) -> None:
        data, expiry = self.serializer.encode(session), base.utcnow() + session_lifetime
        table = SESSIONS
        updated = cast(sa.CursorResult, db.session.execute(  # an UPDATE's result is a CursorResult
            sa.update(table).where(table.c.session_id == store_id).values(data=data, expiry=expiry)
        )).rowcount
        if not updated:
            db.session.execute(sa.insert(table).values(session_id=store_id, data=data, expiry=expiry))
        db.session.commit()

    def _delete_expired_sessions(self) -> None:
        db.session.execute(sa.delete(SESSIONS).where(StoredSession.expiry <= base.utcnow()))
        db.session.commit()

    def forget(self, keys: Iterable[str]) -> None:
        """In the caller's transaction: the sessions end when it commits."""
        store_ids = [self.key_prefix + key for key in keys]
        if store_ids:
            db.session.execute(sa.delete(SESSIONS).where(StoredSession.session_id.in_(store_ids)))


    def sweep(self) -> None:
        """In the caller's transaction."""
        db.session.execute(sa.delete(SESSIONS).where(StoredSession.expiry <= base.utcnow()))


class RedisStore(KeyedStore, RedisSessionInterface):
    """Flask-Session's Redis interface, with hashed keys; Redis expires the data itself."""

    def forget(self, keys: Iterable[str]) -> None:
        store_ids = [self.key_prefix + key for key in keys]
        if store_ids:
            self.client.delete(*store_ids)


def init_app(app: Flask) -> None:
    cfg = app.config
    # The store keeps a session no longer than a session may last; the cookie itself has no expiry.
    app.permanent_session_lifetime = timedelta(hours=cfg["SESSION_MAX_HOURS"])
    common = {
        "key_prefix": cfg["SESSION_KEY_PREFIX"],
        "permanent": False,
        "sid_length": 32,  # bytes of randomness in the id
        "serialization_format": "msgpack",
    }
    if cfg["SESSION_REDIS_URL"]:
        app.session_interface = RedisStore(app, client=Redis.from_url(cfg["SESSION_REDIS_URL"]), **common)
    else:
        app.session_interface = DatabaseStore(app, **common)
