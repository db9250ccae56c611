"""What the page views of every blueprint share: the one commit point of a page request, the page asked for, and
how times show (the template filters create_app registers)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, current_app, request
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from ceasefire.errors import ServiceError
from ceasefire.extensions import db
from ceasefire.models import User

T = TypeVar("T")


def signed_in_blueprint(name: str, import_name: str, url_prefix: str) -> Blueprint:
    """A blueprint whose every page needs a signed-in user (the sign-in page otherwise)."""
    bp = Blueprint(name, import_name, url_prefix=url_prefix)

    @bp.before_request
    @login_required
    def _signed_in() -> None:
        return None

    return bp


def actor() -> User:
    """The signed-in user as a plain model object, for the services."""
    return current_user._get_current_object()


def keep() -> None:
    """The one commit point of a page request, as the API's done(): what the view's services did is kept."""
    db.session.commit()


def done(response: T) -> T:
    """Keep what the view did, then answer with `response` (a page or a redirect)."""
    keep()
    return response


def attempt(action: Callable[[], T], form: FlaskForm | None = None) -> tuple[T | None, ServiceError | None]:
    """Call one service and commit once. On a ServiceError nothing is kept: roll back, put its field messages
    beside the form's fields, and hand the error back for the page to show with its status."""
    try:
        result = action()
    except ServiceError as exc:
        db.session.rollback()
        if form is not None:
            add_field_errors(form, exc.fields)
        return None, exc
    keep()
    return result, None


def add_field_errors(form: FlaskForm, fields: dict[str, str]) -> None:
    for name, message in fields.items():
        if name in form:
            form[name].errors = [*form[name].errors, message]


def form_values(form: FlaskForm, *leave_out: str) -> dict[str, Any]:
    """The form's data with the keys the services know (the API's), without the token and buttons."""
    skip = {"csrf_token", "submit", *leave_out}
    return {name: value for name, value in form.data.items() if name not in skip}


def page_number() -> int:
    """The `page` asked for; the read side's paginator clamps it to the pages there are."""
    return request.args.get("page", 1, type=int) or 1


def local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def to_utc(naive_local: datetime) -> datetime:
    """A time typed into a form (the program's local time) as an aware UTC datetime."""
    return naive_local.replace(tzinfo=local_zone()).astimezone(UTC)


def when(value: datetime | date | None) -> str:
    """A time in the program's zone (a date as it is); a dash for nothing, or a field the role may not see."""
    if not isinstance(value, date):
        return "—"
    if isinstance(value, datetime):
        local = value.astimezone(local_zone())
        return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"
    return value.isoformat()


# Enum values whose plain spelling out would not say what they mean.
SAID: dict[str, str] = {
    "arrested_violent": "Arrested for a violent or gun offence",
    "enrolled_education": "Enrolled in school or training",
}


def words(value: Any) -> str:
    """An enum value as people say it: services_offered -> Services offered."""
    if value is None:
        return "—"
    raw = str(getattr(value, "value", value))
    if raw in SAID:
        return SAID[raw]
    text = raw.replace("_", " ")
    return text[:1].upper() + text[1:]


# The main navigation: (endpoint, label, the policy action that opens it; None for every signed-in user). base.html
# shows a link only when the policy lets the user do its action, so no link answers 403.
NAV: list[tuple[str, str, str | None]] = [
    ("auth.root", "Home", None),
    ("participants.index", "Participants", "participant.list"),
    ("forums.index", "Forums", "forum.list"),
    ("groups.index", "Groups", "group.list"),
    ("referrals.inbox", "Inbox", "referral.inbox"),
    ("referrals.index", "Referrals", "referral.list"),
    ("reports.pipeline", "Reports", "report.pipeline"),
    ("reports.referrals", "Reports", "report.referrals"),  # a provider's: its own referral statistics
    ("retention.reviews", "Reviews", "review.list"),
    ("retention.removal_requests", "Removal requests", "removal_request.list"),
    ("audit.index", "Audit", "audit.view"),
    ("admin.users", "Users", "user.list"),
    ("admin.organizations", "Organizations", "organization.update"),
    ("admin.services", "Services", "service.update"),
]


def navigation(user: User) -> list[tuple[str, str, bool]]:
    """The links of NAV the user may follow, as (endpoint, label, whether it is the current page's section)."""
    from ceasefire import policy

    links: list[tuple[str, str]] = []
    for endpoint, label, action in NAV:  # the first link of a label the user may follow
        if (action is None or (action in policy.ACTIONS and policy.can(user, action))) and \
                all(label != taken for _, taken in links):
            links.append((endpoint, label))
    here = request.endpoint or ""
    exact = any(endpoint == here for endpoint, _ in links)
    return [
        (endpoint, label, endpoint == here if exact
         else endpoint != "auth.root" and endpoint.split(".")[0] == request.blueprint)
        for endpoint, label in links
    ]


def register_template_helpers(app: Flask) -> None:
    """The filters every template uses, and the policy, which base.html asks which links the navigation shows."""
    from ceasefire import policy

    app.add_template_filter(when, "when")
    app.add_template_filter(words, "words")
    app.add_template_global(navigation, "navigation")
    app.add_template_global(policy, "policy")  # type: ignore[arg-type]  # a module: templates call policy.can
