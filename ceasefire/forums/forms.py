"""Forum forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from ceasefire import limits


class ForumForm(FlaskForm):
    title = StringField("Title", validators=[InputRequired(), Length(max=limits.TITLE)])
    scheduled_at = DateTimeLocalField("Date and time", format="%Y-%m-%dT%H:%M", validators=[InputRequired()])
    location = StringField("Place", validators=[Optional(), Length(max=limits.TITLE)])
    speakers = TextAreaField("Speakers", validators=[Optional(), Length(max=limits.TEXT)])
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=limits.TEXT)])


class ConfirmForm(FlaskForm):
    """A form that is only its CSRF token: cancelling, marking held, and the roster's many-row forms (whose rows are
    read by the view, one participant id with its own fields each)."""
