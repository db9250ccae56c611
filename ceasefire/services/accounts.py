"""Users, passwords and API tokens."""

from __future__ import annotations

import functools
import gzip
import hashlib
import secrets
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy.orm import joinedload

from ceasefire import limits
from ceasefire.errors import Forbidden, ValidationFailed
from ceasefire.extensions import db
from ceasefire.models import ApiToken, Organization, User
from ceasefire.models.base import utcnow
from ceasefire.models.enums import LAW_ENFORCEMENT_KINDS, OrgKind, Role
from ceasefire.services import audit

TOKEN_USE_RESOLUTION = timedelta(minutes=1)

# The organization kinds a user of each role must belong to; None: no organization needed.
ROLE_ORG_KINDS: dict[Role, frozenset[OrgKind] | None] = {
    Role.PROVIDER: frozenset({OrgKind.PROVIDER}),
    Role.COMMUNITY: frozenset({OrgKind.COMMUNITY}),
    Role.POLICE: LAW_ENFORCEMENT_KINDS,
    Role.CASEWORKER: None,
    Role.SUPERVISOR: None,
    Role.ADMIN: None,
}


def _hasher() -> PasswordHasher:
    cfg = current_app.config
    return PasswordHasher(time_cost=cfg["ARGON2_TIME_COST"], memory_cost=cfg["ARGON2_MEMORY_COST"])


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(user: User | None, password: str) -> bool:
    """Constant work whether or not the user exists, so timing does not tell which emails are known."""
    hasher = _hasher()
    if user is None or not user.active:
        hasher.hash(password)
        return False
    try:
        hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    return True


def user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email.strip().lower()))


@functools.cache
def _common_passwords() -> frozenset[str]:
    path = Path(__file__).resolve().parent.parent / "data" / "common-passwords.txt.gz"
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return frozenset(line.strip().lower() for line in fh if line.strip())


def check_password_rules(password: str, email: str) -> None:
    if len(password) < limits.PASSWORD_MIN:
        raise ValidationFailed(
            "The password is too short.", {"password": f"Use at least {limits.PASSWORD_MIN} characters."}
        )
    if len(password) > limits.PASSWORD_MAX:
        raise ValidationFailed("The password is too long.", {"password": "At most 256 characters."})
    if password.strip().lower() == email.strip().lower():
        raise ValidationFailed("The password is the email.", {"password": "The password may not be your email."})
    if password.strip().lower() in _common_passwords():
        raise ValidationFailed(
            "That password is too common.", {"password": "This password is on a list of common passwords."}
        )


def check_organization(role: Role, organization_id: int | None) -> Organization | None:
    """The organization a user of `role` may belong to: one of the kinds the role needs (ROLE_ORG_KINDS)."""
    kinds = ROLE_ORG_KINDS[role]
    organization = None
    if organization_id is not None:
        organization = db.session.get(Organization, organization_id)
        if organization is None:
            raise ValidationFailed("No such organization.", {"organization_id": "No such organization."})
    if kinds is not None:
        if organization is None:
            raise ValidationFailed(
                "This role needs an organization.",
                {"organization_id": f"A {role} user must belong to an organization."},
            )
        if organization.kind not in kinds:
            raise ValidationFailed(
                "Wrong kind of organization.",
                {"organization_id": f"A {role} user must belong to a {' or '.join(sorted(kinds))} organization."},
            )
    return organization


def create_user(
    actor: User | None,
    email: str,
    name: str,
    role: Role,
    password: str,
    organization_id: int | None = None,
) -> User:
    """A new user. From a person it takes an admin (the command line passes no actor)."""
    if actor is not None and actor.role != Role.ADMIN:
        raise Forbidden("Only an admin may add users.")
    try:
        role = Role(role)
    except ValueError:
        raise ValidationFailed("Unknown role.", {"role": "Must be one of: " + ", ".join(Role) + "."}) from None
    problems = {}
    email = (email or "").strip()
    name = (name or "").strip()
    if not email or len(email) > limits.EMAIL or "@" not in email.strip("@"):
        problems["email"] = f"Give an email address of at most {limits.EMAIL} characters."
    if not name or len(name) > limits.NAME:
        problems["name"] = f"Give a name of at most {limits.NAME} characters."
    if problems:
        raise ValidationFailed("Some fields need attention.", problems)
    if user_by_email(email) is not None:
        raise ValidationFailed("That email is already in use.", {"email": "A user with this email exists."})
    check_organization(role, organization_id)
    check_password_rules(password, email)
    user = User(
        email=email,
        name=name,
        role=role,
        organization_id=organization_id,
        password_hash=hash_password(password),
    )
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "create", "user", user.id, f"role={role}")
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(user: User, name: str = "api", actor: User | None = None) -> tuple[ApiToken, str]:
    """A new token; the plain value is returned once and never stored."""
    plain = "cf_" + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=_digest(plain))
    db.session.add(token)
    db.session.flush()
    audit.record(actor or user, "token_create", "api_token", token.id, name)
    return token, plain


# The token and its user in one statement: every API request starts here, so it is built once (building and
# caching a statement anew cost more than running it).
_TOKEN = sa.select(ApiToken).options(joinedload(ApiToken.user)).where(ApiToken.token_hash == sa.bindparam("digest"))


def user_for_token(plain: str) -> User | None:
    token = db.session.scalar(_TOKEN, {"digest": _digest(plain)})
    now = utcnow()
    if token is None or token.revoked_at is not None or (token.expires_at and token.expires_at <= now):
        return None
    if not token.user.active:
        return None
    # A read is not a write: the last use is kept to the minute, so most API requests write nothing.
    if token.last_used_at is None or now - token.last_used_at >= TOKEN_USE_RESOLUTION:
        token.last_used_at = now
    return token.user


def revoke_token(actor: User, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(actor, "token_revoke", "api_token", token.id, token.name)
