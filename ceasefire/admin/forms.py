"""The admin pages' forms. Field names are the services' keys; a user's organization and a service's provider are
look-ups (ceasefire.lookup.fields): a select in a small program, a typed name in a large one."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, IntegerField, SearchField, SelectField, StringField, TextAreaField
from wtforms.validators import URL, InputRequired, Length, NumberRange, Optional

from ceasefire import limits
from ceasefire.lookup.fields import LookupField
from ceasefire.models.enums import OrgKind, Role, ServiceCategory
from ceasefire.participants.forms import options


def _choices(enum_cls, blank: str | None = None):
    pairs = [(m.value, m.value.replace("_", " ").capitalize()) for m in enum_cls]
    return options([("", blank), *pairs] if blank is not None else pairs)


class UserFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form changes nothing

    q = SearchField("Name or email", validators=[Optional(), Length(max=limits.EMAIL)])
    role = SelectField("Role", choices=_choices(Role, "Any role"), validators=[Optional()])
    status = SelectField("Status", choices=options([("", "Active and inactive"), ("active", "Active"),
                                                    ("inactive", "Inactive")]), validators=[Optional()])


class NameFilterForm(FlaskForm):
    """The organizations' and services' search box: part of a name."""

    class Meta:
        csrf = False  # a GET search form changes nothing

    q = SearchField("Name", validators=[Optional(), Length(max=limits.TITLE)])


class UserForm(FlaskForm):
    """A user's role and organization: what an admin changes after the user exists."""

    role = SelectField("Role", choices=_choices(Role), validators=[InputRequired()])
    organization_id = LookupField("Organization", kind="organization", blank="No organization")


class NewUserForm(UserForm):
    name = StringField("Name", validators=[InputRequired(), Length(max=limits.NAME)])
    email = EmailField("Email", validators=[InputRequired(), Length(max=limits.EMAIL)])


class OrganizationForm(FlaskForm):
    """An organization's fields, after Open Referral HSDS."""

    name = StringField("Name", validators=[InputRequired(), Length(max=limits.NAME)])
    kind = SelectField("Kind", choices=_choices(OrgKind), validators=[InputRequired()])
    description = TextAreaField("Description", validators=[Optional(), Length(max=limits.TEXT)])
    email = EmailField("Email", validators=[Optional(), Length(max=limits.EMAIL)])
    phone = StringField("Phone", validators=[Optional(), Length(max=limits.PHONE)])
    url = StringField("Website", validators=[Optional(), Length(max=limits.URL),
                                            URL(message="Give a web address, such as https://example.org.")])


class ServiceForm(FlaskForm):
    """A provider's service, after Open Referral HSDS."""

    organization_id = LookupField("Provider", kind="provider", blank="Choose a provider",
                                  validators=[InputRequired("Choose a provider.")])
    name = StringField("Name", validators=[InputRequired(), Length(max=limits.NAME)])
    category = SelectField("Category", choices=_choices(ServiceCategory), validators=[InputRequired()])
    description = TextAreaField("Description", validators=[Optional(), Length(max=limits.TEXT)])
    eligibility = TextAreaField("Who is eligible", validators=[Optional(), Length(max=limits.TEXT)])
    capacity = IntegerField("Capacity (places)", validators=[Optional(), NumberRange(0, limits.ID_MAX,
                                                                                     "A number of places, 0 or more.")])
    active = BooleanField("Takes referrals (active)", default=True)
