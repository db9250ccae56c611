"""Signing in and out of the pages."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ceasefire.auth.forms import EmptyForm, LoginForm
from ceasefire.extensions import db
from ceasefire.models.enums import Role
from ceasefire.services import accounts, audit
from ceasefire.web import safe_next

bp = Blueprint("auth", __name__)

GENERIC_FAILURE = "Invalid email or password."


def home_for(user) -> str:
    if user.role == Role.ADMIN:
        return url_for("auth.profile")
    return url_for("participants.index")


@bp.get("/")
def root():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.user_by_email(form.email.data)
        if accounts.verify_password(user, form.password.data):
            login_user(user)
            audit.record(user, "sign_in", "user", user.id)
            db.session.commit()
            return redirect(safe_next(request.args.get("next")) or home_for(user))
        audit.record(user, "sign_in_failed", "user", user.id if user else None)
        db.session.commit()
        flash(GENERIC_FAILURE, "error")
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    form = EmptyForm()
    if form.validate_on_submit():
        audit.record(current_user, "sign_out", "user", current_user.id)
        db.session.commit()
        logout_user()
        flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.get("/profile")
@login_required
def profile():
    return render_template("auth/profile.html")
