"""The supervisor's audit trail page and its CSV export."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request, stream_with_context
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectChoice, SelectField  # type: ignore[attr-defined]  # new in WTForms 3.3; the stubs are 3.2
from wtforms.validators import NumberRange, Optional

from ceasefire import limits, policy
from ceasefire.exports import csv_lines
from ceasefire.pages import keep, page_number
from ceasefire.services import audit, audit_trail, read
from ceasefire.services.records import AuditRecord, Page

bp = Blueprint("audit", __name__, url_prefix="/audit")
PER_PAGE = 50
NO_SUCH_ID = f"There is no such id: ids run from 1 to {limits.ID_MAX}."


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form changes nothing

    participant_id = IntegerField("Participant id", validators=[Optional(), NumberRange(1, limits.ID_MAX, NO_SUCH_ID)])
    user_id = IntegerField("User id", validators=[Optional(), NumberRange(1, limits.ID_MAX, NO_SUCH_ID)])
    action = SelectField(
        "Action", choices=[SelectChoice("", "Any"), *(SelectChoice(a, a) for a in sorted(audit.ACTIONS))],
        validators=[Optional()],
    )
    date_from = DateField("From", validators=[Optional()])
    date_to = DateField("To", validators=[Optional()])


def _filters(form: AuditFilterForm) -> dict:
    return {
        "participant_id": form.participant_id.data,
        "user_id": form.user_id.data,
        "action": form.action.data or None,
        "date_from": form.date_from.data,
        "date_to": form.date_to.data,
    }


@bp.get("/")
@login_required
def index():
    policy.require(current_user, "audit.view")
    form = AuditFilterForm(request.args)
    listing: Page[AuditRecord] = Page.empty(PER_PAGE)
    valid = form.validate()
    if valid:
        listing = read.audit_page(current_user, page_number(), PER_PAGE, clamp=True, **_filters(form))
        audit_trail.note_read(current_user, _filters(form))
        keep()
    return render_template("audit/index.html", form=form, listing=listing,
                           args={k: v for k, v in request.args.items() if k != "page"}), 200 if valid else 422


@bp.get("/export.csv")
@login_required
def export():
    policy.require(current_user, "audit.view")
    form = AuditFilterForm(request.args)
    if not form.validate():
        return index()
    rows = read.audit_stream(current_user, **_filters(form))
    header = ["at", "user_id", "action", "object_type", "object_id", "ip", "face", "detail"]
    audit_trail.note_read(current_user, _filters(form), export=True)
    keep()
    # Streamed: the rows are read a thousand at a time while the answer is written.
    body = csv_lines(header, ([r.at.isoformat(), r.user_id, r.action, r.object_type, r.object_id, r.ip, r.face,
                               r.detail] for r in rows))
    return Response(stream_with_context(body), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=audit-trail.csv"})
