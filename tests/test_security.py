"""Sign-in and sessions to the CJIS numbers: lockout, rate limit, session expiry, second factor, passwords."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import sqlalchemy as sa
from helpers import PASSWORD

from ceasefire.extensions import db
from ceasefire.models import AuditEvent, User, base
from ceasefire.models.enums import Role

GENERIC = b"Invalid email or password."


class Clock:
    def __init__(self):
        self.now = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(base, "utcnow", clock)
    return clock


def _actions(user_id=None):
    q = sa.select(AuditEvent.action).order_by(AuditEvent.id)
    if user_id is not None:
        q = q.where(AuditEvent.user_id == user_id)
    return list(db.session.scalars(q))


def _signed_in(client) -> bool:
    return client.get("/profile").status_code == 200


def test_five_failures_lock_the_account_for_fifteen_minutes(client, auth, users, clock):
    user = users["caseworker"]
    for _ in range(5):
        response = auth.login(user, "wrong password, sorry")
        assert GENERIC in response.data
    assert _actions(user.id).count("lockout") == 1

    # Even the right password is refused while locked, with the same message.
    assert GENERIC in auth.login(user, PASSWORD).data
    assert not _signed_in(client)

    clock.advance(minutes=14, seconds=59)
    assert GENERIC in auth.login(user, PASSWORD).data
    clock.advance(seconds=2)
    response = auth.login(user, PASSWORD)
    assert response.status_code == 302
    assert _signed_in(client)


def test_the_failure_message_does_not_tell_whether_the_email_exists(client, users):
    unknown = client.post("/login", data={"email": "nobody@example.org", "password": "whatever it is"})
    known = client.post("/login", data={"email": users["police"].email, "password": "whatever it is"})
    assert unknown.status_code == known.status_code == 200
    assert GENERIC in unknown.data
    assert GENERIC in known.data
    assert _actions().count("sign_in_failed") == 2


def test_a_success_resets_the_failure_count(client, auth, users, clock):
    user = users["caseworker"]
    for _ in range(4):
        auth.login(user, "wrong password, sorry")
    auth.login(user, PASSWORD)
    auth.logout()
    for _ in range(4):
        auth.login(user, "wrong password, sorry")
    assert "lockout" not in _actions(user.id)
    assert auth.login(user, PASSWORD).status_code == 302


def test_sign_in_is_rate_limited_per_address(make_app):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    with app.app_context():
        statuses = [
            client.post("/login", data={"email": f"x{i}@example.org", "password": "whatever it is"}).status_code
            for i in range(4)
        ]
    assert statuses == [200, 200, 200, 429]


def test_sessions_end_after_thirty_idle_minutes(client, auth, users, clock):
    auth.login(users["caseworker"])
    clock.advance(minutes=29)
    assert _signed_in(client)
    clock.advance(minutes=29)  # active 29 minutes ago: still in
    assert _signed_in(client)
    clock.advance(minutes=31)
    response = client.get("/profile")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert not _signed_in(client)


def test_sessions_end_after_twelve_hours_however_active(client, auth, users, clock):
    auth.login(users["caseworker"])
    for _ in range(24):
        clock.advance(minutes=29)
        assert _signed_in(client)
    clock.advance(minutes=29)  # 12 h 5 min after signing in
    assert not _signed_in(client)


def test_a_password_change_ends_other_sessions_only(auth, app, users, api_as):
    user = users["caseworker"]
    api_client = api_as(user)
    laptop, phone = app.test_client(), app.test_client()
    auth.login(user, client=laptop)
    auth.login(user, client=phone)
    new = "a brand new passphrase 42"
    response = laptop.post(
        "/profile/password", data={"current_password": PASSWORD, "new_password": new, "confirm": new}
    )
    assert response.status_code == 302
    assert _signed_in(laptop)
    assert not _signed_in(phone)
    assert "password_change" in _actions(user.id)
    assert auth.login(user, new, client=phone).status_code == 302
    # It ends sessions and revokes nothing else: the user's API tokens still work.
    assert api_client.get("/organizations")[0] == 200


@pytest.mark.parametrize(("new", "message"), [
    ("short one", b"at least 12"),
    ("password1234", b"common passwords"),
    ("SELF", b"may not be your email"),
])
def test_weak_passwords_are_refused(client, auth, users, new, message):
    user = users["caseworker"]
    new = user.email if new == "SELF" else new
    auth.login(user)
    before = db.session.scalar(sa.select(User.password_hash).where(User.id == user.id))
    response = client.post(
        "/profile/password", data={"current_password": PASSWORD, "new_password": new, "confirm": new}
    )
    assert response.status_code in (200, 422)
    assert message in response.data
    db.session.expire_all()
    assert db.session.scalar(sa.select(User.password_hash).where(User.id == user.id)) == before


def test_role_change_and_deactivation_end_sessions(client, auth, app, users):
    from ceasefire.services import security

    user = users["caseworker"]
    auth.login(user)
    security.change_role(users["admin"], user, Role.SUPERVISOR)
    db.session.commit()
    assert not _signed_in(client)
    assert "role_change" in _actions(users["admin"].id)

    auth.login(user)
    assert _signed_in(client)
    security.set_active(users["admin"], user, False)
    db.session.commit()
    assert not _signed_in(client)
    assert auth.login(user).status_code == 200  # refused with the generic message


def _enrol(client, clock) -> tuple[str, list[str]]:
    page = client.get("/profile/mfa")
    assert page.status_code == 200
    assert b'src="data:image/svg+xml;base64,' in page.data
    with client.session_transaction() as s:
        secret = s["mfa_secret"]
    code = pyotp.TOTP(secret).at(clock.now)
    done = client.post("/profile/mfa", data={"code": code})
    assert done.status_code == 200
    codes = done.get_data(as_text=True).split("<code>")[1:]
    return secret, [c.split("</code>")[0] for c in codes]


def test_totp_enrolment_and_sign_in_with_wrong_right_and_replayed_codes(client, auth, app, users, clock):
    user = users["police"]
    auth.login(user)
    secret, recovery = _enrol(client, clock)
    assert len(recovery) == 10
    auth.logout()

    totp = pyotp.TOTP(secret)
    clock.advance(seconds=60)
    first = auth.login(user)
    assert "/login/verify" in first.headers["Location"]
    assert not _signed_in(client)
    wrong = client.post("/login/verify", data={"code": "000000" if totp.at(clock.now) != "000000" else "111111"})
    assert b"not right" in wrong.data
    assert not _signed_in(client)
    code = totp.at(clock.now)
    assert client.post("/login/verify", data={"code": code}).status_code == 302
    assert _signed_in(client)
    auth.logout()

    # The same code again, within its 30 seconds: refused.
    auth.login(user)
    assert b"not right" in client.post("/login/verify", data={"code": code}).data
    assert not _signed_in(client)

    # A recovery code works once.
    assert client.post("/login/verify", data={"code": recovery[0]}).status_code == 302
    auth.logout()
    auth.login(user)
    assert b"not right" in client.post("/login/verify", data={"code": recovery[0]}).data


MFA_ROLES = frozenset({"police", "supervisor", "admin"})


@pytest.mark.parametrize("role", list(Role))
def test_roles_that_must_use_a_second_factor_are_sent_to_enrol(app, client, auth, make_user, monkeypatch, role):
    monkeypatch.setitem(app.config, "MFA_REQUIRED_ROLES", MFA_ROLES)
    auth.login(make_user(role))
    response = client.get("/profile")
    if role.value in MFA_ROLES:
        assert response.status_code == 302
        assert response.headers["Location"].endswith("/profile/mfa")
    else:
        assert response.status_code == 200


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"])
def test_next_only_redirects_within_the_site(client, users, target):
    response = client.post(
        "/login?next=" + target, data={"email": users["caseworker"].email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert "evil" not in response.headers["Location"]
    assert response.headers["Location"].startswith("/")


def test_next_keeps_a_local_path(client, users):
    response = client.post("/login?next=/forums/", data={"email": users["caseworker"].email, "password": PASSWORD})
    assert response.headers["Location"] == "/forums/"


def _page_paths() -> list[str]:
    """Every GET page without arguments, read from the app itself, plus an API route and an unknown one."""
    from ceasefire import create_app

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "listing-only"})
    paths = {
        rule.rule for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and not rule.arguments and rule.endpoint != "static"
    }
    return sorted(paths | {"/nowhere", "/static/style.css"})


@pytest.mark.parametrize("path", _page_paths())
@pytest.mark.parametrize("role", ["caseworker", "supervisor", "admin", None])
def test_security_headers_on_every_response(client, auth, users, path, role):
    if role:
        auth.login(users[role])
    with client.get(path) as response:
        headers = response.headers
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp
    assert "script-src 'self'" in csp or "script-src 'none'" in csp  # a report chart (an SVG image) runs none
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"


def test_session_cookie_is_httponly_and_samesite(client, auth, users):
    response = auth.login(users["caseworker"])
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_tokens_are_created_listed_and_revoked_from_the_profile(client, auth, users):
    user = users["caseworker"]
    auth.login(user)
    page = client.post("/profile/tokens", data={"name": "case import", "expires_in_days": "30"})
    assert page.status_code == 200
    token = page.get_data(as_text=True).split('class="secret">')[1].split("<")[0]
    api_headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/organizations", headers=api_headers).status_code == 200
    listing = client.get("/profile").get_data(as_text=True)
    assert "case import" in listing
    assert token not in listing  # shown once

    from ceasefire.models import ApiToken

    token_row = db.session.scalar(sa.select(ApiToken).where(ApiToken.name == "case import"))
    assert token_row.last_used_at is not None
    assert client.post(f"/profile/tokens/{token_row.id}/revoke").status_code == 302
    assert client.get("/api/v1/organizations", headers=api_headers).status_code == 401
    assert {"token_create", "token_revoke"} <= set(_actions(user.id))


def test_a_user_cannot_revoke_someone_elses_token(client, auth, users):
    from ceasefire.services import accounts

    other, _plain = accounts.create_token(users["police"], "theirs")
    db.session.commit()
    auth.login(users["caseworker"])
    assert client.post(f"/profile/tokens/{other.id}/revoke").status_code == 404
    db.session.refresh(other)
    assert other.revoked_at is None


@pytest.mark.usefixtures("csrf_on")
def test_csrf_missing_is_refused_and_the_input_is_offered_back(client, auth, users):
    from ceasefire.models import ApiToken

    user = users["caseworker"]
    auth.login_with_csrf(user)
    # Sign-out without the token: refused, still signed in.
    refused = auth.logout()
    assert refused.status_code == 400
    assert client.get("/profile").status_code == 200
    # A form without the token changes nothing and offers the typed values (never a password) back.
    before = db.session.scalar(sa.select(sa.func.count(ApiToken.id)))
    response = client.post("/profile/tokens", data={"name": "nightly export", "expires_in_days": "7"})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "nightly export" in body
    assert 'name="csrf_token"' in body
    assert db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == before
    assert "token_create" not in _actions(user.id)


def test_https_gets_hsts_and_proxy_headers_are_trusted_only_when_configured(make_app):
    plain = make_app().test_client().get("/login")
    assert "Strict-Transport-Security" not in plain.headers
    proxied = make_app(TRUSTED_PROXIES=1).test_client()
    response = proxied.get("/login", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"})
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    untrusted = make_app().test_client()
    response = untrusted.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers
