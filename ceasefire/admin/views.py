"""The admin pages: users, organizations and services, for admins alone (every other role 403, whatever the id, so
no page tells another role which users exist). An admin never sees a participant here or anywhere.

Each view loads (404), calls one service, commits once, then redirects or renders; who may do what is
ceasefire.policy's, the rules are the services'.
"""

from __future__ import annotations

from typing import Any, cast

from flask import flash, redirect, render_template, request, url_for

from ceasefire import policy
from ceasefire.admin.forms import (
    NameFilterForm,
    NewUserForm,
    OrganizationForm,
    ServiceForm,
    UserFilterForm,
    UserForm,
)
from ceasefire.auth.forms import EmptyForm
from ceasefire.errors import NotFound
from ceasefire.extensions import db
from ceasefire.lookup import fields as lookups
from ceasefire.models import Organization, Service, User
from ceasefire.models.enums import Role
from ceasefire.pages import actor, attempt, form_values, page_number, signed_in_blueprint
from ceasefire.services import catalog, directory, staff

bp = signed_in_blueprint("admin", __name__, "/admin")
PER_PAGE = 50


@bp.before_request
def _admins_only() -> None:
    policy.require(actor(), "user.list")


def _load(model: Any, ident: int, what: str) -> Any:
    record = db.session.get(model, ident)
    if record is None:
        raise NotFound(f"No such {what}.")
    return record


def _organization_choices(form: UserForm | ServiceForm) -> None:
    """The organization field: a select of a small program's organizations, a typed name in a large one's."""
    lookups.prepare(form, actor())


def _status(form: Any, error: Any) -> int:
    return error.status if error else (422 if form.errors else 200)


# Home


@bp.get("/")
def index():
    return render_template("admin/index.html", counts=directory.counts(actor()))


# Users


ORG_HINT = ("Police users belong to a police, probation, parole or prosecutor's office; provider and community "
            "users to an organization of their kind; caseworkers, supervisors and admins need none.")


@bp.get("/users/")
def users():
    form = UserFilterForm(formdata=request.args)
    valid = form.validate()
    filters: dict[str, Any] = {}
    if valid:
        filters = {"q": form.q.data or None, "role": Role(form.role.data) if form.role.data else None,
                   "active": {"active": True, "inactive": False}.get(form.status.data or "")}
    listing = directory.user_page(actor(), page_number(), PER_PAGE, **filters)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("admin/users.html", form=form, listing=listing, args=args), 200 if valid else 422


def _password_page(user: User, temporary: str, created: bool):
    return render_template("admin/password.html", user=directory.user_row(actor(), user), temporary=temporary,
                           created=created)


@bp.route("/users/new", methods=["GET", "POST"])
def new_user():
    form = NewUserForm()
    _organization_choices(form)
    error = None
    if form.validate_on_submit():
        made, error = attempt(lambda: staff.create_user(
            actor(), form.name.data, form.email.data, Role(form.role.data), form.organization_id.data), form)
        if made is not None:
            return _password_page(made[0], made[1], created=True)
    return render_template("admin/user_form.html", form=form, error=error, user=None, hint=ORG_HINT), \
        _status(form, error)


def _user_page(user: User, form: UserForm, error: Any = None, status: int = 200):
    return render_template("admin/user_form.html", form=form, error=error, user=directory.user_row(actor(), user),
                           hint=ORG_HINT, button=EmptyForm(formdata=None), itself=user.id == actor().id), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user(user_id: int):
    person = _load(User, user_id, "user")
    form = UserForm(obj=person) if request.method == "GET" else UserForm()
    _organization_choices(form)
    error = None
    if form.validate_on_submit():
        role, organization_id = person.role, person.organization_id
        _, error = attempt(
            lambda: staff.update_user(actor(), person, form.role.data, form.organization_id.data), form
        )
        if error is None:
            flash(_user_changed(person, role, organization_id), "success")
            return redirect(url_for(".user", user_id=person.id))
    return _user_page(person, form, error, _status(form, error))


def _user_changed(person: User, role: Role, organization_id: int | None) -> str:
    """What an admin changed, as they would say it: "Dana Rivera is now a supervisor and works for Hope Jobs"."""
    said = []
    if person.role != role:
        said.append(f"is now {'an' if person.role.value[0] in 'aeiou' else 'a'} {person.role.value}")
    if person.organization_id != organization_id:
        org = person.organization
        said.append(f"works for {org.name}" if org else "belongs to no organization")
    return f"{person.name} " + (" and ".join(said) if said else "is unchanged") + "."


