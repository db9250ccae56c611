"""The OpenAPI document of /api/v1, built from the routes so that it cannot miss one."""

from __future__ import annotations

from flask import current_app, jsonify

from ceasefire.api import bp

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string", "enum": [
                    "bad_request", "unauthorized", "forbidden", "not_found", "stale_version",
                    "invalid_transition", "validation_failed",
                ]},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        }
    },
}

SUMMARIES = {
    ("GET", "/participants"): "List participants in the caller's scope (filters: state, group_id, q)",
    ("POST", "/participants"): "Identify a new participant",
    ("GET", "/participants/{participant_id}"): "Read one participant, as the caller may see it",
    ("PATCH", "/participants/{participant_id}"): "Change a participant's fields (send the version you read)",
    ("POST", "/participants/{participant_id}/events"): "Fire a pipeline event",
    ("GET", "/participants/{participant_id}/history"): "The pipeline history, oldest first",
    ("GET", "/forums"): "List call-in forums",
    ("POST", "/forums"): "Plan a forum",
    ("GET", "/forums/{forum_id}"): "A forum with its invitations",
    ("GET", "/referrals"): "Referrals the caller may see",
    ("POST", "/referrals"): "Send a referral (needs a consent to share in force)",
    ("POST", "/referrals/{referral_id}/status"): "Report a referral's new status",
    ("POST", "/users"): "Add a user (admin)",
    ("GET", "/organizations"): "List organizations",
    ("POST", "/organizations"): "Add an organization (admin)",
    ("GET", "/services"): "List services (filter: category)",
    ("POST", "/services"): "Add a provider's service (admin)",
    ("GET", "/groups"): "List street groups",
    ("POST", "/groups"): "Add a street group (police, supervisor)",
    ("GET", "/openapi.json"): "This document (no token needed)",
    ("GET", "/audit"): "The audit trail, newest first (supervisors)",
    ("GET", "/participants/{participant_id}/outcomes"): "A participant's outcomes, newest first",
    ("POST", "/participants/{participant_id}/outcomes"): "Record an outcome (arrest, employment, ...)",
    ("PATCH", "/forums/{forum_id}"): "Change a forum, or mark it held or cancelled",
    ("GET", "/reports/pipeline"): "The pipeline: counts, funnel, conversion, median days (format=csv|xlsx)",
    ("GET", "/reports/cohorts"): "One row per forum's cohort, with 6- and 12-month outcomes (format=csv|xlsx)",
    ("GET", "/reports/referrals"): "Referral outcomes per service (format=csv|xlsx)",
    ("GET", "/reports/identification"): "Who is identified: by age, supervision, agency (format=csv|xlsx)",
}


def _document() -> dict:
    paths: dict[str, dict] = {}
    for rule in current_app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] != "api":
            continue
        path = rule.rule.removeprefix("/api/v1")
        for converter in ("<int:",):
            path = path.replace(converter, "{")
        path = path.replace(">", "}")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            params = [
                {"name": arg, "in": "path", "required": True, "schema": {"type": "integer"}} for arg in rule.arguments
            ]
            responses = {
                "200" if method != "POST" or "{" in path else "201": {"description": "Success"},
                "401": {"$ref": "#/components/responses/Error"},
                "403": {"$ref": "#/components/responses/Error"},
                "404": {"$ref": "#/components/responses/Error"},
                "422": {"$ref": "#/components/responses/Error"},
            }
            if method in ("POST", "PATCH"):
                responses["400"] = {"$ref": "#/components/responses/Error"}
                responses["409"] = {"$ref": "#/components/responses/Error"}
            op = {
                "summary": SUMMARIES.get((method, path), path),
                "operationId": rule.endpoint.split(".", 1)[1] + "_" + method.lower(),
                "parameters": params,
                "responses": responses,
            }
            if rule.endpoint == "api.openapi_document":  # open to all, and cannot fail
                op |= {"security": [], "responses": {"200": {"description": "This document"}}}
            if method in ("POST", "PATCH"):
                op["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "ceasefire API", "version": "1", "description": "See API.md for the contract."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": ERROR_SCHEMA},
            "responses": {
                "Error": {
                    "description": "An error",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                }
            },
        },
        "paths": dict(sorted(paths.items())),
    }


@bp.get("/openapi.json")
def openapi_document():
    return jsonify(_document())
