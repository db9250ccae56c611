"""The home page: each role's workspace (ceasefire.services.workspaces), what needs the user now.

`/` (auth.root) renders it for a signed-in user; admins have no workspace here and go to the admin area.
"""

from __future__ import annotations

from flask import current_app, render_template, url_for

from ceasefire.models import User
from ceasefire.models.enums import Role
from ceasefire.services import workspaces

# Where admins land: the admin area when it is there, else their profile.
ADMIN_HOME = "/admin/"


def admin_home() -> str:
    if any(rule.rule == ADMIN_HOME for rule in current_app.url_map.iter_rules()):
        return ADMIN_HOME
    return url_for("auth.profile")


def workspace(user: User):
    """The role's home page; None for a role whose home is elsewhere (admins)."""
    home = workspaces.home(user)
    if home is None:
        return None
    return render_template(f"home/{Role(user.role).value}.html", home=home, stale_days=workspaces.STALE_DAYS)
