"""The supervisor's audit trail page and its CSV export: names beside the ids, actions in words, pickers for the user
(a select, or a typed name in a large program: ceasefire.lookup.filters) and the participant, a date range in the
program's time zone, fifty rows at a time, moved through by "older" and "newer" (services/audit_read.py: a trail of
millions is never counted whole)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template, request, stream_with_context
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SearchField, SelectChoice, SelectField  # type: ignore[attr-defined]  # new in WTForms 3.3; the stubs are 3.2
from wtforms.validators import Length, NumberRange, Optional, ValidationError
from wtforms.widgets import HiddenInput

from ceasefire import limits, policy
from ceasefire.errors import ServiceError
from ceasefire.exports import csv_lines
from ceasefire.lookup import filters as lookup_filters
from ceasefire.lookup.filters import NO_SUCH_ID, LookupFilter
from ceasefire.pages import keep, local_zone
from ceasefire.services import audit, audit_read, audit_trail, read

bp = Blueprint("audit", __name__, url_prefix="/audit")
PER_PAGE = 50

# Each action of the trail (API.md's codes) as a supervisor reads it.
ACTION_WORDS: dict[str, str] = {
    "view": "Opened a record",
    "create": "Created",
    "update": "Changed",
    "event": "Pipeline step",
    "referral_status": "Referral status changed",
    "export": "Exported",
    "import": "Imported",
    "sign_in": "Signed in",
    "sign_in_failed": "Sign-in failed",
    "sign_out": "Signed out",
    "lockout": "Account locked",
    "password_change": "Password changed",
    "role_change": "Role changed",
    "token_create": "API token created",
    "token_revoke": "API token revoked",
    "audit_view": "Read the audit trail",
    "review": "Retention review",
    "purge": "Purged",
}


def action_words(action: str) -> str:
    return ACTION_WORDS.get(action, action.replace("_", " ").capitalize())


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form changes nothing

    user_id = LookupFilter("User", kind="user", typed_name="user", blank="Anyone")  # typed in a large program
    participant = SearchField("Participant", validators=[Optional(), Length(max=limits.NAME)])
    # Set by links that name one participant (their page, a row here); the search box is for people.
    participant_id = IntegerField("Participant id", widget=HiddenInput(),
                                  validators=[Optional(), NumberRange(1, limits.ID_MAX, NO_SUCH_ID)])
    action = SelectField(
        "Action",
        choices=[SelectChoice("", "Any"), *(SelectChoice(a, action_words(a)) for a in sorted(
            audit.ACTIONS, key=action_words))],
        validators=[Optional()],
    )
    # Where the window starts: just older, or just newer, than a row shown before (the pager's links, not inputs).
    older_than = IntegerField("Older than", validators=[Optional(), NumberRange(1, limits.ID_MAX, NO_SUCH_ID)])
    newer_than = IntegerField("Newer than", validators=[Optional(), NumberRange(1, limits.ID_MAX, NO_SUCH_ID)])
    date_from = DateField("From", validators=[Optional()])
    date_to = DateField("To", validators=[Optional()])

    def validate_date_to(self, field: DateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The range ends before it starts.")


def _form() -> AuditFilterForm:
    form = AuditFilterForm(request.args)
    lookup_filters.prepare(form, current_user)
    return form


def _filters(form: AuditFilterForm) -> dict[str, Any]:
    return {
        "participant_id": form.participant_id.data,
        "participant_name": (form.participant.data or "").strip() or None,
        "user_id": form.user_id.data,
        "action": form.action.data or None,
        "date_from": form.date_from.data,
        "date_to": form.date_to.data,
    }


@bp.get("/")
@login_required
def index():
    policy.require(current_user, "audit.view")
    form = _form()
    listing = audit_read.AuditWindow.empty()
    valid = form.validate()
    error = None
    if valid:
        try:
            listing = audit_read.window(current_user, PER_PAGE, form.older_than.data, form.newer_than.data,
                                        names=True, **_filters(form))
        except ServiceError as e:
            valid, error = False, e
        else:
            audit_trail.note_read(current_user, _filters(form))
            keep()
    args = lookup_filters.filter_args(form, PLACE)
    return render_template("audit/index.html", form=form, listing=listing, words=action_words, zone=local_zone().key,
                           args=args, everyone={k: v for k, v in args.items() if k != "participant_id"},
                           error=error, cap=audit_read.COUNT_CAP), 200 if valid else 422


PLACE = ("page", "older_than", "newer_than")  # where a window starts: the filters' links start at the newest


CSV_HEADER = ["at", "user_id", "user_name", "action", "action_words", "object_type", "object_id", "object_name",
              "participant_id", "participant_name", "ip", "face", "detail"]


@bp.get("/export.csv")
@login_required
def export():
    policy.require(current_user, "audit.view")
    form = _form()
    if not form.validate():
        return index()
    try:
        rows = read.audit_stream(current_user, **_filters(form))
    except ServiceError:  # a name too many people share: the page says so
        return index()
    zone = local_zone()
    audit_trail.note_read(current_user, _filters(form), export=True)
    keep()
    # Streamed: the rows are read a thousand at a time while the answer is written.
    body = csv_lines(CSV_HEADER, (
        [r.at.astimezone(zone).isoformat(), r.user_id, r.user_name, r.action, action_words(r.action), r.object_type,
         r.object_id, r.object_name, r.participant_id, r.participant_name, r.ip, r.face, r.detail]
        for r in rows
    ))
    return Response(stream_with_context(body), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=audit-trail.csv"})
