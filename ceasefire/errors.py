"""The errors services raise; each face turns them into its own answer (JSON or a page)."""

from __future__ import annotations

from flask import jsonify


class ServiceError(Exception):
    status = 500
    code = "error"

    def __init__(self, message: str, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class BadRequest(ServiceError):
    status = 400
    code = "bad_request"


class Unauthorized(ServiceError):
    status = 401
    code = "unauthorized"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class StaleVersion(ServiceError):
    status = 409
    code = "stale_version"


class InvalidTransition(ServiceError):
    status = 409
    code = "invalid_transition"


class ValidationFailed(ServiceError):
    status = 422
    code = "validation_failed"


def error_response(status: int, code: str, message: str, fields: dict[str, str] | None = None):
    """The API's error body (API.md, Errors); also used for errors raised before a blueprint is known."""
    return jsonify({"error": {"code": code, "message": message, "fields": fields or {}}}), status
