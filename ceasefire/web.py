"""What every response shares: the error pages (JSON under /api/), the security headers, safe redirects."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, g, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm.exc import StaleDataError

from ceasefire.errors import ServiceError
from ceasefire.extensions import db


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: no scheme, no host, no protocol-relative //."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


def _page_or_json(status: int, code: str, message: str):
    """Errors raised before a blueprint is known (an unknown URL) still answer the API's JSON under /api/."""
    if request.path.startswith("/api/"):
        from ceasefire.api import error_response

        return error_response(status, code, message)
    return render_template("error.html", status=status, message=message), status


def register_error_pages(app: Flask) -> None:
    @app.before_request
    def _face() -> None:
        g.face = "api" if request.blueprint == "api" else "web"

    @app.errorhandler(ServiceError)
    def _service_error(exc: ServiceError):
        db.session.rollback()
        return render_template("error.html", status=exc.status, message=exc.message), exc.status

    @app.errorhandler(StaleDataError)
    def _stale(exc: StaleDataError):
        db.session.rollback()
        message = "Someone else changed this record at the same time. Reload the page and try again."
        return render_template("error.html", status=409, message=message), 409

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):
        """Nothing is done; what the person typed (never a password) is offered back to check and send again."""
        db.session.rollback()
        kept = [
            (name, value)
            for name, value in request.form.items(multi=True)
            if name != "csrf_token" and "password" not in name and name != "code"
        ]
        return render_template("csrf_error.html", kept=kept, action=request.full_path.rstrip("?")), 400

    @app.errorhandler(403)
    def _forbidden(exc):
        return _page_or_json(403, "forbidden", "You may not see or do this.")

    @app.errorhandler(404)
    def _not_found(exc):
        return _page_or_json(404, "not_found", "There is no such page or record.")

    @app.errorhandler(405)
    def _not_allowed(exc):
        body, status = _page_or_json(405, "method_not_allowed", "This address does not take that method.")
        return body, status, {"Allow": ", ".join(sorted(exc.valid_methods or ()))}  # RFC 9110: what it does take

    @app.errorhandler(429)
    def _too_many(exc):
        message = "Too many attempts from your address. Wait a minute and try again."
        return _page_or_json(429, "too_many_requests", message)

    @app.errorhandler(500)
    def _server_error(exc):
        db.session.rollback()
        return render_template("error.html", status=500, message="Something went wrong; nothing was changed."), 500

    @app.after_request
    def _headers(response):
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'self'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if request.path.startswith("/api/") or request.endpoint != "static":
            response.headers.setdefault("Cache-Control", "no-store")
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response
