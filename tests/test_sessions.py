"""Sessions kept on the server: signing out, a password or role change and a deactivation end them at once; the cookie
lasts as long as the browser; the profile lists where the user is signed in and ends the other sessions. CSRF stays on
throughout, as in production."""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from helpers import PASSWORD, csrf_token_of
from redis import Redis

from ceasefire.extensions import db
from ceasefire.models import AuditEvent, StoredSession, UserSession, base
from ceasefire.models.enums import Role
from ceasefire.services import security

REDIS_URL = "redis://127.0.0.1:6379/0"


pytestmark = pytest.mark.usefixtures("csrf_on")


def _sid(client) -> str:
    return client.get_cookie("session").value


def _copy(app, client):
    """Another browser holding a copy of the client's session cookie."""
    other = app.test_client()
    other.set_cookie("session", _sid(client))
    return other


def _signed_in(client) -> bool:
    return client.get("/participants/").status_code == 200


def _post(client, path: str, data: dict | None = None, page: str = "/profile"):
    token = csrf_token_of(client.get(page).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **(data or {})})


def _rows(model, **where) -> list:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(model).filter_by(**where)))


def _digest(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def test_a_cookie_copied_before_sign_out_opens_nothing_after(auth, app, users):
    tablet = app.test_client()
    auth.login_with_csrf(users["caseworker"], client=tablet)
    copy = _copy(app, tablet)
    assert _signed_in(copy)

    assert _post(tablet, "/logout").status_code == 302
    response = copy.get("/participants/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert not _signed_in(tablet)
    assert _rows(UserSession, user_id=users["caseworker"].id) == []


def test_signing_out_leaves_the_users_other_sessions_open(auth, app, users):
    desk, tablet = app.test_client(), app.test_client()
    auth.login_with_csrf(users["caseworker"], client=desk)
    auth.login_with_csrf(users["caseworker"], client=tablet)
    _post(tablet, "/logout")
    assert not _signed_in(tablet)
    assert _signed_in(desk)


def test_the_session_cookie_lasts_as_long_as_the_browser(client, auth, app, users):
    response = auth.login_with_csrf(users["caseworker"])
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies
    for cookie in cookies:
        assert "expires" not in cookie.lower()
        assert "max-age" not in cookie.lower()
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie


def test_signing_in_gives_a_new_session_id(client, auth, app, users):
    client.get("/login")  # the sign-in form puts its CSRF token in a session
    before = _sid(client)
    planted = _copy(app, client)
    auth.login_with_csrf(users["caseworker"])
    assert _sid(client) != before
    assert not _signed_in(planted)


def test_the_server_keeps_no_session_id_only_its_digest(client, auth, app, users):
    auth.login_with_csrf(users["caseworker"])
    client.get("/profile")
    sid = _sid(client)
    stored = [row.session_id for row in _rows(StoredSession)]
    assert f"session:{_digest(sid)}" in stored
    assert not any(sid in key for key in stored)
    assert [row.key for row in _rows(UserSession)] == [_digest(sid)]


def test_a_password_change_ends_the_other_sessions_at_once(auth, app, users):
    user = users["caseworker"]
    laptop, phone = app.test_client(), app.test_client()
    auth.login_with_csrf(user, client=laptop)
    auth.login_with_csrf(user, client=phone)
    phone_copy = _copy(app, phone)
    phone_key = _digest(_sid(phone))
    new = "a brand new passphrase 42"
    response = _post(
        laptop, "/profile/password", {"current_password": PASSWORD, "new_password": new, "confirm": new},
        page="/profile/password",
    )
    assert response.status_code == 302
    assert _signed_in(laptop)
    assert not _signed_in(phone_copy)
    assert not _signed_in(phone)
    assert [row.key for row in _rows(UserSession, user_id=user.id)] == [_digest(_sid(laptop))]
    assert _rows(StoredSession, session_id=f"session:{phone_key}") == []


@pytest.mark.parametrize("change", ["role", "deactivation"])
def test_a_role_change_or_a_deactivation_ends_every_session_at_once(auth, app, users, change):
    user = users["caseworker"]
    desk, tablet = app.test_client(), app.test_client()
    auth.login_with_csrf(user, client=desk)
    auth.login_with_csrf(user, client=tablet)
    keys = [f"session:{_digest(_sid(c))}" for c in (desk, tablet)]
    if change == "role":
        security.change_role(users["admin"], user, Role.SUPERVISOR)
    else:
        security.set_active(users["admin"], user, False)
    db.session.commit()
    # Ended on the server before either browser comes back: no row, no stored data.
    assert _rows(UserSession, user_id=user.id) == []
    assert [r for r in _rows(StoredSession) if r.session_id in keys] == []
    assert not _signed_in(desk)
    assert not _signed_in(tablet)


def test_the_profile_lists_open_sessions_and_ends_the_others(auth, app, users):
    user = users["caseworker"]
    desk, tablet = app.test_client(), app.test_client()
    desk.environ_base.update(REMOTE_ADDR="198.51.100.7", HTTP_USER_AGENT="Desk browser/1.0")
    tablet.environ_base.update(REMOTE_ADDR="203.0.113.20", HTTP_USER_AGENT="Forum door tablet/2.0")
    auth.login_with_csrf(user, client=tablet)
    auth.login_with_csrf(user, client=desk)
    other = auth.login_with_csrf(users["police"], client=app.test_client())  # someone else's session is not listed
    assert other.status_code == 302

    page = desk.get("/profile").get_data(as_text=True)
    section = page.split('id="sessions-heading"')[1].split("</section>")[0]
    assert "198.51.100.7" in section
    assert "Desk browser/1.0" in section
    assert "203.0.113.20" in section
    assert "Forum door tablet/2.0" in section
    assert section.count("(this browser)") == 1
    assert section.count("<tr>") == 3  # the header row and two sessions
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", section)  # when each was last used

    response = _post(desk, "/profile/sessions/end-others")
    assert response.status_code == 302
    assert not _signed_in(tablet)
    assert _signed_in(desk)
    after = desk.get("/profile").get_data(as_text=True).split('id="sessions-heading"')[1].split("</section>")[0]
    assert "203.0.113.20" not in after
    assert "signed in here alone" in after
    detail = db.session.scalar(
        sa.select(AuditEvent.detail).where(AuditEvent.user_id == user.id, AuditEvent.action == "sign_out")
    )
    assert detail == "ended 1 other session"


def test_ending_the_other_sessions_needs_the_csrf_token(auth, app, users):
    user = users["caseworker"]
    desk, tablet = app.test_client(), app.test_client()
    auth.login_with_csrf(user, client=desk)
    auth.login_with_csrf(user, client=tablet)
    assert desk.post("/profile/sessions/end-others").status_code == 400
    assert _signed_in(tablet)


class Clock:
    def __init__(self):
        self.now = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)

    def __call__(self):
        return self.now


def test_last_use_is_written_at_most_once_a_minute(client, auth, app, users, monkeypatch):
    clock = Clock()
    monkeypatch.setattr(base, "utcnow", clock)
    auth.login_with_csrf(users["caseworker"])
    client.get("/profile")  # the first page after signing in stores a fresh CSRF token
    signed_in_at = clock.now

    writes = []

    @sa.event.listens_for(db.engine, "before_cursor_execute")
    def _count(conn, cursor, statement, *args):
        if statement.lstrip().split(" ", 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}:
            writes.append(statement)

    try:
        clock.now += timedelta(seconds=50)
        assert client.get("/profile").status_code == 200
        assert writes == []  # neither the session's row nor its stored data is written
        assert _rows(UserSession)[0].last_seen_at == signed_in_at
        clock.now += timedelta(seconds=20)
        assert client.get("/profile").status_code == 200
        assert len(writes) == 1
        assert _rows(UserSession)[0].last_seen_at == clock.now
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", _count)


def test_an_idle_session_ends_and_leaves_nothing_behind(client, auth, app, users, monkeypatch):
    clock = Clock()
    monkeypatch.setattr(base, "utcnow", clock)
    auth.login_with_csrf(users["caseworker"])
    copy = _copy(app, client)
    clock.now += timedelta(minutes=31)
    response = client.get("/participants/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert _rows(UserSession) == []
    assert not _signed_in(copy)


def test_sessions_live_in_redis_when_it_is_set(auth, app, users, make_app):
    prefix = f"test-session-{uuid.uuid4().hex}:"
    redis = Redis.from_url(REDIS_URL)
    # Another app, so `csrf_on` does not reach it: CSRF on here too.
    redis_app = make_app(SESSION_REDIS_URL=REDIS_URL, SESSION_KEY_PREFIX=prefix, WTF_CSRF_ENABLED=True)
    try:
        stored_before = len(_rows(StoredSession))
        tablet = redis_app.test_client()
        auth.login_with_csrf(users["caseworker"], client=tablet)
        sid = _sid(tablet)
        assert redis.exists(prefix + _digest(sid))
        assert not any(sid in key.decode() for key in redis.scan_iter(match=prefix + "*"))
        assert len(_rows(StoredSession)) == stored_before  # nothing in the database's store
        copy = _copy(redis_app, tablet)
        assert _signed_in(copy)

        assert _post(tablet, "/logout").status_code == 302
        assert not redis.exists(prefix + _digest(sid))
        assert not _signed_in(copy)
        assert not _signed_in(tablet)
    finally:
        keys = list(redis.scan_iter(match=prefix + "*"))
        if keys:
            redis.delete(*keys)
        redis.close()


def _expired_row(name: str) -> None:
    past = base.utcnow() - timedelta(minutes=1)
    db.session.add(StoredSession(session_id=f"session:{name}", data=b"\x80", expiry=past))
    db.session.commit()


def test_what_ran_out_is_cleared_at_the_next_sign_in(auth, app, users, monkeypatch):
    clock = Clock()
    monkeypatch.setattr(base, "utcnow", clock)
    user = users["caseworker"]
    forgotten = app.test_client()  # a browser left open, never used again
    auth.login_with_csrf(user, client=forgotten)
    clock.now += timedelta(hours=13)
    _expired_row("long-gone")
    auth.login_with_csrf(user, client=app.test_client())
    assert [r.session_id for r in _rows(StoredSession) if r.session_id == "session:long-gone"] == []
    assert len(_rows(UserSession, user_id=user.id)) == 1


def test_flask_session_cleanup_deletes_expired_stored_sessions(app, runner):
    _expired_row("long-gone")
    result = runner.invoke(args=["session_cleanup"])
    assert result.exit_code == 0, result.output
    assert _rows(StoredSession) == []


@pytest.mark.parametrize("path", ["/static/style.css", "/api/v1/organizations"])
def test_static_files_and_the_api_do_not_look_the_session_up(client, auth, app, users, path):
    auth.login_with_csrf(users["caseworker"])
    statements = []

    @sa.event.listens_for(db.engine, "before_cursor_execute")
    def _note(conn, cursor, statement, *args):
        statements.append(statement)

    try:
        client.get(path).close()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", _note)
    assert not [s for s in statements if "sessions" in s]
