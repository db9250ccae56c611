"""A forum's working pages, on the forums blueprint: inviting several people at once, the door (check-in on a tablet,
and inviting on the spot someone who is not on the roster), and the close-out after the forum.

Each posts to one verb of ceasefire.services.roster (which calls the pipeline's own, services.events) and commits
once; a refusal shows the page again with its message and nothing kept.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from ceasefire import policy
from ceasefire.errors import ServiceError, ValidationFailed
from ceasefire.forums.forms import ConfirmForm
from ceasefire.forums.views import bp, search
from ceasefire.models import Forum, User
from ceasefire.models.enums import DeliveryMethod, ForumStatus
from ceasefire.pages import actor, attempt, page_number
from ceasefire.services import read, roster

DOOR_PER_PAGE = 30
CANDIDATES_PER_PAGE = 30
DOOR_MATCHES = 8
METHODS = [(m.value, m.value.replace("_", " ").capitalize()) for m in DeliveryMethod]


def _int_arg(name: str) -> int:
    value = request.values.get(name, 1, type=int) or 1
    return min(max(value, 1), 10**6)


# Inviting several people at once


@bp.route("/<int:forum_id>/invite", methods=["GET", "POST"])
def invite(forum_id: int):
    user = actor()
    forum = policy.get_forum(user, forum_id, "forum.invite")
    form = ConfirmForm()
    error: ServiceError | None = None
    posted: dict[str, Any] = {}
    if request.method == "POST":
        ids = request.form.getlist("participant_id")
        posted = {"ids": set(ids), "methods": {i: request.form.get(f"method-{i}", "") for i in ids}}
        if not form.validate_on_submit():
            error = ValidationFailed("The form was incomplete; reload the page and try again.")
        else:
            choices = [roster.Choice(i, request.form.get(f"version-{i}"), request.form.get(f"method-{i}"))
                       for i in ids]
            invited, error = attempt(lambda: roster.invite_many(user, forum, choices))
            if invited is not None:
                flash(f"Invited {len(invited)}: " + "; ".join(inv.participant.full_name for inv in invited) + ".",
                      "success")
                return redirect(url_for(".show", forum_id=forum.id))
    q = search()
    listing = roster.candidates(user, _int_arg("page"), CANDIDATES_PER_PAGE, q)
    return render_template(
        "forums/invite.html", forum=read.forum_records([forum])[0], listing=listing, q=q, form=form,
        error=error, methods=METHODS, posted=posted, planned=forum.status == ForumStatus.PLANNED,
    ), (error.status if error else 200)


# The door


def _door_page(user: User, forum: Forum, q: str, page: int, error: ServiceError | None = None):
    listing = roster.roster_page(user, forum, page, DOOR_PER_PAGE, q)
    may_invite = policy.can(user, "forum.invite") and forum.status == ForumStatus.PLANNED
    matches = roster.candidates(user, 1, DOOR_MATCHES, q) if (q and may_invite) else None
    return render_template(
        "forums/door.html", forum=read.forum_records([forum])[0], listing=listing, counts=roster.counts(user, forum),
        q=q, form=ConfirmForm(), error=error, matches=matches, methods=METHODS,
        day_has_come=roster.day_has_come(forum),
    ), (error.status if error else 200)


def _back_to_door(forum: Forum, participant_id: Any):
    """Back to the door as it was (the search and the page), at the row of the person just handled."""
    q = (request.form.get("q") or "").strip()[:100]
    page = _int_arg("page")
    anchor = f"p-{participant_id}" if str(participant_id).isdigit() else None
    return redirect(url_for(".door", forum_id=forum.id, q=q or None, page=page if page > 1 else None,
                            _anchor=anchor))


@bp.get("/<int:forum_id>/door")
def door(forum_id: int):
    user = actor()
    forum = policy.get_forum(user, forum_id, "forum.door")
    return _door_page(user, forum, search(), page_number())


@bp.post("/<int:forum_id>/door/check-in")
def door_check_in(forum_id: int):
    user = actor()
    forum = policy.get_forum(user, forum_id, "forum.door")
    form = ConfirmForm()
    participant_id = request.form.get("participant_id")
    if not form.validate_on_submit():
        error: ServiceError | None = ValidationFailed("The form was incomplete; reload the page and try again.")
    else:
        invitation, error = attempt(lambda: roster.check_in_at(
            user, forum, participant_id, request.form.get("version")))
        if invitation is not None:
            flash(f"{invitation.participant.full_name} is checked in.", "success")
            return _back_to_door(forum, participant_id)
    q = (request.form.get("q") or "").strip()[:100]
    return _door_page(user, forum, q, _int_arg("page"), error)


@bp.post("/<int:forum_id>/door/invite")
def door_invite(forum_id: int):
    """Someone at the door who is not on the roster: found by the search, invited on the spot."""
    user = actor()
    forum = policy.get_forum(user, forum_id, "forum.invite")
    form = ConfirmForm()
    participant_id = request.form.get("participant_id")
    if not form.validate_on_submit():
        error: ServiceError | None = ValidationFailed("The form was incomplete; reload the page and try again.")
    else:
        choice = roster.Choice(participant_id, request.form.get("version"), request.form.get("method"))
        invited, error = attempt(lambda: roster.invite_many(user, forum, [choice]))
        if invited is not None:
            flash(f"{invited[0].participant.full_name} is on the roster now.", "success")
            return _back_to_door(forum, participant_id)
    q = (request.form.get("q") or "").strip()[:100]
    return _door_page(user, forum, q, _int_arg("page"), error)


# After the forum


@bp.route("/<int:forum_id>/close-out", methods=["GET", "POST"])
def close_out(forum_id: int):
    """Everyone invited and not checked in, named; confirming marks them no-show and the forum held."""
    user = actor()
    forum = policy.get_forum(user, forum_id, "forum.close_out")
    form = ConfirmForm()
    error: ServiceError | None = None
    if request.method == "POST":
        if not form.validate_on_submit():
            error = ValidationFailed("The form was incomplete; reload the page and try again.")
        else:
            missed, error = attempt(lambda: roster.close_out(user, forum, request.form.getlist("participant_id")))
            if missed is not None:
                flash(f"{len(missed)} marked no-show; the forum is held.", "success")
                return redirect(url_for(".show", forum_id=forum.id))
    return render_template(
        "forums/close_out.html", forum=read.forum_records([forum])[0], missing=roster.open_invitees(user, forum),
        counts=roster.counts(user, forum), form=form, error=error, day_has_come=roster.day_has_come(forum),
    ), (error.status if error else 200)
