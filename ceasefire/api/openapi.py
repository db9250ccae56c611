"""The OpenAPI document of /api/v1, built from the routes (so that it cannot miss one) and from the models of
ceasefire.api.shapes (so that it says what the API checks): pydantic writes each model's JSON Schema into
components/schemas."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from flask import current_app, jsonify
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from ceasefire.api import bp, shapes
from ceasefire.api import report_shapes as more
from ceasefire.api import retention_shapes as due

REF = "#/components/schemas/{model}"


@dataclass(frozen=True)
class Op:
    summary: str
    answer: type[BaseModel] | None = None
    body: type[BaseModel] | tuple[type[BaseModel], ...] | None = None
    query: type[BaseModel] | None = None
    status: int = 200
    errors: tuple[int, ...] = ()  # beyond those every operation of its kind can answer
    files: bool = False  # a report: format=csv|xlsx answers the same numbers as a file
    extra: dict[str, Any] = field(default_factory=dict)


OPERATIONS: dict[tuple[str, str], Op] = {
    ("GET", "api.list_participants"): Op(
        "List participants in the caller's scope", shapes.ParticipantPage, query=shapes.ParticipantQuery),
    ("POST", "api.create_participant"): Op(
        "Identify a new participant", shapes.ParticipantRecord, shapes.ParticipantCreate, status=201),
    ("GET", "api.get_participant"): Op("Read one participant, as the caller may see it", shapes.ParticipantRecord),
    ("PATCH", "api.patch_participant"): Op(
        "Change a participant's fields (send the version you read)", shapes.ParticipantRecord,
        shapes.ParticipantPatch, errors=(409,)),
    ("POST", "api.post_event"): Op(
        "Fire a pipeline event", shapes.ParticipantRecord, tuple(shapes.EVENTS.values()), errors=(409,)),
    ("GET", "api.participant_history"): Op("The pipeline history, oldest first", shapes.History),
    ("GET", "api.list_forums"): Op("List call-in forums", shapes.ForumPage, query=shapes.Paging),
    ("POST", "api.create_forum"): Op("Plan a forum", shapes.ForumWithInvitations, shapes.ForumCreate, status=201),
    ("GET", "api.get_forum"): Op("A forum with its invitations", shapes.ForumWithInvitations),
    ("GET", "api.list_referrals"): Op("Referrals the caller may see", shapes.ReferralPage, query=shapes.Paging),
    ("POST", "api.create_referral"): Op(
        "Send a referral (needs a consent to share in force)", shapes.ReferralRecord, shapes.ReferralCreate,
        status=201),
    ("POST", "api.referral_status"): Op(
        "Report a referral's new status", shapes.ReferralRecord, shapes.ReferralStatusChange, errors=(409,)),
    ("POST", "api.create_user"): Op("Add a user (admin)", shapes.UserRecord, shapes.UserCreate, status=201),
    ("GET", "api.list_organizations"): Op("List organizations", shapes.OrganizationPage, query=shapes.Paging),
    ("POST", "api.create_organization"): Op(
        "Add an organization (admin)", shapes.OrganizationRecord, shapes.OrganizationCreate, status=201),
    ("GET", "api.list_services"): Op("List services", shapes.ServicePage, query=shapes.ServiceQuery),
    ("POST", "api.create_service"): Op(
        "Add a provider's service (admin)", shapes.ServiceRecord, shapes.ServiceCreate, status=201),
    ("GET", "api.list_groups"): Op("List street groups", shapes.GroupPage, query=shapes.Paging),
    ("POST", "api.create_group"): Op(
        "Add a street group (police, supervisor)", shapes.GroupRecord, shapes.GroupCreate, status=201),
    ("GET", "api.list_audit"): Op("The audit trail, newest first (supervisors)", shapes.AuditPage,
                                  query=shapes.AuditQuery),
    ("GET", "api.list_outcomes"): Op("A participant's outcomes, newest first", more.OutcomeList),
    ("POST", "api.create_outcome"): Op(
        "Record an outcome (arrested, shot, employed, ...)", more.OutcomeRecord, more.OutcomeCreate, status=201),
    ("GET", "api.list_custom_notifications"): Op(
        "A participant's custom notifications (home and street visits), newest first", more.CustomNotificationList),
    ("POST", "api.create_custom_notification"): Op(
        "Record a custom notification: when, where, who went, the message and the response",
        more.CustomNotificationRecord, more.CustomNotificationCreate, status=201),
    ("PATCH", "api.patch_forum"): Op(
        "Change a forum, or mark it held or cancelled", shapes.ForumWithInvitations, more.ForumPatch, errors=(409,)),
    ("GET", "api.report_pipeline"): Op(
        "The pipeline: counts, funnel, conversion, median days (format=csv|xlsx for a file)", more.PipelineReport,
        query=more.PipelineQuery, files=True),
    ("GET", "api.report_cohorts"): Op(
        "Forum cohorts at 6 and 12 months (format=csv|xlsx for a file)", more.CohortReport, query=more.ReportQuery,
        files=True),
    ("GET", "api.report_referrals"): Op(
        "Referral outcomes by provider and service (format=csv|xlsx for a file)", more.ReferralReport,
        query=more.ReportQuery, files=True),
    ("GET", "api.report_identification"): Op(
        "Who is identified: by age, supervision and agency (format=csv|xlsx for a file)", more.IdentificationReport,
        query=more.ReportQuery, files=True),
    ("GET", "api.list_reviews"): Op(
        "Who falls due for a retention review, the most overdue first (supervisors)", due.ReviewPage,
        query=due.ReviewQuery),
    ("POST", "api.review_participant"): Op(
        "Review a participant: retain (the clock restarts) or purge (supervisors)", due.ReviewAnswer, due.ReviewBody),
    ("POST", "api.create_removal_request"): Op(
        "Record a request to be removed (caseworkers, supervisors)", due.RemovalRequestRecord,
        due.RemovalRequestCreate, status=201),
    ("GET", "api.list_removal_requests"): Op(
        "Removal requests, the oldest first (caseworkers see them without grounds)", due.RemovalRequestPage,
        query=due.RemovalRequestQuery),
    ("POST", "api.decide_removal_request"): Op(
        "Decide a removal request, once: granted purges the participant (supervisors)", due.RemovalRequestRecord,
        due.DecisionBody, errors=(409,)),
}

ERRORS = {
    400: "bad_request: the body is not JSON, or not a JSON object",
    401: "unauthorized: no token, or a bad, expired or revoked one",
    403: "forbidden: the role may not do this at all, or may not set a field it sent",
    404: "not_found: no such record, or the record is outside the caller's scope",
    405: "method_not_allowed: the path does not take that method (with an Allow header)",
    409: "stale_version (the version sent is not the current one) or invalid_transition (not allowed from the "
         "current state)",
    413: "too_large: the body is over the size limit",
    422: "validation_failed: a field or query parameter is missing, of the wrong type, unknown, too long, or names "
         "no such record; or a precondition is not met. `fields` names each",
    429: "too_many_requests: too many requests from this address (with a Retry-After header)",
}


def _strip(node: Any, in_properties: bool = False) -> Any:
    """Drop pydantic's titles and null defaults: a field left out is not null, it is not sent."""
    if isinstance(node, dict):
        if in_properties:
            return {k: _strip(v) for k, v in node.items()}
        return {
            k: _strip(v, in_properties=k in ("properties", "$defs"))
            for k, v in node.items()
            if not (k == "title" or (k == "default" and v is None))
        }
    if isinstance(node, list):
        return [_strip(v) for v in node]
    return node


