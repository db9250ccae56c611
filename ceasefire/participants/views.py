"""Participant pages: the list, a new participant, one participant with the events open to the user, the
event forms, consent, referrals and editing.

Each view loads (404), checks the policy (403), calls one service, commits once, then redirects or renders.
What a role may see or do is asked of ceasefire.policy and ceasefire.pipeline; no rule is written here.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime
from typing import Any, cast

from flask import abort, flash, redirect, render_template, request, url_for

from ceasefire import flashes, pipeline, policy
from ceasefire.errors import NotFound, ServiceError, StaleVersion, ValidationFailed
from ceasefire.extensions import db
from ceasefire.lookup import fields as lookups
from ceasefire.lookup import filters as lookup_filters
from ceasefire.models import Forum, Participant, Service, User
from ceasefire.models.enums import (
    NoteVisibility,
    OutcomeType,
    ReferralStatus,
)
from ceasefire.pages import (
    actor,
    attempt,
    form_values,
    keep,
    local_zone,
    page_number,
    signed_in_blueprint,
    words,
)
from ceasefire.participants.forms import (
    ConsentForm,
    EnforceForm,
    FilterForm,
    NewParticipantForm,
    NoteForm,
    OutcomeForm,
    OutreachForm,
    ParticipantForm,
    ReferralForm,
    VersionForm,
    event_form_class,
    options,
)
from ceasefire.services import audit, catalog, conflicts, events, identification_report, read, retention, timeline
from ceasefire.services import consent as consent_service
from ceasefire.services import listing as listing_service
from ceasefire.services import participants as participant_service
from ceasefire.services import referrals as referral_service
from ceasefire.services.clock import program_today
from ceasefire.web import safe_next

bp = signed_in_blueprint("participants", __name__, "/participants")

PER_PAGE = 50

# One-button events that undo or close something: the participant page links to a page that asks to confirm.
CONFIRM_FIRST = frozenset({"no_show", "offer_services"})

# The list's columns after the name, each shown only to roles that see its field.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("aliases", "Aliases"),
    ("date_of_birth", "Date of birth"),
    ("phone", "Phone"),
    ("group_name", "Group"),
    ("state", "State"),
)

# Labels of the detail fields on a participant page, in the order shown: the record's fields, names beside ids.
DETAILS: tuple[tuple[str, str], ...] = (
    ("aliases", "Aliases"),
    ("date_of_birth", "Date of birth"),
    ("phone", "Phone"),
    ("address", "Address"),
    ("supervision_status", "Supervision"),
    ("supervising_agency", "Supervising agency"),
    ("caseworker_name", "Caseworker"),
    ("community_org_name", "Community group"),
    ("group_name", "Group"),
    ("identification_basis", "Basis of identification"),
    ("identifying_org_name", "Identified by"),
    ("identified_on", "Identified on"),
)


def _participant_form(form_cls: type[ParticipantForm], user: User, **kwargs: Any) -> ParticipantForm:
    """The participant form with only the fields the user's role may see, and so may set."""
    form = form_cls(**kwargs)
    for name in list(form._fields):
        if name in participant_service.EDITABLE and not policy.sees(user.role, name):
            del form[name]
    lookups.prepare(form, user)
    if "criteria" in form:
        active = retention.active_criteria()
        if active:
            form.criteria.choices = options((c.id, c.name) for c in active)
        else:
            del form["criteria"]
    return form


def _event_form(name: str, user: User, participant: Participant) -> VersionForm:
    """The event's form; on a GET filled with the page's version (never on a POST: a missing version must fail)."""
    form_cls = event_form_class(name)
    defaults: dict[str, Any] = {}
    if request.method == "GET":
        defaults["version"] = participant.version
    if form_cls is EnforceForm and request.method == "GET":
        defaults["agency_id"] = user.organization_id
    form = form_cls(**defaults)
    lookups.prepare(form, user)
    if isinstance(form, EnforceForm):
        agencies = catalog.law_enforcement_agencies()
        form.agency_id.choices = options([("", "Choose an agency"), *((o.id, o.name) for o in agencies)])
    return form


def _referral_form(user: User, posted: bool = False) -> ReferralForm:
    """The referral form, read from the request only when it is the form that was posted."""
    form = ReferralForm() if posted else ReferralForm(formdata=None)
    lookups.prepare(form, user)
    return form


