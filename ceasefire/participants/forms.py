"""Participant forms. Their field names are the API's keys, so form data goes to the services unchanged.

Choices that come from the database are filled in by the view: agencies as selects; groups, caseworkers, community
groups, services, forums and visit teams as look-ups (ceasefire.lookup.fields, and the list's filters
ceasefire.lookup.filters), which become typed names in a large program.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    RadioField,
    SearchField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # new in WTForms 3.3; stubs are 3.2
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, HiddenInput, ListWidget

from ceasefire import limits
from ceasefire.lookup.fields import LookupField
from ceasefire.lookup.filters import LookupFilter
from ceasefire.models.enums import (
    ActionType,
    CloseReason,
    ConsentMethod,
    DeliveryMethod,
    OutreachKind,
    State,
    SupervisionStatus,
)
from ceasefire.services.clock import program_today


def optional_int(value) -> int | None:
    """For selects with a "none" choice: the empty option is None, anything else a whole number."""
    if value in (None, ""):
        return None
    return int(value)


def options(pairs) -> list[SelectChoice]:
    """Select choices from (value, label) pairs; the empty value is the "none" option."""
    return [SelectChoice(value if value == "" else str(value), label) for value, label in pairs]


def _choices(enum_cls) -> list[SelectChoice]:
    return options((m.value, m.value.replace("_", " ").capitalize()) for m in enum_cls)


class FilterForm(FlaskForm):
    """The participant list's search box and filters, sent as a GET query (no token needed)."""

    class Meta:
        csrf = False

    q = SearchField("Name or alias", validators=[Optional(), Length(max=limits.NAME)])
    state = SelectField("State", choices=[*options([("", "Any state")]), *_choices(State)], validators=[Optional()])
    group_id = LookupFilter("Group", kind="group", typed_name="group", blank="Any group")
    caseworker_id = LookupFilter("Caseworker", kind="caseworker", typed_name="caseworker", blank="Any caseworker")
    forum_id = LookupFilter("Forum", kind="forum", typed_name="forum", blank="Any forum")
    supervision_status = SelectField(
        "Supervision", choices=[*options([("", "Any supervision")]), *_choices(SupervisionStatus)],
        validators=[Optional()],
    )
    sort = SelectField("Sort by", choices=options([("name", "Name"), ("state", "State"), ("changed", "Last change")]),
                       validators=[Optional()])


class VersionForm(FlaskForm):
    """Every form that changes a participant carries the version the page showed (409 when stale)."""

    version = IntegerField(widget=HiddenInput(), validators=[InputRequired("Reload the page and try again.")])


class ParticipantForm(VersionForm):
    """The editable fields; the view removes those the user's role may not see (and so may not set). `base` carries
    the values the page was read with, so that an edit that meets a newer version keeps both sides."""

    base = HiddenField()

    first_name = StringField("First name", validators=[InputRequired(), Length(max=limits.NAME)])
    last_name = StringField("Last name", validators=[InputRequired(), Length(max=limits.NAME)])
    aliases = StringField("Aliases (street names)", validators=[Optional(), Length(max=limits.ALIASES)])
    date_of_birth = DateField("Date of birth", validators=[Optional()])
    phone = StringField("Phone", validators=[Optional(), Length(max=limits.PHONE)])
    address = StringField("Address", validators=[Optional(), Length(max=limits.ADDRESS)])
    supervision_status = SelectField(
        "Supervision status",
        choices=_choices(SupervisionStatus),
        coerce=SupervisionStatus,
        default=SupervisionStatus.NONE,
    )
    supervising_agency = StringField("Supervising agency", validators=[Optional(), Length(max=limits.TITLE)])
    identification_basis = TextAreaField(
        "Basis of identification", validators=[Optional(), Length(max=limits.TEXT)]
    )
    group_id = LookupField("Group", kind="group", blank="No group")
    caseworker_id = LookupField("Caseworker", kind="caseworker")
    community_org_id = LookupField("Community group (outreach)", kind="community")


class NewParticipantForm(ParticipantForm):
    version = None  # type: ignore[assignment]  # a new participant has no version yet: WTForms drops the field
    base = None  # type: ignore[assignment]
    # The program's identification criteria (the view fills the active ones); the service wants one from police.
    criteria = SelectMultipleField(
        "Identification criteria", coerce=int, widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
        validators=[Optional()],
    )
    consent_to_share = BooleanField("The participant consents to share their information with service providers")