def _models() -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = [shapes.Error]
    for op in OPERATIONS.values():
        bodies = op.body if isinstance(op.body, tuple) else (op.body,)
        found += [m for m in (op.answer, op.query, *bodies) if m is not None]
    return list(dict.fromkeys(found))


@cache
def components() -> tuple[dict[type[BaseModel], dict], dict[str, dict]]:
    """Each model's schema (a $ref) and every component schema, as pydantic writes them."""
    models = _models()
    refs, defs = models_json_schema([(m, "validation") for m in models], ref_template=REF)
    schemas = {k: _strip(v) for k, v in defs["$defs"].items()}
    schemas["Error"]["properties"]["error"] = schemas.pop("ErrorDetail")  # one schema to read, as before
    return {m: refs[m, "validation"] for m in models}, schemas


def _ref(model: type[BaseModel]) -> dict:
    return components()[0][model]


EMPTY = {"type": "string", "maxLength": 0}


def _parameters(model: type[BaseModel]) -> list[dict]:
    """Each field of a query model; an empty value (`?state=`) is read as leaving the parameter out."""
    params = []
    for name, prop in components()[1][model.__name__]["properties"].items():
        schema = {k: v for k, v in prop.items() if k != "description"}
        if schema.get("type") != "string" or {"pattern", "enum", "minLength"} & schema.keys():
            schema = {"anyOf": [schema, EMPTY]}
        description = " ".join(filter(None, [prop.get("description"), "Empty is the same as left out."]))
        params.append({"name": name, "in": "query", "required": False, "description": description, "schema": schema})
    return params