def _version(form: Any) -> int:
    """The version the page was read at: the form's InputRequired has refused a post without it."""
    return cast(int, form.version.data)


# What a participant page shows, asked of the policy and the pipeline.


def _note_form(user: User, posted: bool = False) -> NoteForm:
    form = NoteForm() if posted else NoteForm(formdata=None)
    form.visibility.choices = options(
        (v.value, v.value.replace("_", " ").capitalize()) for v in NoteVisibility if v in policy.note_visibilities(user)
    )
    return form


def _outcome_form(user: User, posted: bool = False) -> OutcomeForm:
    form = OutcomeForm() if posted else OutcomeForm(formdata=None, occurred_on=program_today())
    form.type.choices = options(
        (t.value, words(t)) for t in OutcomeType if t in policy.outcome_types(user)
    )
    return form


def _page(user: User, p: Participant, status: int = 200, error: ServiceError | None = None,
          referral_form: ReferralForm | None = None, **forms: Any):
    """The participant page: the record the policy lets the role see, the events the pipeline offers now, the
    timeline, and the forms of what the role may record."""
    record = read.participant_record(user, p, detail=True)
    may_update = policy.can(user, "participant.update")
    context: dict[str, Any] = {
        "p": record,
        "details": [(f, label) for f, label in DETAILS if record.has(f)],
        "events": [(e, event_form_class(e.name) is VersionForm and e.name not in CONFIRM_FIRST)
                   for e in pipeline.available_events(p, user)],
        "event_form": VersionForm(formdata=None, version=p.version),
        "may_edit": may_update,
        "may_open_referrals": policy.can(user, "referral.list"),
        "may_change_consent": record.has("consent_to_share") and policy.can(user, "consent.change"),
        "may_record_visit": policy.can(user, "custom_notification.create"),
        "timeline": timeline.timeline(user, p),
        "sees_outcomes": policy.can(user, "outcome.view"),
        "may_add_enforcement": events.may_add_enforcement(p, user),
        "error": error,
    }
    if record.has("referrals") and policy.can(user, "referral.create"):
        context["referral_form"] = referral_form or _referral_form(user)
    if policy.can(user, "note.create"):
        context["note_form"] = forms.get("note_form") or _note_form(user)
    if policy.can(user, "outreach.create"):
        context["outreach_form"] = forms.get("outreach_form") or OutreachForm(formdata=None)
    if policy.can(user, "outcome.create"):
        context["outcome_form"] = forms.get("outcome_form") or _outcome_form(user)
    return render_template("participants/show.html", **context), status


# The pages.


def _filter_form(user: User) -> FilterForm:
    """The list's filters: only those on fields the user's role sees. A filter the role may not use is no field of
    the form, so its value in the URL is ignored, never applied. A group, caseworker or forum is a select in a small
    program and a typed name in a large one (ceasefire.lookup.filters), each offered by its look-up's kind to the
    roles that could choose it before."""
    form = FilterForm(formdata=request.args)
    offered = {
        "state": policy.sees(user.role, "state"),
        "group_id": policy.sees(user.role, "group_id") and policy.can(user, "group.list"),
        "caseworker_id": policy.sees(user.role, "caseworker_id"),
        "supervision_status": policy.sees(user.role, "supervision_status"),
        "forum_id": bool(policy.invitation_fields(user.role)),
    }
    for name, shown in offered.items():
        if not shown:
            del form[name]
    lookup_filters.prepare(form, user)
    if not offered["state"]:
        form.sort.choices = options([("name", "Name")])
    return form


@bp.get("/")
def index():
    """The list: filters and order in the URL (bookmarkable), and the count in each state as tabs."""
    user = actor()
    policy.require(user, "participant.list")
    form = _filter_form(user)
    valid = form.validate()
    filters: dict[str, Any] = {}
    if valid:
        filters = {name: f.data for name, f in form._fields.items() if f.data not in (None, "")}
    columns = [(f, label) for f, label in COLUMNS if policy.sees(user.role, f)]
    tabs, listing = listing_service.participant_list(
        user, page_number(), PER_PAGE, ("first_name", "last_name", *(f for f, _ in columns)), **filters
    )
    args = lookup_filters.filter_args(form)
    return render_template(
        "participants/index.html",
        form=form,
        listing=listing,
        columns=columns,
        args=args,
        tabs=tabs,
        may_create=policy.can(user, "participant.create"),
        identified=identification_report.identified_counts(user),
    ), 200 if valid else 422


