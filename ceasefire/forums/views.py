"""Forum pages: the list, a new forum, one forum with its roster (a page at a time, searched by name), editing,
cancelling and marking a forum held, and the printable roster. The door and the close-out are in
ceasefire.forums.door, on the same blueprint.

Which invitations a user sees, with which fields, and who may be checked in now is the read side's
(ceasefire.services.roster, after policy.INVITATION_FIELDS), the same as the API's. Editing, cancelling and marking
held go through catalog.update_forum, the verb of PATCH /forums/{id}.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from ceasefire import policy
from ceasefire.forums.forms import ConfirmForm, ForumForm
from ceasefire.models import Forum
from ceasefire.models.enums import ForumStatus
from ceasefire.pages import actor, attempt, local_zone, page_number, signed_in_blueprint, to_utc
from ceasefire.services import catalog, read, roster

bp = signed_in_blueprint("forums", __name__, "/forums")

PER_PAGE = 50  # forums on the list, and names on a forum's roster
# The printout: one sheet per 25 names, four sheets to a printed page of the list at most.
PRINT_SHEET = 25
PRINT_PER_PAGE = 100


@bp.get("/")
def index():
    user = actor()
    listing = read.forum_page(user, page_number(), PER_PAGE, clamp=True)
    return render_template("forums/index.html", listing=listing, may_create=policy.can(user, "forum.create"))


def _form_page(form: ForumForm, error: Any, forum: Forum | None = None):
    status = error.status if error else (422 if form.errors else 200)
    return render_template("forums/form.html", form=form, error=error, zone=local_zone().key, forum=forum), status


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
    return _form_page(form, error)


def search() -> str:
    return (request.args.get("q") or "").strip()[:100]


@bp.get("/<int:forum_id>")
def show(forum_id: int):
    user = actor()
    forum = policy.get_forum(user, forum_id)
    [record] = read.forum_records([forum])  # without invitations: the roster comes a page at a time
    sees_invitations = policy.can(user, "forum.roster")
    q = search()
    listing = roster.roster_page(user, forum, page_number(), PER_PAGE, q) if sees_invitations else None
    counts = roster.counts(user, forum) if sees_invitations else None
    return render_template(
        "forums/show.html", forum=record, listing=listing, counts=counts, q=q, sees_invitations=sees_invitations,
        may=_may(user, forum), confirm=ConfirmForm(), day_has_come=roster.day_has_come(forum),
    )


def _may(user, forum: Forum) -> dict[str, bool]:
    """The forum page's links and buttons, as the policy says (and only while the forum is planned, for changes)."""
    planned = forum.status == ForumStatus.PLANNED
    return {
        "edit": policy.can(user, "forum.update"),
        "cancel": planned and policy.can(user, "forum.update"),
        "held": planned and policy.can(user, "forum.update"),
        "invite": planned and policy.can(user, "forum.invite"),
        "door": policy.can(user, "forum.door"),
        "print": policy.can(user, "forum.roster"),
        "close_out": planned and policy.can(user, "forum.close_out"),
    }


@bp.route("/<int:forum_id>/edit", methods=["GET", "POST"])
def edit(forum_id: int):
    user = actor()
    forum = policy.get_forum(user, forum_id, "forum.update")
    if request.method == "GET":
        form = ForumForm(formdata=None, title=forum.title, location=forum.location, speakers=forum.speakers,
                         notes=forum.notes,
                         scheduled_at=forum.scheduled_at.astimezone(local_zone()).replace(tzinfo=None))
    else:
        form = ForumForm()
    error = None
    if form.validate_on_submit() and form.scheduled_at.data is not None:
        when = to_utc(form.scheduled_at.data)
        _, error = attempt(lambda: catalog.update_forum(user, forum, {
            "title": form.title.data, "scheduled_at": when, "location": form.location.data,
            "speakers": form.speakers.data, "notes": form.notes.data,
        }), form)
        if error is None:
            flash("The forum was saved.", "success")
            return redirect(url_for(".show", forum_id=forum.id))
    return _form_page(form, error, forum)


def _set_status(forum_id: int, status: ForumStatus, done: str):
    user = actor()
    forum = policy.get_forum(user, forum_id, "forum.update")
    form = ConfirmForm()
    if request.method == "POST" and form.validate_on_submit():
        _, error = attempt(lambda: catalog.update_forum(user, forum, {"status": status.value}))
        if error is None:
            flash(done, "success")
            return redirect(url_for(".show", forum_id=forum.id))
    else:
        error = None
    status_code = error.status if error else (422 if request.method == "POST" else 200)
    return render_template("forums/confirm_status.html", forum=forum, status=status, form=form, error=error,
                           invited=roster.counts(user, forum).expected), status_code


@bp.route("/<int:forum_id>/cancel", methods=["GET", "POST"])
def cancel(forum_id: int):
    """Cancelling asks first: the confirmation says how many were invited; a cancelled forum is final."""
    return _set_status(forum_id, ForumStatus.CANCELLED, "The forum was cancelled.")


@bp.route("/<int:forum_id>/held", methods=["GET", "POST"])
def held(forum_id: int):
    return _set_status(forum_id, ForumStatus.HELD, "The forum is marked held.")


@bp.get("/<int:forum_id>/print")
def printout(forum_id: int):
    """The roster to print and sign at the door: one sheet per 25 names, no navigation (static/roster-print.css)."""
    user = actor()
    forum = policy.get_forum(user, forum_id, "forum.roster")
    listing = roster.roster_page(user, forum, page_number(), PRINT_PER_PAGE)
    items = list(listing.items)
    sheets = [items[i:i + PRINT_SHEET] for i in range(0, len(items), PRINT_SHEET)] or [[]]
    first = (listing.page - 1) * PRINT_PER_PAGE
    return render_template("forums/print.html", forum=read.forum_records([forum])[0], listing=listing,
                           sheets=sheets, first=first, sheet_size=PRINT_SHEET)


from ceasefire.forums import door  # noqa: E402, F401 - the door and close-out routes, on this blueprint
