"""Street group forms: a group's own fields, and an enforcement action against the group. Field names are the
services' keys."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ceasefire import limits
from ceasefire.participants.forms import EnforcementFields


class GroupForm(FlaskForm):
    name = StringField("Name", validators=[InputRequired(), Length(max=limits.NAME)])
    aliases = StringField("Aliases (other names it goes by)", validators=[Optional(), Length(max=limits.ALIASES)])
    area = StringField("Area (neighbourhood, blocks)", validators=[Optional(), Length(max=limits.TITLE)])


class MemberChoices(SelectMultipleField):
    """One checkbox per member of the group; the view fills the choices."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class GroupEnforceForm(EnforcementFields):
    """The members the action touched (the view lists the group's members), then what every enforcement form asks."""

    members = MemberChoices("Members the action touched", coerce=int)
