"""Forum pages: the list, a new forum, and one forum with its invitations (a check-in list at the door).

Which invitations a user sees, with which fields, and who may be checked in now is the read side's
(ceasefire.services.read.forum_record, after policy.INVITATION_FIELDS), the same as the API's; the check-in
button fires the pipeline's "attend" through the participant pages.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for

from ceasefire import policy
from ceasefire.forums.forms import ForumForm
from ceasefire.pages import actor, attempt, local_zone, page_number, signed_in_blueprint, to_utc
from ceasefire.participants.forms import VersionForm
from ceasefire.services import catalog, read
from ceasefire.services.records import ParticipantRecord

bp = signed_in_blueprint("forums", __name__, "/forums")

PER_PAGE = 50


@bp.get("/")
def index():
    user = actor()
    listing = read.forum_page(user, page_number(), PER_PAGE, clamp=True)
    return render_template("forums/index.html", listing=listing, may_create=policy.can(user, "forum.create"))


@bp.route("/new", methods=["GET", "POST"])
def new():
    user = actor()
    policy.require(user, "forum.create")
    form = ForumForm()
    error = None
    if form.validate_on_submit():
        forum, error = attempt(lambda: catalog.create_forum(
            user, form.title.data, to_utc(form.scheduled_at.data), form.location.data, form.speakers.data,
            form.notes.data,
        ), form)
        if error is None:
            flash(f"The forum “{forum.title}” was created.", "success")
            return redirect(url_for(".show", forum_id=forum.id))
    status = error.status if error else (422 if form.errors else 200)
    return render_template("forums/form.html", form=form, error=error, zone=local_zone().key), status


@bp.get("/<int:forum_id>")
def show(forum_id: int):
    user = actor()
    forum = policy.get_forum(user, forum_id)
    record = read.forum_record(user, forum, roster=True)
    check_in = {
        inv.participant_id: VersionForm(formdata=None, version=inv.participant.version)
        for inv in record.invitations if inv.may_check_in and isinstance(inv.participant, ParticipantRecord)
    }
    return render_template("forums/show.html", forum=record, check_in=check_in,
                           sees_invitations=bool(policy.invitation_fields(user.role)))
