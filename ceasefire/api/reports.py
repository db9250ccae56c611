"""/reports/*: the program's numbers as JSON, or as a CSV or XLSX file (format=csv|xlsx)."""

from __future__ import annotations

from typing import Any

from flask import Response, g, jsonify

from ceasefire import policy
from ceasefire.api import bp, report_shapes
from ceasefire.api.schema import query
from ceasefire.extensions import db
from ceasefire.services import reports as service


def _filters(model: Any) -> tuple[dict[str, Any], str | None]:
    """The filters given, in the report's order, checked (a malformed date or id, or another format, is 422),
    and the file format asked for."""
    values = query(model)
    fmt = values.pop("format", None)
    return {name: value for name, value in values.items() if value is not None}, fmt and fmt.value


def _answer(user, name: str, filters: dict[str, Any], fmt: str | None, report: dict[str, Any]):
    if fmt is None:
        db.session.commit()
        return jsonify(report)
    file = service.export_file(user, name, filters, fmt, report)
    db.session.commit()
    return Response(file.body, content_type=file.content_type,
                    headers={"Content-Disposition": f'attachment; filename="{file.filename}"'})


def _report(name: str, model: Any = report_shapes.ReportQuery):
    user = g.user
    policy.require(user, f"report.{name}")
    filters, fmt = _filters(model)
    window = service.Window(filters.get("from"), filters.get("to"))
    extra = {k: filters[k] for k in ("group_id", "forum_id") if k in filters}
    report = service.REPORTS[name](user, window, **extra)
    return _answer(user, name, filters, fmt, report)


@bp.get("/reports/pipeline")
def report_pipeline():
    return _report("pipeline", report_shapes.PipelineQuery)


@bp.get("/reports/cohorts")
def report_cohorts():
    return _report("cohorts")


@bp.get("/reports/referrals")
def report_referrals():
    return _report("referrals")


@bp.get("/reports/identification")
def report_identification():
    return _report("identification")
