"""Due process forms: a retention decision, a removal request, its decision, and the criteria list. Their field
names are the API's keys. None of them has a field for the review date: the system computes it."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import AnyOf, InputRequired, Length

from ceasefire import limits
from ceasefire.models.enums import RequestedBy
from ceasefire.participants.forms import options


def _choices(values) -> list:
    return options((v, v.replace("_", " ").capitalize()) for v in values)


class ReviewForm(FlaskForm):
    decision = HiddenField(validators=[AnyOf(["retain", "purge"], "Choose retain or purge.")])
    reason = TextAreaField("Reason (required)", validators=[InputRequired(), Length(max=limits.TEXT)])


class RemovalRequestForm(FlaskForm):
    received_on = DateField("Received on", validators=[InputRequired()])
    requested_by = SelectField("Requested by", choices=_choices(r.value for r in RequestedBy))
    grounds = TextAreaField("Grounds given", validators=[InputRequired(), Length(max=limits.TEXT)])


class DecisionForm(FlaskForm):
    decision = HiddenField(validators=[AnyOf(["granted", "denied"], "Choose grant or deny.")])
    reason = TextAreaField("Reason (required)", validators=[InputRequired(), Length(max=limits.TEXT)])


class CriterionForm(FlaskForm):
    name = StringField("A new criterion", validators=[InputRequired(), Length(max=limits.TITLE)])


class RetireForm(FlaskForm):
    criterion_id = IntegerField(validators=[InputRequired()])