def _body(body: type[BaseModel] | tuple[type[BaseModel], ...]) -> dict:
    if isinstance(body, tuple):  # the event named in `event` picks the shape
        schema = {
            "oneOf": [_ref(m) for m in body],
            "discriminator": {
                "propertyName": "event",
                "mapping": {name: _ref(m)["$ref"] for name, m in shapes.EVENTS.items()},
            },
        }
    else:
        schema = _ref(body)
    return {"required": True, "content": {"application/json": {"schema": schema}}}


FILES = {
    "text/csv": {"schema": {"type": "string"}},
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
        "schema": {"type": "string", "format": "binary"}
    },
}


def _json(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _operation(endpoint: str, method: str, path: str, arguments: list[str]) -> dict:
    op = OPERATIONS.get((method, endpoint)) or Op(path)
    codes = {401, 403, 405, 429, *op.errors}
    if arguments:
        codes.add(404)
    if op.body is not None or method in ("POST", "PATCH"):
        codes |= {400, 413, 422}
    if op.query is not None:
        codes.add(422)
    answer = _ref(op.answer) if op.answer is not None else {"type": "object"}
    responses = {str(op.status): _json("Success", answer)}
    if op.files:
        responses[str(op.status)]["content"] |= FILES
    error = {"$ref": REF.format(model="Error")}
    responses |= {str(code): _json(ERRORS[code], error) for code in sorted(codes)}
    doc = {
        "summary": op.summary,
        "operationId": endpoint.split(".", 1)[1] + "_" + method.lower(),
        "parameters": [
            {"name": arg, "in": "path", "required": True,
             "schema": {"type": "integer", "minimum": shapes.INT_MIN, "maximum": shapes.INT_MAX}}
            for arg in arguments
        ] + (_parameters(op.query) if op.query is not None else []),
        "responses": responses,
    }
    if op.body is not None:
        doc["requestBody"] = _body(op.body)
    elif method in ("POST", "PATCH"):
        doc["requestBody"] = {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}
    return doc


def _document() -> dict:
    paths: dict[str, dict] = {}
    for rule in current_app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] != "api":
            continue
        path = rule.rule.removeprefix("/api/v1").replace("<int:", "{").replace(">", "}")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if rule.endpoint == "api.openapi_document":  # open to all, and cannot fail
                op = {"summary": "This document (no token needed)", "operationId": "openapi_document_get",
                      "security": [], "responses": {"200": _json("This document", {"type": "object"})}}
            else:
                op = _operation(rule.endpoint, method, path, sorted(rule.arguments))
            paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "ceasefire API", "version": "1", "description": "See API.md for the contract."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": components()[1],
        },
        "paths": dict(sorted(paths.items())),
    }


@bp.get("/openapi.json")
def openapi_document():
    return jsonify(_document())