@bp.route("/new", methods=["GET", "POST"])
def new():
    user = actor()
    policy.require(user, "participant.create")
    form = _participant_form(NewParticipantForm, user)
    error = None
    if form.validate_on_submit():
        participant, error = attempt(
            lambda: participant_service.create_participant(user, form_values(form, "base")), form
        )
        if error is None:
            flash(f"{participant.full_name} added.", "success")
            return redirect(url_for(".show", participant_id=participant.id))
    status = error.status if error else (422 if form.errors else 200)
    return render_template("participants/form.html", form=form, error=error, participant=None), status


@bp.get("/<int:participant_id>")
def show(participant_id: int):
    user = actor()
    participant = policy.get_participant(user, participant_id)
    audit.record(user, "view", "participant", participant.id)
    keep()
    return _page(user, participant)


def _editable(form: ParticipantForm) -> list[str]:
    return [name for name in form._fields if name in participant_service.EDITABLE]


def _shown(form: ParticipantForm, name: str, value: str) -> str:
    """A value as the form offers it: a choice's label, or the text itself."""
    field = form[name]
    if isinstance(field, lookups.LookupField):
        return field.shown(value)
    for choice in getattr(field, "choices", None) or ():
        if str(choice[0]) == value:
            return str(choice[1])
    return value or "—"


def said(user: User, participant: Participant) -> str:
    """Who changed the participant last and how, in words: "Dana Rivera checked Marcus in at 18:42"."""
    change = conflicts.last_change(user, participant)
    if change is None:
        return "Someone else changed this participant."
    local = change.at.astimezone(local_zone())
    day = "" if local.date() == datetime.now(local_zone()).date() else f" on {local:%Y-%m-%d}"
    return f"{change.who} {change.what}{day} at {local:%H:%M}."


def _refresh_hidden(form: Any, participant: Participant) -> None:
    """Put the version saved now into the form, so the next save lands on top of it."""
    form.version.data, form.version.raw_data = participant.version, None


def _clash(user: User, form: ParticipantForm, participant: Participant, mine: dict[str, Any]) -> dict[str, Any]:
    """Someone saved first: take their values where the user changed nothing, keep the user's everywhere else, and
    say who, when, and where both changed the same field."""
    names = _editable(form)
    take, fields = conflicts.settle(conflicts.read_base(form.base.data), mine, participant)
    for name in take:
        form[name].data, form[name].raw_data = getattr(participant, name), None
    _refresh_hidden(form, participant)
    form.base.data = conflicts.snapshot(participant, names)
    return {
        "said": said(user, participant),
        "fields": [(form[c.name].label.text, _shown(form, c.name, c.theirs), _shown(form, c.name, c.mine))
                   for c in fields],
        "taken": [form[name].label.text for name in names if name in take],
    }


@bp.route("/<int:participant_id>/edit", methods=["GET", "POST"])
def edit(participant_id: int):
    user = actor()
    participant = policy.get_participant(user, participant_id, "participant.update")
    if request.method == "GET":
        form = _participant_form(ParticipantForm, user, obj=participant)
        form.base.data = conflicts.snapshot(participant, _editable(form))
    else:
        form = _participant_form(ParticipantForm, user)
    error, clash = None, None
    if form.validate_on_submit():
        values = form_values(form, "version", "base")
        _, error = attempt(
            lambda: participant_service.update_participant(user, participant, _version(form), values), form
        )
        if error is None:
            flash(f"{participant.full_name}'s record saved.", "success")
            return redirect(url_for(".show", participant_id=participant.id))
        if isinstance(error, StaleVersion):
            clash = _clash(user, form, participant, values)
    status = error.status if error else (422 if form.errors else 200)
    return render_template("participants/form.html", form=form, error=None if clash else error, clash=clash,
                           participant=participant), status


def _event_forum(participant: Participant, name: str, values: dict[str, Any]) -> str | None:
    """The title of the forum an invitation or a no-show is about, for the message afterwards."""
    if name == "invite" and values.get("forum_id"):
        forum = db.session.get(Forum, values["forum_id"])
        return forum.title if forum else None
    if name == "no_show":
        invitation = events.open_invitation(participant)
        return invitation.forum.title if invitation else None
    return None


