"""Report pages: every report as tables (and charts), with filters and CSV / XLSX downloads of what is shown.

The pipeline page shows the 90th percentile of the days of each step beside the median; its download holds what
the page shows, so the API's file (whose numbers are the API's JSON, medians alone) with `p90_days.*` lines after
the `median_days.*` ones."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template, request
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import DateField
from wtforms.validators import Optional

from ceasefire import policy
from ceasefire.errors import ValidationFailed
from ceasefire.lookup import filters as lookup_filters
from ceasefire.lookup.filters import LookupFilter
from ceasefire.pages import keep, page_number
from ceasefire.reports import charts
from ceasefire.services import program_reports
from ceasefire.services import reports as service

bp = Blueprint("reports", __name__, url_prefix="/reports")

REPORTS = {**service.REPORTS, **program_reports.PROGRAM_REPORTS}
# The reports whose page shows its rows a page at a time (a program's whole history holds thousands of forums,
# street groups and services); their files and the API hold every row.
PAGED = {"cohorts": service.cohort_page, "groups": program_reports.groups_page,
         "referrals": service.referrals_page}
PER_PAGE = 50


class WindowForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter form changes nothing

    date_from = DateField("From", validators=[Optional()])
    date_to = DateField("To", validators=[Optional()])


class PipelineForm(WindowForm):
    # A select in a small program, a typed name beyond lookup.THRESHOLD rows (a statewide program's 50,000 groups
    # and 40,000 forums), as the participant list's filters: any group or forum can be chosen at any size.
    group_id = LookupFilter("Group", kind="group", typed_name="group", blank="All")
    forum_id = LookupFilter("Forum", kind="forum", typed_name="forum", blank="All")


def _filters(form: WindowForm) -> dict[str, Any]:
    """The filters given, named as in the API (and so in the file's name and first line)."""
    filters: dict[str, Any] = {"from": form.date_from.data, "to": form.date_to.data}
    for name in ("group_id", "forum_id"):
        if name in form and form[name].data:
            filters[name] = int(form[name].data)
    return {k: v for k, v in filters.items() if v is not None}


def _options(name: str, filters: dict[str, Any]) -> dict[str, Any]:
    """What a report service is given beside the window: the filters it takes and, for the pipeline, the 90th
    percentiles the page shows beside the medians (the API's report has the medians alone)."""
    extra: dict[str, Any] = {k: filters[k] for k in ("group_id", "forum_id") if k in filters}
    return {**extra, "p90": True} if name == "pipeline" else extra


def _report_for_chart(name: str, form: WindowForm) -> dict[str, Any]:
    """The report a chart draws, with the page's filters (a malformed one is 422, as the page's file)."""
    if not form.validate():
        raise ValidationFailed("Check the filters.", {k: "; ".join(v) for k, v in form.errors.items()})
    filters = _filters(form)
    window = service.Window(filters.get("from"), filters.get("to"))
    return REPORTS[name](current_user, window, **_options(name, filters))


def _svg(chart: charts.Chart) -> Response:
    keep()
    return Response(chart.svg, content_type="image/svg+xml; charset=utf-8",
                    headers={"Content-Security-Policy": chart.csp})


def _render(name: str, form: WindowForm, template: str, needs_window: bool = False, **context):
    """A report's page, or (`format`) its file. A PAGED report's page shows PER_PAGE of its rows (`listing`, a Page
    of them, and `report` holding that page's items); its file holds every row."""
    fmt = request.args.get("format") or None
    report = None
    listing = None
    valid = form.validate()
    if valid and needs_window:  # a period report needs both ends; said beside the field once the form is sent
        for date_field in (form.date_from, form.date_to):
            if date_field.data is None:
                valid = False
                if request.args:
                    date_field.errors = [*date_field.errors, "Choose the period's first and last day."]
    if valid:
        if fmt is not None and fmt not in service.FORMATS:  # refused before any counting
            raise ValidationFailed("Unknown format: choose csv or xlsx.")
        filters = _filters(form)
        window = service.Window(filters.get("from"), filters.get("to"))
        if fmt is None and name in PAGED:
            listing = PAGED[name](current_user, window, page_number(), PER_PAGE)
            report = {"items": list(listing.items)}
        else:
            report = REPORTS[name](current_user, window, **_options(name, filters))
        if fmt is not None:
            file = service.export_file(current_user, name, filters, fmt, report)
            keep()
            return Response(file.body, content_type=file.content_type,
                            headers={"Content-Disposition": f'attachment; filename="{file.filename}"'})
    # The page's links (downloads, charts, pages) carry its filters and nothing else of the URL (a `measure` there
    # would be given twice to the activity page's chart links), a typed name as the id it was resolved to.
    args = lookup_filters.filter_args(form, ("format", "page"))
    keep()
    # a filter refused (said beside its field) is 422, as on the other lists' pages
    status = 422 if any(field.errors for field in form) else 200
    return render_template(template, form=form, report=report, listing=listing, args=args, **context), status


def _pipeline_form() -> PipelineForm:
    """The pipeline's filters: a group for the roles that see groups, a forum for every role the report serves."""
    form = PipelineForm(request.args)
    lookup_filters.prepare(form, current_user)
    return form


@bp.get("/")
@login_required
def pipeline():
    policy.require(current_user, "report.pipeline")
    return _render("pipeline", _pipeline_form(), "reports/pipeline.html")


@bp.get("/cohorts")
@login_required
def cohorts():
    policy.require(current_user, "report.cohorts")
    return _render("cohorts", WindowForm(request.args), "reports/cohorts.html",
                   chart_forums=charts.CHART_FORUMS)


@bp.get("/referrals")
@login_required
def referrals():
    policy.require(current_user, "report.referrals")
    return _render("referrals", WindowForm(request.args), "reports/referrals.html")


@bp.get("/identification")
@login_required
def identification():
    policy.require(current_user, "report.identification")
    return _render("identification", WindowForm(request.args), "reports/identification.html")


@bp.get("/groups")
@login_required
def groups():
    policy.require(current_user, "report.groups")
    return _render("groups", WindowForm(request.args), "reports/groups.html")


@bp.get("/activity")
@login_required
def activity():
    policy.require(current_user, "report.activity")
    return _render("activity", WindowForm(request.args), "reports/activity.html")


@bp.get("/funder")
@login_required
def funder():
    policy.require(current_user, "report.funder")
    return _render("funder", WindowForm(request.args), "reports/funder.html", needs_window=True)


# Charts: images of their own (see charts.py), under the same policy as their pages.


@bp.get("/pipeline.svg")
@login_required
def pipeline_chart():
    policy.require(current_user, "report.pipeline")
    return _svg(charts.pipeline(_report_for_chart("pipeline", _pipeline_form())))


@bp.get("/pipeline-days.svg")
@login_required
def pipeline_days_chart():
    policy.require(current_user, "report.pipeline")
    return _svg(charts.pipeline_days(_report_for_chart("pipeline", _pipeline_form())))


@bp.get("/cohorts.svg")
@login_required
def cohorts_chart():
    policy.require(current_user, "report.cohorts")
    form = WindowForm(request.args)
    if not form.validate():
        raise ValidationFailed("Check the filters.", {k: "; ".join(v) for k, v in form.errors.items()})
    filters = _filters(form)
    window = service.Window(filters.get("from"), filters.get("to"))
    return _svg(charts.cohorts(service.latest_cohorts(current_user, window, charts.CHART_FORUMS)))


@bp.get("/activity.svg")
@login_required
def activity_chart():
    policy.require(current_user, "report.activity")
    measure = request.args.get("measure", "")
    if measure not in program_reports.ACTIVITY_MEASURES:
        raise ValidationFailed("Unknown measure.", {"measure": "Choose one of the report's columns."})
    return _svg(charts.activity(_report_for_chart("activity", WindowForm(request.args)), measure))
