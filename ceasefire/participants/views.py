"""Participant pages: the list, a new participant, one participant with the events open to the user, the
event forms, consent, referrals and editing.

Each view loads (404), checks the policy (403), calls one service, commits once, then redirects or renders.
What a role may see or do is asked of ceasefire.policy and ceasefire.pipeline; no rule is written here.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any, cast

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for

from ceasefire import pipeline, policy
from ceasefire.errors import NotFound, ServiceError, ValidationFailed
from ceasefire.extensions import db
from ceasefire.models import Forum, Group, Organization, Participant, Service, User
from ceasefire.models.enums import LAW_ENFORCEMENT_KINDS, ForumStatus, OrgKind, Role
from ceasefire.pages import (
    actor,
    attempt,
    form_values,
    keep,
    page_number,
    signed_in_blueprint,
)
from ceasefire.participants.forms import (
    ConsentForm,
    EnforceForm,
    FilterForm,
    InviteForm,
    NewParticipantForm,
    ParticipantForm,
    ReferralForm,
    VersionForm,
    event_form_class,
    options,
)
from ceasefire.services import audit, events, read, reports
from ceasefire.services import participants as participant_service
from ceasefire.services import referrals as referral_service
from ceasefire.web import safe_next

bp = signed_in_blueprint("participants", __name__, "/participants")

PER_PAGE = 50

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


# Choices the forms offer, from the database.


def _group_choices(blank: str) -> list[tuple[Any, str]]:
    groups = db.session.scalars(sa.select(Group).order_by(Group.name))
    return options([("", blank), *((g.id, g.name) for g in groups)])


def _caseworker_choices() -> list[tuple[Any, str]]:
    staff = db.session.scalars(
        sa.select(User)
        .where(User.role.in_([Role.CASEWORKER, Role.SUPERVISOR]), User.active.is_(True))
        .order_by(User.name)
    )
    return options([("", "Not assigned"), *((u.id, u.name) for u in staff)])


def _community_choices() -> list[tuple[Any, str]]:
    orgs = db.session.scalars(
        sa.select(Organization).where(Organization.kind == OrgKind.COMMUNITY).order_by(Organization.name)
    )
    return options([("", "Not assigned"), *((o.id, o.name) for o in orgs)])


def _participant_form(form_cls: type[ParticipantForm], user: User, **kwargs: Any) -> ParticipantForm:
    """The participant form with only the fields the user's role may see, and so may set."""
    form = form_cls(**kwargs)
    for name in list(form._fields):
        if name in participant_service.EDITABLE and not policy.sees(user.role, name):
            del form[name]
    if "group_id" in form:
        form.group_id.choices = _group_choices("No group")
    if "caseworker_id" in form:
        form.caseworker_id.choices = _caseworker_choices()
    if "community_org_id" in form:
        form.community_org_id.choices = _community_choices()
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
    if isinstance(form, InviteForm):
        forums = db.session.scalars(
            sa.select(Forum).where(Forum.status == ForumStatus.PLANNED).order_by(Forum.scheduled_at)
        )
        form.forum_id.choices = options([
            ("", "Choose a forum"), *((f.id, f"{f.title} — {f.location or 'place to be set'}") for f in forums)
        ])
    if isinstance(form, EnforceForm):
        agencies = db.session.scalars(
            sa.select(Organization)
            .where(Organization.kind.in_([k.value for k in LAW_ENFORCEMENT_KINDS]))
            .order_by(Organization.name)
        )
        form.agency_id.choices = options([("", "Choose an agency"), *((o.id, o.name) for o in agencies)])
    return form


def _referral_form(posted: bool = False) -> ReferralForm:
    """The referral form, read from the request only when it is the form that was posted."""
    form = ReferralForm() if posted else ReferralForm(formdata=None)
    services = db.session.execute(
        sa.select(Service, Organization.name)
        .join(Organization, Service.organization_id == Organization.id)
        .where(Service.active.is_(True))
        .order_by(Organization.name, Service.name)
    )
    form.service_id.choices = options([("", "Choose a service"), *((s.id, f"{s.name} ({org})") for s, org in services)])
    return form


def _version(form: Any) -> int:
    """The version the page was read at: the form's InputRequired has refused a post without it."""
    return cast(int, form.version.data)


# What a participant page shows, asked of the policy and the pipeline.


def _page(user: User, p: Participant, status: int = 200, error: ServiceError | None = None,
          referral_form: ReferralForm | None = None):
    """The participant page: the record the policy lets the role see, and the events the pipeline offers now."""
    record = read.participant_record(user, p, detail=True)
    may_update = policy.can(user, "participant.update")
    context: dict[str, Any] = {
        "p": record,
        "details": [(f, label) for f, label in DETAILS if record.has(f)],
        "events": [(e, event_form_class(e.name) is VersionForm) for e in pipeline.available_events(p, user)],
        "event_form": VersionForm(formdata=None, version=p.version),
        "may_edit": may_update,
        "may_open_referrals": policy.can(user, "referral.list"),
        "error": error,
    }
    if record.has("consent_to_share") and may_update:
        context["consent_form"] = ConsentForm(
            formdata=None, version=p.version, consent_to_share="no" if record.consent_to_share else "yes"
        )
    if record.has("referrals") and policy.can(user, "referral.create"):
        context["referral_form"] = referral_form or _referral_form()
    return render_template("participants/show.html", **context), status


