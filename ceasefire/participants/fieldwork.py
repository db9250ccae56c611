"""The participant page's field-work forms: notes, outreach contacts, custom notifications, outcomes and a further
enforcement action. Same blueprint and page as participants/views.py; create_app imports this module so that its
routes are registered."""

from __future__ import annotations

from datetime import date, datetime
from typing import cast

from flask import flash, redirect, render_template, request, url_for

from ceasefire import pipeline, policy
from ceasefire.errors import ValidationFailed
from ceasefire.lookup import fields as lookups
from ceasefire.models import User
from ceasefire.models.enums import OutcomeType
from ceasefire.pages import actor, attempt, form_values, to_utc
from ceasefire.participants.forms import CustomNotificationForm, OutreachForm
from ceasefire.participants.views import _event_form, _note_form, _outcome_form, _page, _version, bp
from ceasefire.services import events, fieldwork, outcomes

# Field work: notes, outreach contacts, custom notifications and outcomes.


@bp.post("/<int:participant_id>/notes")
def write_note(participant_id: int):
    user = actor()
    participant = policy.get_participant(user, participant_id, "note.create")
    form = _note_form(user, posted=True)
    error = None
    if form.validate_on_submit():
        _, error = attempt(lambda: fieldwork.write_note(user, participant, form.body.data, form.visibility.data), form)
        if error is None:
            flash("The note was saved.", "success")
            return redirect(url_for(".show", participant_id=participant.id) + "#timeline")
    else:
        error = ValidationFailed("The note needs some words, at most 5,000 characters, and who may read it.")
    return _page(user, participant, error.status, error, note_form=form)


@bp.post("/<int:participant_id>/outreach")
def log_outreach(participant_id: int):
    user = actor()
    participant = policy.get_participant(user, participant_id, "outreach.create")
    form = OutreachForm()
    error = None
    if form.validate_on_submit():
        _, error = attempt(lambda: fieldwork.log_outreach(
            user, participant, to_utc(cast(datetime, form.contacted_at.data)), form.kind.data, form.outcome.data
        ), form)
        if error is None:
            flash("The outreach contact was logged.", "success")
            return redirect(url_for(".show", participant_id=participant.id) + "#timeline")
    else:
        error = ValidationFailed("Say when the contact was, what kind, and what came of it.")
    return _page(user, participant, error.status, error, outreach_form=form)


def _custom_notification_form(user: User) -> CustomNotificationForm:
    form = CustomNotificationForm()
    lookups.prepare(form, user)
    return form


@bp.route("/<int:participant_id>/custom-notifications/new", methods=["GET", "POST"])
def record_custom_notification(participant_id: int):
    user = actor()
    participant = policy.get_participant(user, participant_id, "custom_notification.create")
    form = _custom_notification_form(user)
    error = None
    if form.validate_on_submit():
        _, error = attempt(lambda: fieldwork.record_custom_notification(
            user, participant, to_utc(cast(datetime, form.delivered_at.data)), form.place.data, form.message.data,
            form.response.data, form.team_user_ids.data or (), form.team_organization_ids.data or (),
        ), form)
        if error is None:
            flash("The custom notification was recorded.", "success")
            return redirect(url_for(".show", participant_id=participant.id) + "#timeline")
    status = error.status if error else (422 if form.errors else 200)
    return render_template("participants/custom_notification.html", participant=participant, form=form,
                           error=error), status


@bp.post("/<int:participant_id>/outcomes")
def record_outcome(participant_id: int):
    user = actor()
    participant = policy.get_participant(user, participant_id, "outcome.create")
    form = _outcome_form(user, posted=True)
    error = None
    if form.validate_on_submit():
        _, error = attempt(lambda: outcomes.record_outcome(
            user, participant, OutcomeType(form.type.data), cast(date, form.occurred_on.data), form.note.data
        ), form)
        if error is None:
            flash("The outcome was recorded.", "success")
            return redirect(url_for(".show", participant_id=participant.id) + "#outcomes")
    else:
        error = ValidationFailed("Choose what happened and the day it happened.")
    return _page(user, participant, error.status, error, outcome_form=form)


@bp.route("/<int:participant_id>/enforcement", methods=["GET", "POST"])
def add_enforcement(participant_id: int):
    """A further enforcement action on a participant already enforced (a second arrest): no state change."""
    user = actor()
    participant = policy.get_participant(user, participant_id)
    ev = pipeline.authorize("enforce", user).event
    form = _event_form("enforce", user, participant)
    error = None
    if request.method == "GET":
        events.check_add_enforcement(user, participant)
    elif form.validate_on_submit():
        values = form_values(form, "version")
        _, error = attempt(lambda: events.add_enforcement(
            user, participant, _version(form), values["action_type"], values["occurred_on"], values["agency_id"],
            values["description"], values["incident_ref"],
        ), form)
        if error is None:
            flash(f"A further enforcement action was recorded for {participant.full_name}.", "success")
            return redirect(url_for(".show", participant_id=participant.id) + "#enforcement-h")
    status = error.status if error else (422 if form.errors else 200)
    return render_template("participants/event.html", participant=participant, ev=ev, form=form, error=error,
                           heading="Record a further enforcement action",
                           action=url_for(".add_enforcement", participant_id=participant.id)), status