@bp.route("/<int:participant_id>/events/<name>", methods=["GET", "POST"])
def event(participant_id: int, name: str):
    if name not in pipeline.EVENTS_BY_NAME:
        abort(404)
    user = actor()
    participant = policy.get_participant(user, participant_id)
    ev = pipeline.authorize(name, user).event
    form = _event_form(name, user, participant)
    error = None
    if request.method == "GET":
        with suppress(ValidationFailed):  # 409 when not open from the state now; preconditions wait for the post
            pipeline.check(participant, name, user)
    elif form.validate_on_submit():
        values = form_values(form, "version")
        forum = _event_forum(participant, name, values)
        _, error = attempt(
            lambda: events.perform(user, participant, _version(form), name, values), form
        )
        if isinstance(error, StaleVersion):  # say what happened meanwhile; the form now acts on the new version
            error = StaleVersion(f"{said(user, participant)} Nothing was done: check the record as it is now and "
                                 "try again if it still applies.")
            _refresh_hidden(form, participant)
        if error is None:
            flash(flashes.event_done(name, participant.full_name, forum), "success")
            return redirect(safe_next(request.form.get("next")) or url_for(".show", participant_id=participant.id))
    status = error.status if error else (422 if form.errors else 200)
    if error is not None and event_form_class(name) is VersionForm:
        return _page(user, participant, status, error)  # a one-button event: say why on the participant page
    return render_template("participants/event.html", participant=participant, ev=ev, form=form, error=error), status


@bp.route("/<int:participant_id>/consent", methods=["GET", "POST"])
def consent(participant_id: int):
    """Record a consent to share: how it was given, its scope and its expiry."""
    user = actor()
    participant = policy.get_participant(user, participant_id, "consent.change")
    form = ConsentForm() if request.method == "POST" else ConsentForm(formdata=None, version=participant.version)
    error = None
    if form.validate_on_submit():
        _, error = attempt(lambda: consent_service.record_consent(
            user, participant, _version(form), form.method.data, form.scope.data, form.expires_on.data,
            form.witness_name.data,
        ), form)
        if isinstance(error, StaleVersion):
            error = StaleVersion(f"{said(user, participant)} Nothing was done: check the record as it is now.")
        if error is None:
            flash(f"Consent to share recorded for {participant.full_name}.", "success")
            return redirect(url_for(".show", participant_id=participant.id) + "#referrals")
    status = error.status if error else (422 if form.errors else 200)
    return render_template("participants/consent.html", participant=participant, form=form, error=error), status


@bp.route("/<int:participant_id>/consent/revoke", methods=["GET", "POST"])
def revoke_consent(participant_id: int):
    """Revoking asks first: providers lose access at once."""
    user = actor()
    participant = policy.get_participant(user, participant_id, "consent.change")
    form = VersionForm() if request.method == "POST" else VersionForm(formdata=None, version=participant.version)
    error = None
    if form.validate_on_submit():
        _, error = attempt(lambda: consent_service.revoke_consent(user, participant, _version(form)), form)
        if isinstance(error, StaleVersion):
            error = StaleVersion(f"{said(user, participant)} Nothing was done: check the record as it is now.")
        if error is None:
            flash(f"Consent to share revoked for {participant.full_name}. Providers no longer see them.", "success")
            return redirect(url_for(".show", participant_id=participant.id) + "#referrals")
    status = error.status if error else (422 if form.errors else 200)
    return render_template("participants/revoke_consent.html", participant=participant, form=form,
                           error=error), status


@bp.post("/<int:participant_id>/referrals")
def send_referral(participant_id: int):
    user = actor()
    participant = policy.get_participant(user, participant_id, "referral.create")
    form = _referral_form(user, posted=True)
    error = None
    if form.validate_on_submit():
        service = db.session.get(Service, form.service_id.data)
        if service is None:
            raise NotFound("No such service.")
        _, error = attempt(lambda: referral_service.send_referral(user, participant, service, form.note.data), form)
        if error is None:
            flash(flashes.referral_done(ReferralStatus.SENT, service.name), "success")
            return redirect(url_for(".show", participant_id=participant.id) + "#referrals")
    else:
        error = ValidationFailed("Choose a service.")
    return _page(user, participant, error.status, error, referral_form=form)
