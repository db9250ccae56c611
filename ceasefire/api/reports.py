"""/reports/*: the program's numbers as JSON, or as a CSV or XLSX file (format=csv|xlsx)."""

from __future__ import annotations

from typing import Any

from flask import Response, g, jsonify, request

from ceasefire import policy
from ceasefire.api import bp
from ceasefire.api.schema import F, query_arg
from ceasefire.errors import ValidationFailed
from ceasefire.extensions import db
from ceasefire.services import reports as service


def _filters(names: tuple[str, ...]) -> dict[str, Any]:
    """The filters given, in the report's order, checked (a malformed date or id is 422)."""
    kinds = {"from": F("date"), "to": F("date"), "group_id": F("int"), "forum_id": F("int")}
    values = {name: query_arg(name, kinds[name]) for name in names}
    return {name: value for name, value in values.items() if value is not None}


def _format() -> str | None:
    value = request.args.get("format")
    if value is None or value == "":
        return None
    if value not in service.FORMATS:
        raise ValidationFailed("Unknown format.", {"format": "Must be csv or xlsx."})
    return value


def _answer(user, name: str, filters: dict[str, Any], fmt: str | None, report: dict[str, Any]):
    if fmt is None:
        db.session.commit()
        return jsonify(report)
    file = service.export_file(user, name, filters, fmt, report)
    db.session.commit()
    return Response(file.body, content_type=file.content_type,
                    headers={"Content-Disposition": f'attachment; filename="{file.filename}"'})


def _report(name: str, filter_names: tuple[str, ...]):
    user = g.user
    policy.require(user, f"report.{name}")
    filters = _filters(filter_names)
    fmt = _format()
    window = service.Window(filters.get("from"), filters.get("to"))
    extra = {k: filters[k] for k in ("group_id", "forum_id") if k in filters}
    report = service.REPORTS[name](user, window, **extra)
    return _answer(user, name, filters, fmt, report)


@bp.get("/reports/pipeline")
def report_pipeline():
    return _report("pipeline", ("from", "to", "group_id", "forum_id"))


@bp.get("/reports/cohorts")
def report_cohorts():
    return _report("cohorts", ("from", "to"))


@bp.get("/reports/referrals")
def report_referrals():
    return _report("referrals", ("from", "to"))


@bp.get("/reports/identification")
def report_identification():
    return _report("identification", ("from", "to"))