def _set_active(user_id: int, active: bool):
    person = _load(User, user_id, "user")
    form = EmptyForm()
    if not form.validate_on_submit():
        return redirect(url_for(".user", user_id=person.id))
    _, error = attempt(lambda: staff.set_active(actor(), person, active))
    if error is not None:
        return _user_page(person, UserForm(obj=person), error, error.status)
    flash(f"{person.name} can sign in again." if active else f"{person.name} is deactivated and signed out.",
          "success")
    return redirect(url_for(".user", user_id=person.id))


@bp.post("/users/<int:user_id>/deactivate")
def deactivate(user_id: int):
    return _set_active(user_id, False)


@bp.post("/users/<int:user_id>/reactivate")
def reactivate(user_id: int):
    return _set_active(user_id, True)


@bp.post("/users/<int:user_id>/reset-password")
def reset_password(user_id: int):
    person = _load(User, user_id, "user")
    form = EmptyForm()
    if not form.validate_on_submit():
        return redirect(url_for(".user", user_id=person.id))
    temporary, error = attempt(lambda: staff.reset_password(actor(), person))
    if error is not None:
        return _user_page(person, UserForm(obj=person), error, error.status)
    return _password_page(person, cast(str, temporary), created=False)


# Organizations


def _searched(page: Any, template: str):
    """A list with its search box: part of a name (a bad one is a 422 with its message, and the whole list)."""
    form = NameFilterForm(formdata=request.args)
    valid = form.validate()
    listing = page(actor(), page_number(), PER_PAGE, q=form.q.data if valid else None)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(template, form=form, listing=listing, args=args if valid else {}), 200 if valid else 422


@bp.get("/organizations/")
def organizations():
    return _searched(directory.organization_page, "admin/organizations.html")


@bp.route("/organizations/new", methods=["GET", "POST"])
def new_organization():
    form = OrganizationForm()
    error = None
    if form.validate_on_submit():
        org, error = attempt(lambda: catalog.create_organization(actor(), form_values(form)), form)
        if error is None:
            flash(f"{org.name} was added.", "success")
            return redirect(url_for(".organizations"))
    return render_template("admin/organization_form.html", form=form, error=error, org=None), _status(form, error)


@bp.route("/organizations/<int:organization_id>", methods=["GET", "POST"])
def organization(organization_id: int):
    org = _load(Organization, organization_id, "organization")
    form = OrganizationForm(obj=org) if request.method == "GET" else OrganizationForm()
    error = None
    if form.validate_on_submit():
        changed, error = attempt(lambda: catalog.update_organization(actor(), org, form_values(form)), form)
        if error is None:
            flash(f"{org.name} was saved." if changed else f"{org.name}: nothing changed.", "success")
            return redirect(url_for(".organizations"))
    return render_template("admin/organization_form.html", form=form, error=error, org=org), _status(form, error)


# Services


def _service_form(obj: Service | None = None) -> ServiceForm:
    form = ServiceForm(obj=obj) if request.method == "GET" and obj is not None else ServiceForm()
    _organization_choices(form)
    return form


@bp.get("/services/")
def services():
    return _searched(directory.service_page, "admin/services.html")


@bp.route("/services/new", methods=["GET", "POST"])
def new_service():
    form = _service_form()
    error = None
    if form.validate_on_submit():
        service, error = attempt(lambda: catalog.create_service(actor(), form_values(form)), form)
        if error is None:
            flash(f"The service {service.name} was added.", "success")
            return redirect(url_for(".services"))
    return render_template("admin/service_form.html", form=form, error=error, service=None), _status(form, error)


@bp.route("/services/<int:service_id>", methods=["GET", "POST"])
def service(service_id: int):
    record = _load(Service, service_id, "service")
    form = _service_form(record)
    error = None
    if form.validate_on_submit():
        changed, error = attempt(lambda: catalog.update_service(actor(), record, form_values(form)), form)
        if error is None:
            flash(f"The service {record.name} was saved." if changed else f"{record.name}: nothing changed.",
                  "success")
            return redirect(url_for(".services"))
    return render_template("admin/service_form.html", form=form, error=error, service=record), _status(form, error)