# The pages.


@bp.get("/")
def index():
    user = actor()
    policy.require(user, "participant.list")
    form = FilterForm(formdata=request.args)
    sees_state = policy.sees(user.role, "state")
    sees_group = policy.sees(user.role, "group_id") and policy.can(user, "group.list")
    if not sees_state:
        del form.state
    if sees_group:
        form.group_id.choices = _group_choices("Any group")
    else:
        del form.group_id
    valid = form.validate()
    filters: dict[str, Any] = {}
    if valid:
        filters["q"] = form.q.data or None
        if sees_state:
            filters["state"] = form.state.data or None
        if sees_group:
            filters["group_id"] = form.group_id.data
    columns = [(f, label) for f, label in COLUMNS if policy.sees(user.role, f)]
    listing = read.participant_page(
        user, page_number(), PER_PAGE, clamp=True, only=("first_name", "last_name", *(f for f, _ in columns)),
        **filters,
    )
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "participants/index.html",
        form=form,
        listing=listing,
        columns=columns,
        args=args,
        may_create=policy.can(user, "participant.create"),
        identified=reports.identified_counts(user),
    ), 200 if valid else 422


@bp.route("/new", methods=["GET", "POST"])
def new():
    user = actor()
    policy.require(user, "participant.create")
    form = _participant_form(NewParticipantForm, user)
    error = None
    if form.validate_on_submit():
        participant, error = attempt(lambda: participant_service.create_participant(user, form_values(form)), form)
        if error is None:
            flash(f"{participant.full_name} was added.", "success")
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


@bp.route("/<int:participant_id>/edit", methods=["GET", "POST"])
def edit(participant_id: int):
    user = actor()
    participant = policy.get_participant(user, participant_id, "participant.update")
    if request.method == "GET":
        form = _participant_form(ParticipantForm, user, obj=participant)
    else:
        form = _participant_form(ParticipantForm, user)
    error = None
    if form.validate_on_submit():
        values = form_values(form, "version")
        _, error = attempt(
            lambda: participant_service.update_participant(user, participant, _version(form), values), form
        )
        if error is None:
            flash("The changes were saved.", "success")
            return redirect(url_for(".show", participant_id=participant.id))
    status = error.status if error else (422 if form.errors else 200)
    return render_template("participants/form.html", form=form, error=error, participant=participant), status


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
        _, error = attempt(
            lambda: events.perform(user, participant, _version(form), name, values), form
        )
        if error is None:
            flash(f"{ev.label}: done. {participant.full_name} is now {participant.state.value.replace('_', ' ')}.",
                  "success")
            return redirect(safe_next(request.form.get("next")) or url_for(".show", participant_id=participant.id))
    status = error.status if error else (422 if form.errors else 200)
    if error is not None and event_form_class(name) is VersionForm:
        return _page(user, participant, status, error)  # a one-button event: say why on the participant page
    return render_template("participants/event.html", participant=participant, ev=ev, form=form, error=error), status


@bp.post("/<int:participant_id>/consent")
def consent(participant_id: int):
    user = actor()
    participant = policy.get_participant(user, participant_id, "participant.update")
    form = ConsentForm()
    error = None
    if form.validate_on_submit():
        given = form.consent_to_share.data == "yes"
        _, error = attempt(lambda: participant_service.update_participant(
            user, participant, _version(form), {"consent_to_share": given}
        ), form)
        if error is None:
            flash("Consent to share recorded." if given else "Consent to share revoked.", "success")
            return redirect(url_for(".show", participant_id=participant.id))
    else:
        error = ValidationFailed("The consent form was incomplete; reload the page and try again.")
    return _page(user, participant, error.status, error)


@bp.post("/<int:participant_id>/referrals")
def send_referral(participant_id: int):
    user = actor()
    participant = policy.get_participant(user, participant_id, "referral.create")
    form = _referral_form(posted=True)
    error = None
    if form.validate_on_submit():
        service = db.session.get(Service, form.service_id.data)
        if service is None:
            raise NotFound("No such service.")
        _, error = attempt(lambda: referral_service.send_referral(user, participant, service, form.note.data), form)
        if error is None:
            flash(f"Referral sent to {service.name}.", "success")
            return redirect(url_for(".show", participant_id=participant.id) + "#referrals")
    else:
        error = ValidationFailed("Choose a service.")
    return _page(user, participant, error.status, error, referral_form=form)
