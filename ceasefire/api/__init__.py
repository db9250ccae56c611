"""The JSON API, /api/v1 (API.md). Bearer tokens only: no cookies, so no CSRF."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, g, jsonify, request
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from ceasefire.api.schema import INT_RANGE, whole_number
from ceasefire.errors import (
    ServiceError,
    StaleVersion,
    Unauthorized,
    ValidationFailed,
    error_response,
)
from ceasefire.extensions import db
from ceasefire.services import read
from ceasefire.services.accounts import user_for_token

bp = Blueprint("api", __name__)

MAX_PER_PAGE = 200
DEFAULT_PER_PAGE = 50


@bp.before_request
def authenticate() -> None:
    if request.endpoint == "api.openapi_document":
        return
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    user = user_for_token(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
    if user is None:
        raise Unauthorized("A valid API token is required (Authorization: Bearer <token>).")
    g.user = user


@bp.errorhandler(ServiceError)
def service_error(exc: ServiceError):
    db.session.rollback()
    return error_response(exc.status, exc.code, exc.message, exc.fields)


@bp.errorhandler(StaleDataError)
def stale_error(exc: StaleDataError):
    db.session.rollback()
    return service_error(StaleVersion("Someone else changed this record at the same time. Reload and try again."))


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException):
    db.session.rollback()
    codes = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
             413: "too_large", 415: "bad_request", 429: "too_many_requests"}
    return error_response(exc.code or 500, codes.get(exc.code or 500, "error"), exc.description or exc.name)


@bp.errorhandler(Exception)
def unexpected_error(exc: Exception):
    db.session.rollback()
    from flask import current_app

    if current_app.config.get("PROPAGATE_EXCEPTIONS"):
        raise exc
    current_app.logger.exception("Unhandled API error")
    return error_response(500, "internal_error", "Something went wrong on our side; nothing was changed.")


def paging() -> tuple[int, int]:
    problems = {}
    page = per_page = 0  # each is read below, or a problem is raised
    try:
        page = whole_number(request.args.get("page") or "1")
        if page < 1:
            problems["page"] = "Pages start at 1."
        elif page not in INT_RANGE:
            problems["page"] = "There are not that many pages."
    except ValueError:
        problems["page"] = "Must be a whole number."
    try:
        per_page = whole_number(request.args.get("per_page") or str(DEFAULT_PER_PAGE))
        if per_page < 1:
            problems["per_page"] = "Must be at least 1."
    except ValueError:
        problems["per_page"] = "Must be a whole number."
    if problems:
        raise ValidationFailed("Bad paging.", problems)
    return page, min(per_page, MAX_PER_PAGE)


def page_of(query: sa.Select, render) -> dict[str, Any]:
    """One page of a catalogue list (organizations, services, groups), each row through `render`."""
    page, per_page = paging()
    listing = read.paginate(query, page, per_page, lambda rows: [render(r) for r in rows])
    return {"items": list(listing.items), "total": listing.total, "page": listing.page, "per_page": listing.per_page}


def done(body: Any, status: int = 200):
    """The one commit point of an API request."""
    db.session.commit()
    return jsonify(body), status


# Routes register on import.
from ceasefire.api import (  # noqa: E402, F401
    audit,
    custom_notifications,
    openapi,
    outcomes,
    participants,
    reports,
    resources,
    retention,
)