class ConsentForm(VersionForm):
    """Consent in full: how it was given, what it covers, until when."""

    method = RadioField(
        "How was consent given?",
        choices=options([(ConsentMethod.WRITTEN.value, "In writing (a signed form)"),
                         (ConsentMethod.VERBAL.value, "Spoken, before a witness")]),
        validators=[InputRequired("Say how the consent was given.")],
    )
    witness_name = StringField("Witness's name (for a spoken consent)",
                               validators=[Optional(), Length(max=limits.NAME)])
    scope = StringField("What may be shared, and with whom", default="referral services",
                        validators=[InputRequired(), Length(max=limits.TITLE)])
    expires_on = DateField("Expires on", validators=[Optional()])


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes: easier to tap on a tablet than a multiple select."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class NoteForm(FlaskForm):
    body = TextAreaField("Note", validators=[InputRequired(), Length(max=limits.TEXT)])
    visibility = SelectField("Who may read it")  # the view offers the visibilities the role reads


class OutreachForm(FlaskForm):
    contacted_at = DateTimeLocalField("When", format="%Y-%m-%dT%H:%M", validators=[InputRequired()])
    kind = SelectField("Kind of contact", choices=_choices(OutreachKind))
    outcome = TextAreaField("What came of it", validators=[InputRequired(), Length(max=limits.TEXT)])


class CustomNotificationForm(FlaskForm):
    delivered_at = DateTimeLocalField("When", format="%Y-%m-%dT%H:%M", validators=[InputRequired()])
    place = StringField("Where", validators=[InputRequired(), Length(max=limits.TITLE)])
    team_user_ids = LookupField("Who went", kind="team_member", multiple=True)
    team_organization_ids = LookupField("Organizations that took part", kind="team_organization", multiple=True)
    message = TextAreaField("The message delivered", validators=[InputRequired(), Length(max=limits.TEXT)])
    response = TextAreaField("The person's response", validators=[Optional(), Length(max=limits.TEXT)])


class OutcomeForm(FlaskForm):
    type = SelectField("What happened")  # the view offers the types the role records
    occurred_on = DateField("On", validators=[InputRequired()])
    note = TextAreaField("Note", validators=[Optional(), Length(max=limits.TEXT)])


class ReferralForm(FlaskForm):
    service_id = LookupField("Service", kind="service", blank="Choose a service",
                             validators=[InputRequired("Choose a service.")])
    note = TextAreaField("Note for the provider", validators=[Optional(), Length(max=limits.TEXT)])


class InviteForm(VersionForm):
    forum_id = LookupField("Forum", kind="planned_forum", blank="Choose a forum",
                           validators=[InputRequired("Choose a forum.")])
    method = SelectField("How the invitation is delivered", choices=_choices(DeliveryMethod))


class EnforcementFields(FlaskForm):
    """What every enforcement form asks (a participant's, a whole group's): the action, and an incident or report
    number or a description of what happened, one of them at least."""

    action_type = SelectField("Action", choices=_choices(ActionType))
    occurred_on = DateField("Date it happened", default=program_today, validators=[InputRequired()])
    agency_id = SelectField("Agency", coerce=optional_int, validators=[Optional()])
    incident_ref = StringField("Incident or report number", validators=[Optional(), Length(max=limits.NAME)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=limits.TEXT)])

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if not (self.incident_ref.data or "").strip() and not (self.description.data or "").strip():
            self.incident_ref.errors = [*self.incident_ref.errors, INCIDENT_NEEDED]
            return False
        return valid


INCIDENT_NEEDED = "Give the incident or report number, or describe what happened."


class EnforceForm(VersionForm, EnforcementFields):
    pass


class CloseForm(VersionForm):
    reason = SelectField("Reason", choices=_choices(CloseReason))


class ReopenForm(VersionForm):
    reason = TextAreaField("Why reopen the case?", validators=[InputRequired(), Length(max=limits.TEXT)])


# The events whose form has fields of its own; the others are a single button (VersionForm).
EVENT_FORMS: dict[str, type[VersionForm]] = {
    "invite": InviteForm,
    "enforce": EnforceForm,
    "close": CloseForm,
    "reopen": ReopenForm,
}


def event_form_class(name: str) -> type[VersionForm]:
    return EVENT_FORMS.get(name, VersionForm)
