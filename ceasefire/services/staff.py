"""What an admin does to other users from the admin pages: change their role and organization, deactivate and
reactivate them, reset a password. Each change is audited; the ones that change what a user may do end their sessions
(ceasefire.services.security)."""

from __future__ import annotations

import secrets

import sqlalchemy as sa

from ceasefire import policy
from ceasefire.errors import ValidationFailed
from ceasefire.extensions import db
from ceasefire.models import ApiToken, User
from ceasefire.models.enums import Role
from ceasefire.services import accounts, audit, security, sessions


def _not_oneself(actor: User, user: User, what: str) -> None:
    """An admin who demoted or deactivated themselves would leave nobody to undo it."""
    if actor.id == user.id:
        raise ValidationFailed(f"You cannot {what} yourself; ask another admin.")


def _temporary_password() -> str:
    return secrets.token_urlsafe(12)


def create_user(actor: User, name: str, email: str, role: Role, organization_id: int | None) -> tuple[User, str]:
    """A new user with a temporary password, returned once to show the admin; at the first sign-in the user chooses
    their own."""
    policy.require(actor, "user.create")
    temporary = _temporary_password()
    user = accounts.create_user(actor, email, name, role, temporary, organization_id)
    user.must_change_password = True
    db.session.flush()
    return user, temporary


def update_user(actor: User, user: User, role: Role | str, organization_id: int | None) -> list[str]:
    """A new role and organization, checked together (a provider belongs to a provider organization…); what
    changed, in words."""
    policy.require(actor, "user.update")
    try:
        role = Role(role)
    except ValueError:
        raise ValidationFailed("Unknown role.", {"role": "Must be one of: " + ", ".join(Role) + "."}) from None
    organization = accounts.check_organization(role, organization_id)
    changed = []
    if role != user.role:
        _not_oneself(actor, user, "change the role of")
        security.change_role(actor, user, role)
        changed.append(f"role {role}")
    if organization_id != user.organization_id:
        before = user.organization.name if user.organization else "none"
        user.organization_id = organization_id
        user.organization = organization
        audit.record(actor, "update", "user", user.id,
                     f"organization {before} -> {organization.name if organization else 'none'}")
        changed.append(f"organization {organization.name if organization else 'none'}")
    db.session.flush()
    return changed


def set_active(actor: User, user: User, active: bool) -> None:
    policy.require(actor, "user.update")
    if not active:
        _not_oneself(actor, user, "deactivate")
    security.set_active(actor, user, active)
    db.session.flush()


def reset_password(actor: User, user: User) -> str:
    """A new temporary password, returned once to show the admin (never stored in the clear). The user's sessions
    end and their API tokens are revoked (a reset is how an admin answers a password that may be known to someone
    else, and a token would carry on where the password no longer does), a lockout is lifted, and at the next
    sign-in they must choose a password of their own."""
    policy.require(actor, "user.update")
    _not_oneself(actor, user, "reset the password of")
    temporary = _temporary_password()
    user.password_hash = accounts.hash_password(temporary)
    user.must_change_password = True
    user.failed_logins = 0
    user.locked_until = None
    sessions.end_all(user)
    for token in db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user.id,
                                                              ApiToken.revoked_at.is_(None))):
        accounts.revoke_token(actor, token)
    audit.record(actor, "password_change", "user", user.id, "reset by an admin")
    db.session.flush()
    return temporary
