"""Sign-in protection: lockout, the second factor (TOTP and recovery codes), password and role changes that end
the user's sessions. The numbers come from the settings (CJIS Security Policy 5.5.3 and 5.6.2)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import secrets
from datetime import timedelta

import pyotp
import qrcode
import qrcode.image.svg
import sqlalchemy as sa
from flask import current_app

from ceasefire.errors import ValidationFailed
from ceasefire.extensions import db
from ceasefire.models import RecoveryCode, User, base
from ceasefire.models.enums import Role
from ceasefire.services import accounts, audit, sessions

RECOVERY_CODES = 10


def _cfg(name: str):
    return current_app.config[name]


def is_locked(user: User) -> bool:
    return user.locked_until is not None and user.locked_until > base.utcnow()


def check_password(email: str, password: str) -> User | None:
    """The first step of signing in. Counts failures per account and locks it after too many; the caller
    shows one message whatever happened, so nobody learns which emails exist or are locked."""
    user = accounts.user_by_email(email)
    if user is not None and is_locked(user):
        accounts.verify_password(None, password)  # the same work as a real check
        audit.record(user, "sign_in_failed", "user", user.id, "account locked")
        return None
    if accounts.verify_password(user, password) and user is not None:  # verified first: the same work for everyone
        user.failed_logins = 0
        user.locked_until = None
        return user
    if user is None:
        audit.record(None, "sign_in_failed", "user", None, "unknown email")
        return None
    user.failed_logins += 1
    audit.record(user, "sign_in_failed", "user", user.id, f"failure {user.failed_logins}")
    if user.failed_logins >= _cfg("LOCKOUT_THRESHOLD"):
        user.locked_until = base.utcnow() + timedelta(minutes=_cfg("LOCKOUT_MINUTES"))
        user.failed_logins = 0
        audit.record(user, "lockout", "user", user.id, f"locked for {_cfg('LOCKOUT_MINUTES')} minutes")
    return None


def mfa_required(user: User) -> bool:
    return user.role.value in _cfg("MFA_REQUIRED_ROLES")


# TOTP


def new_totp_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=_cfg("MFA_ISSUER"))


def qr_svg_data_uri(uri: str) -> str:
    """The QR code as an SVG data URI, drawn here: the secret never leaves the server for a chart service."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def _totp_step(secret: str, code: str, after_step: int | None) -> int | None:
    """The time step the code belongs to (now, or one step either side for clock drift), if it is newer than
    the last one used: a code works once."""
    code = code.strip().replace(" ", "")
    if not (code.isascii() and code.isdigit()):
        return None  # a wrong code, whatever its characters (compare_digest refuses a str with non-ASCII ones)
    totp = pyotp.TOTP(secret)
    now = base.utcnow()
    for drift in (0, -1, 1):
        moment = now + timedelta(seconds=totp.interval * drift)
        step = totp.timecode(moment)
        if hmac.compare_digest(totp.at(moment), code) and (after_step is None or step > after_step):
            return step
    return None


def enrol(user: User, secret: str, code: str) -> list[str]:
    """Turn on the second factor once the user proves their authenticator works; returns new recovery codes,
    shown once."""
    step = _totp_step(secret, code, None)
    if step is None:
        raise ValidationFailed("That code is not right.", {"code": "Enter the 6-digit code your app shows now."})
    user.totp_secret = secret
    user.totp_last_step = step
    audit.record(user, "update", "user", user.id, "second factor enrolled")
    return new_recovery_codes(user)


def _digest(code: str) -> str:
    return hashlib.sha256(code.strip().lower().replace("-", "").replace(" ", "").encode()).hexdigest()


def new_recovery_codes(user: User) -> list[str]:
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = base64.b32encode(secrets.token_bytes(8)).decode().lower().rstrip("=")[:12]
        codes.append(f"{raw[:4]}-{raw[4:8]}-{raw[8:12]}")
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_digest(raw)))
    db.session.flush()
    return codes


def verify_second_factor(user: User, code: str) -> bool:
    """A TOTP code (not one already used) or an unused recovery code."""
    if user.totp_secret is None:
        return False
    step = _totp_step(user.totp_secret, code, user.totp_last_step)
    if step is not None:
        user.totp_last_step = step
        return True
    recovery = db.session.scalar(
        sa.select(RecoveryCode).where(
            RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _digest(code), RecoveryCode.used_at.is_(None)
        )
    )
    if recovery is not None:
        recovery.used_at = base.utcnow()
        audit.record(user, "update", "user", user.id, "recovery code used")
        return True
    return False


# Changes that end the user's sessions, on the server and at once


def change_password(user: User, current: str, new: str, keep_sid: str | None = None) -> None:
    """Every session of the user ends but `keep_sid`, the one the change was made in."""
    if not accounts.verify_password(user, current):
        raise ValidationFailed("Your current password is not right.", {"current_password": "Not right."})
    accounts.check_password_rules(new, user.email)
    user.password_hash = accounts.hash_password(new)
    user.must_change_password = False
    sessions.end_all(user, keep_sid=keep_sid)
    audit.record(user, "password_change", "user", user.id)


def set_new_password(user: User, new: str, keep_sid: str | None = None) -> None:
    """After an admin's reset: the user, signed in with the temporary password, chooses one of their own (not the
    temporary one again). Every other session ends."""
    accounts.check_password_rules(new, user.email)
    if accounts.verify_password(user, new):
        raise ValidationFailed(
            "Choose a new password.", {"password": "Use a password of your own, not the one you were given."}
        )
    user.password_hash = accounts.hash_password(new)
    user.must_change_password = False
    sessions.end_all(user, keep_sid=keep_sid)
    audit.record(user, "password_change", "user", user.id, "new password after a reset")


def change_role(actor: User, user: User, role: Role) -> None:
    if user.role == role:
        return
    before = user.role
    user.role = role
    sessions.end_all(user)
    audit.record(actor, "role_change", "user", user.id, f"{before}->{role}")


def set_active(actor: User, user: User, active: bool) -> None:
    if user.active == active:
        return
    user.active = active
    sessions.end_all(user)
    audit.record(actor, "update", "user", user.id, "activated" if active else "deactivated")
