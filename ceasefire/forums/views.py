"""Forum pages: the list, a new forum, and one forum with its invitations (a check-in list at the door).

Which invitations a user sees is the API's rule (ceasefire.api.serialize.forum_with_invitations), asked here
rather than written twice; the check-in button fires the pipeline's "attend" through the participant pages.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, url_for

from ceasefire import pipeline, policy
from ceasefire.api.serialize import forum_with_invitations
from ceasefire.errors import NotFound
from ceasefire.extensions import db
from ceasefire.forums.forms import ForumForm
from ceasefire.models import Forum
from ceasefire.participants.forms import VersionForm
from ceasefire.participants.pages import actor, attempt, local_zone, paginate, signed_in_blueprint, to_utc
from ceasefire.services import catalog, events

bp = signed_in_blueprint("forums", __name__, "/forums")

PER_PAGE = 50


@bp.get("/")
def index():
    user = actor()
    policy.require(user, "forum.list")
    query = sa.select(Forum).order_by(Forum.scheduled_at.desc(), Forum.id.desc())
    listing = paginate(query, PER_PAGE)
    return render_template("forums/index.html", forums=listing.rows, page=listing.page, pages=listing.pages,
                           may_create=policy.can(user, "forum.create"))


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
    policy.require_kind(user, "forum")
    forum = db.session.get(Forum, forum_id)
    if forum is None:
        raise NotFound("No such forum.")
    policy.require(user, "forum.list")
    visible = {row["participant_id"] for row in forum_with_invitations(user, forum)["invitations"]}
    rows = []
    for invitation in forum.invitations:
        if invitation.participant_id not in visible:
            continue
        participant = invitation.participant
        check_in = None
        if (
            invitation.attended is None
            and pipeline.may(participant, "attend", user)
            and events.open_invitation(participant) is invitation
        ):
            check_in = VersionForm(formdata=None, version=participant.version)
        rows.append((invitation, participant, check_in))
    rows.sort(key=lambda row: (row[1].last_name.lower(), row[1].first_name.lower(), row[1].id))
    return render_template("forums/show.html", forum=forum, rows=rows,
                           sees_invitations=policy.sees(user.role, "state"))
