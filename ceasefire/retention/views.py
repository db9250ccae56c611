"""Due process pages: the review queue and one review (supervisors), removal requests (caseworkers file them,
supervisors decide), the identification criteria list, and the printable notice and decision letters.

Each view loads (404), checks the policy (403), calls one service, commits once, then redirects or renders.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, url_for

from ceasefire import policy
from ceasefire.errors import InvalidTransition, NotFound, ServiceError, ValidationFailed
from ceasefire.extensions import db
from ceasefire.models import IdentificationCriterion, Participant, RemovalRequest, User
from ceasefire.models.enums import RemovalStatus
from ceasefire.pages import actor, attempt, keep, page_number, signed_in_blueprint
from ceasefire.retention.forms import CriterionForm, DecisionForm, RemovalRequestForm, RetireForm, ReviewForm
from ceasefire.services import audit, read, retention, retention_read
from ceasefire.services.clock import program_today

bp = signed_in_blueprint("retention", __name__, "")

PER_PAGE = 50


def _program() -> dict[str, str]:
    config = current_app.config
    return {"name": config["PROGRAM_NAME"], "address": config["PROGRAM_ADDRESS"], "contact": config["PROGRAM_CONTACT"]}


# Reviews


@bp.get("/reviews/")
def reviews():
    user = actor()
    policy.require(user, "review.list")
    listing = retention_read.review_page(user, page_number(), PER_PAGE, clamp=True, detail=True)
    return render_template("retention/reviews.html", listing=listing, today=program_today())


def _review_page(user: User, participant: Participant, form: ReviewForm | None = None,
                 error: ServiceError | None = None, status: int = 200):
    record = read.participant_record(user, participant)
    return render_template(
        "retention/review.html", p=record, since=retention.history_since(participant), today=program_today(),
        form=form or ReviewForm(formdata=None), error=error,
    ), status


@bp.get("/reviews/<int:participant_id>")
def review(participant_id: int):
    user = actor()
    policy.require(user, "review.decide")
    participant = policy.get_participant(user, participant_id, "review.decide")
    audit.record(user, "view", "participant", participant.id, "review")
    keep()
    return _review_page(user, participant)


@bp.post("/reviews/<int:participant_id>")
def decide_review(participant_id: int):
    user = actor()
    policy.require(user, "review.decide")
    participant = policy.get_participant(user, participant_id, "review.decide")
    form = ReviewForm()
    if not form.validate_on_submit():
        return _review_page(user, participant, form, ValidationFailed("Give the reason for the decision."), 422)
    decision = form.decision.data or ""
    _, error = attempt(lambda: retention.review(user, participant, decision, form.reason.data), form)
    if error is not None:
        return _review_page(user, participant, form, error, error.status)
    if decision == "purge":
        flash(f"Participant {participant.id} was purged: their identifying details are erased; the counts stay.",
              "success")
    else:
        flash(f"Kept on the list; the next review is due on {participant.review_due_on}.", "success")
    return redirect(url_for(".reviews"))


# Removal requests


@bp.get("/removal-requests/")
def removal_requests():
    user = actor()
    policy.require(user, "removal_request.list")
    queue = retention_read.removal_queue(user, 1, 200) if policy.can(user, "removal_request.decide") else None
    listing = retention_read.removal_request_page(user, page_number(), PER_PAGE, clamp=True)
    return render_template("retention/requests.html", queue=queue, listing=listing)


@bp.route("/participants/<int:participant_id>/removal-requests/new", methods=["GET", "POST"])
def file_request(participant_id: int):
    user = actor()
    policy.require(user, "removal_request.create")
    participant = policy.get_participant(user, participant_id, "removal_request.create")
    form = RemovalRequestForm()
    error = None
    if form.validate_on_submit():
        request, error = attempt(lambda: retention.file_removal_request(
            user, participant, form.received_on.data, form.requested_by.data, form.grounds.data
        ), form)
        if error is None and request is not None:
            flash(f"Removal request recorded; the decision is due by {request.due_on}.", "success")
            return redirect(url_for(".removal_request", removal_request_id=request.id))
    status = error.status if error else (422 if form.errors else 200)
    record = read.participant_record(user, participant)
    return render_template("retention/file_request.html", p=record, form=form, error=error), status


def _request_page(user: User, request: RemovalRequest, form: DecisionForm | None = None,
                  error: ServiceError | None = None, status: int = 200):
    return render_template(
        "retention/request.html", r=retention_read.removal_request_record(user, request),
        form=form or DecisionForm(formdata=None), may_decide=policy.can(user, "removal_request.decide"), error=error,
    ), status


@bp.get("/removal-requests/<int:removal_request_id>")
def removal_request(removal_request_id: int):
    user = actor()
    request = retention.get_removal_request(user, removal_request_id)
    return _request_page(user, request)


@bp.post("/removal-requests/<int:removal_request_id>")
def decide_request(removal_request_id: int):
    user = actor()
    policy.require(user, "removal_request.decide")
    request = retention.get_removal_request(user, removal_request_id, "removal_request.decide")
    form = DecisionForm()
    if not form.validate_on_submit():
        return _request_page(user, request, form, ValidationFailed("Give the reason for the decision."), 422)
    _, error = attempt(lambda: retention.decide(user, request, form.decision.data or "", form.reason.data), form)
    if error is not None:
        return _request_page(user, request, form, error, error.status)
    flash(f"Removal request {request.id} {request.status.value}.", "success")
    return redirect(url_for(".removal_request", removal_request_id=request.id))


@bp.get("/removal-requests/<int:removal_request_id>/letter")
def decision_letter(removal_request_id: int):
    user = actor()
    policy.require(user, "removal_request.decide")
    request = retention.get_removal_request(user, removal_request_id, "removal_request.decide")
    if request.status == RemovalStatus.OPEN:
        raise InvalidTransition("This request has not been decided yet: there is no decision letter to print.")
    record = retention_read.removal_request_record(user, request)
    return render_template("retention/decision_letter.html", r=record, program=_program())


# The notice


@bp.get("/participants/<int:participant_id>/notice")
def notice(participant_id: int):
    user = actor()
    policy.require(user, "participant.notice")
    participant = policy.get_participant(user, participant_id, "participant.notice")
    audit.record(user, "view", "participant", participant.id, "notice")
    keep()
    return render_template("retention/notice.html", p=read.participant_record(user, participant),
                           program=_program(), today=program_today(), removal_days=retention.REMOVAL_DAYS)


# Identification criteria


def _criteria_page(user: User, form: CriterionForm | None = None, error: ServiceError | None = None,
                   status: int = 200):
    context: dict[str, Any] = {
        "criteria": retention.all_criteria(user), "form": form or CriterionForm(formdata=None),
        "retire_form": RetireForm(formdata=None), "error": error,
    }
    return render_template("retention/criteria.html", **context), status


@bp.route("/criteria/", methods=["GET", "POST"])
def criteria():
    user = actor()
    policy.require(user, "criterion.manage")
    form = CriterionForm()
    if form.validate_on_submit():
        _, error = attempt(lambda: retention.add_criterion(user, form.name.data or ""), form)
        if error is None:
            flash("The criterion was added.", "success")
            return redirect(url_for(".criteria"))
        return _criteria_page(user, form, error, error.status)
    status = 422 if form.errors else 200
    return _criteria_page(user, form if form.errors else None, status=status)


@bp.post("/criteria/retire")
def retire_criterion():
    user = actor()
    policy.require(user, "criterion.manage")
    form = RetireForm()
    criterion = db.session.get(IdentificationCriterion, form.criterion_id.data) if form.validate_on_submit() else None
    if criterion is None:
        raise NotFound("No such criterion.")
    _, error = attempt(lambda: retention.retire_criterion(user, criterion))
    if error is not None:
        return _criteria_page(user, error=error, status=error.status)
    flash(f"“{criterion.name}” was retired; those identified by it keep it.", "success")
    return redirect(url_for(".criteria"))
