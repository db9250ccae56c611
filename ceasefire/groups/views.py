"""Street group pages: the list, a new group, one group (its members and the enforcement recorded against it),
editing it, and recording an enforcement action against the whole group.

What each role sees of a group is the read side's (ceasefire.services.group_read, after policy.GROUP_FIELDS):
caseworkers the name alone, police and supervisors everything. Recording enforcement against the group is one call
of ceasefire.services.groups.enforce_group, which writes every member's action or none.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from ceasefire import policy
from ceasefire.groups.forms import GroupEnforceForm, GroupForm
from ceasefire.models import Group, User
from ceasefire.pages import actor, attempt, form_values, keep, page_number, signed_in_blueprint, words
from ceasefire.participants.forms import options
from ceasefire.services import audit, catalog, group_read
from ceasefire.services import groups as group_service

bp = signed_in_blueprint("groups", __name__, "/groups")

PER_PAGE = 50


def _status(error: Any, form: Any) -> int:
    return error.status if error else (422 if form.errors else 200)


@bp.get("/")
def index():
    user = actor()
    listing = group_read.group_page(user, page_number(), PER_PAGE, clamp=True)
    return render_template("groups/index.html", listing=listing, fields=policy.group_fields(user.role),
                           may_create=policy.can(user, "group.create"))


@bp.route("/new", methods=["GET", "POST"])
def new():
    user = actor()
    policy.require(user, "group.create")
    form = GroupForm()
    error = None
    if form.validate_on_submit():
        group, error = attempt(lambda: catalog.create_group(user, form_values(form)), form)
        if error is None:
            flash(f"The group “{group.name}” was added.", "success")
            return redirect(url_for(".show", group_id=group.id))
    return render_template("groups/form.html", form=form, error=error, group=None), _status(error, form)


@bp.get("/<int:group_id>")
def show(group_id: int):
    user = actor()
    group = policy.get_group(user, group_id)
    record = group_read.group_record(user, group)
    audit.record(user, "view", "group", group.id)
    keep()
    return render_template("groups/show.html", group=record, may_edit=policy.can(user, "group.update"),
                           may_enforce=policy.can(user, "group.enforce"))


@bp.route("/<int:group_id>/edit", methods=["GET", "POST"])
def edit(group_id: int):
    user = actor()
    group = policy.get_group(user, group_id, "group.update")
    form = GroupForm(obj=group) if request.method == "GET" else GroupForm()
    error = None
    if form.validate_on_submit():
        _, error = attempt(lambda: group_service.update_group(user, group, form_values(form)), form)
        if error is None:
            flash("The changes were saved.", "success")
            return redirect(url_for(".show", group_id=group.id))
    return render_template("groups/form.html", form=form, error=error, group=group), _status(error, form)


def _enforce_form(user: User, group: Group) -> GroupEnforceForm:
    """The form with the group's members to choose from (their state beside each name) and the agencies."""
    form = GroupEnforceForm(**({"agency_id": user.organization_id} if request.method == "GET" else {}))
    form.members.choices = [
        (m.participant.id, f"{m.participant.full_name} — {words(m.participant.state)}")
        for m in group_read.members(user, group)
    ]
    agencies = catalog.law_enforcement_agencies()
    form.agency_id.choices = options([("", "Choose an agency"), *((o.id, o.name) for o in agencies)])
    return form


@bp.route("/<int:group_id>/enforcement", methods=["GET", "POST"])
def enforce(group_id: int):
    user = actor()
    group = policy.get_group(user, group_id, "group.enforce")
    form = _enforce_form(user, group)
    error = None
    if form.validate_on_submit():
        values = form_values(form)
        action, error = attempt(lambda: group_service.enforce_group(
            user, group, values["members"], values["action_type"], values["occurred_on"], values["agency_id"],
            values["description"], values["incident_ref"],
        ), form)
        if action is not None:
            touched = len(action.actions)
            flash(f"Enforcement against {group.name} was recorded for {touched} "
                  f"member{'s' if touched != 1 else ''}.", "success")
            return redirect(url_for(".show", group_id=group.id) + "#history-h")
    return render_template("groups/enforce.html", group=group, form=form, error=error), _status(error, form)
