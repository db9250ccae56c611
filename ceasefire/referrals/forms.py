"""Referral forms. Their field names are the API's keys (`status`, `reason`), so the page and the JSON face
post the same thing to the same service."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, TextAreaField
from wtforms.validators import AnyOf, Length, Optional

from ceasefire import limits
from ceasefire.models.enums import ReferralStatus
from ceasefire.participants.forms import options

# Every status a referral can be moved to; which of them a user may set now is the service's to say.
SETTABLE = [s.value for s in ReferralStatus if s != ReferralStatus.SENT]


class ReferralFilterForm(FlaskForm):
    """The list's status filter, sent as a GET query (no token needed)."""

    class Meta:
        csrf = False

    status = SelectField(
        "Status",
        choices=options([("", "Any status"), *((s.value, s.value.capitalize()) for s in ReferralStatus)]),
        validators=[Optional()],
    )


class StatusForm(FlaskForm):
    """One status button; for "declined" also the reason (required by the service, not here, so the page and
    the API refuse a missing reason with the same message)."""

    status = HiddenField(validators=[AnyOf(SETTABLE, message="Choose the status the referral moves to.")])
    reason = TextAreaField("Why is the referral declined?", validators=[Optional(), Length(max=limits.TEXT)])
    note = TextAreaField("Note", validators=[Optional(), Length(max=limits.TEXT)])


class InboxForm(FlaskForm):
    """One row of the provider inbox: a note kept in the referral's history (the reason, when declining) and one
    button per step, each posting its `status` to the same address as StatusForm."""

    note = TextAreaField("Note", validators=[Optional(), Length(max=limits.TEXT)])
