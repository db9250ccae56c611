"""Signing in and out, the second factor, sessions that end, passwords and API tokens."""

from __future__ import annotations

from datetime import timedelta

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user

from ceasefire.auth.forms import CodeForm, EmptyForm, LoginForm, NewPasswordForm, PasswordChangeForm, TokenForm
from ceasefire.errors import NotFound, ServiceError
from ceasefire.extensions import db, limiter
from ceasefire.home import views as home
from ceasefire.models import ApiToken, User, base
from ceasefire.models.enums import Role
from ceasefire.pages import keep
from ceasefire.services import accounts, audit, security, sessions
from ceasefire.web import safe_next

bp = Blueprint("auth", __name__)

GENERIC_FAILURE = "Invalid email or password."
MFA_PENDING = "mfa_user_id"
# Pages a signed-in user who still has to enrol a second factor may reach.
ENROLMENT_ENDPOINTS = {"auth.mfa", "auth.logout", "auth.new_password", "static"}
# Pages a user whose password an admin reset may reach before choosing a new one.
NEW_PASSWORD_ENDPOINTS = {"auth.new_password", "auth.logout", "static"}


def home_for(user) -> str:
    """Where a user lands after signing in: their home page (admins: the admin area, or their profile)."""
    if user.role == Role.ADMIN:
        return home.admin_home()
    return url_for("auth.root")


def _now() -> float:
    return base.utcnow().timestamp()


def _start_session(user: User) -> None:
    # A new id at sign-in, so an id planted in the browser beforehand opens nothing.
    current_app.session_interface.regenerate(session)  # type: ignore[attr-defined]  # Flask-Session's
    session.clear()
    login_user(user)
    sessions.start(user, session.sid, request.remote_addr, request.user_agent.string)  # type: ignore[attr-defined]


def _leave_session(message: str) -> None:
    """Signed out here; what the browser keeps afterwards is a new, empty session with the message."""
    logout_user()
    session.clear()
    flash(message, "info")
    current_app.session_interface.regenerate(session)  # type: ignore[attr-defined]  # Flask-Session's


@bp.before_app_request
def check_session():
    """End a session that was ended on the server (signed out, a password or role change, a deactivation), was idle
    too long or is too old."""
    if request.blueprint == "api" or request.endpoint == "static" or not current_user.is_authenticated:
        return None  # the API's bearer tokens have no session: no cookie is read, no user loaded from one
    record = sessions.find(session.sid)
    if record is None or record.user_id != current_user.id or sessions.has_expired(record):
        if record is not None:
            sessions.end(record)
        keep()
        _leave_session("Your session has ended. Please sign in again.")
        return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
    if sessions.touch(record):
        keep()
    if current_user.must_change_password and request.endpoint not in NEW_PASSWORD_ENDPOINTS:
        flash("Your password was reset. Choose a new one to go on.", "info")
        return redirect(url_for("auth.new_password"))
    if (
        security.mfa_required(current_user)
        and not current_user.has_second_factor
        and request.endpoint not in ENROLMENT_ENDPOINTS
    ):
        flash("Your role must use a second factor. Set it up to go on.", "info")
        return redirect(url_for("auth.mfa"))
    return None


@bp.get("/")
def root():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    page = home.workspace(current_user._get_current_object())
    if page is None:
        return redirect(home_for(current_user))
    return page


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        user = security.check_password(form.email.data, form.password.data)
        if user is None:
            keep()
            flash(GENERIC_FAILURE, "error")
            return render_template("auth/login.html", form=form), 200
        if user.has_second_factor:
            session.clear()
            session[MFA_PENDING] = user.id
            session["mfa_started"] = _now()
            keep()
            return redirect(url_for("auth.verify", next=safe_next(request.args.get("next"))))
        _start_session(user)
        keep()
        if user.must_change_password:
            return redirect(url_for("auth.new_password"))
        return redirect(safe_next(request.args.get("next")) or home_for(user))
    return render_template("auth/login.html", form=form)


@bp.route("/login/verify", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def verify():
    user_id = session.get(MFA_PENDING)
    if user_id is None or _now() - session.get("mfa_started", 0) > 300:
        session.pop(MFA_PENDING, None)
        return redirect(url_for("auth.login"))
    user = db.session.get(User, user_id)
    form = CodeForm()
    if form.validate_on_submit():
        if user is not None and user.active and security.verify_second_factor(user, form.code.data):
            _start_session(user)
            keep()
            return redirect(safe_next(request.args.get("next")) or home_for(user))
        audit.record(user, "sign_in_failed", "user", user_id, "second factor")
        keep()
        flash("That code is not right, or was already used.", "error")
    return render_template("auth/verify.html", form=form)


@bp.post("/logout")
def logout():
    form = EmptyForm()
    if form.validate_on_submit() and current_user.is_authenticated:
        sessions.sign_out(current_user, session.sid)
        keep()
        _leave_session("You are signed out.")
    return redirect(url_for("auth.login"))


def _profile_page(token_form: TokenForm, new_token: str | None = None):
    tokens = db.session.scalars(
        db.select(ApiToken).where(ApiToken.user_id == current_user.id).order_by(ApiToken.id.desc())
    )
    return render_template(
        "auth/profile.html", tokens=list(tokens), token_form=token_form, button=EmptyForm(), new_token=new_token,
        open_sessions=sessions.open_sessions(current_user, session.sid),  # type: ignore[attr-defined]
    )


@bp.get("/profile")
@login_required
def profile():
    return _profile_page(TokenForm())


@bp.post("/profile/sessions/end-others")
@login_required
def end_other_sessions():
    form = EmptyForm()
    if form.validate_on_submit():
        ended = sessions.end_others(current_user, session.sid)
        keep()
        flash(f"Signed out everywhere else ({ended} session{'s' if ended != 1 else ''}).", "info")
    return redirect(url_for("auth.profile"))


@bp.post("/profile/tokens")
@login_required
def create_token():
    form = TokenForm()
    if not form.validate_on_submit():
        flash("Give the token a name; the expiry is a number of days.", "error")
        return redirect(url_for("auth.profile"))
    token, plain = accounts.create_token(current_user, form.name.data.strip(), actor=current_user)
    if form.expires_in_days.data:
        token.expires_at = base.utcnow() + timedelta(days=form.expires_in_days.data)
    keep()
    return _profile_page(TokenForm(formdata=None), new_token=plain)


@bp.post("/profile/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    form = EmptyForm()
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        raise NotFound("No such token.")
    if form.validate_on_submit():
        accounts.revoke_token(current_user, token)
        keep()
        flash(f"The token \u201c{token.name}\u201d is revoked.", "info")
    return redirect(url_for("auth.profile"))


@bp.route("/profile/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            security.change_password(
                current_user, form.current_password.data, form.new_password.data, keep_sid=session.sid
            )
        except ServiceError as exc:
            _refused(form, exc)
            return render_template("auth/password.html", form=form), exc.status
        keep()  # this session goes on; every other one has ended
        flash("Your password is changed. You were signed out everywhere else.", "info")
        return redirect(url_for("auth.profile"))
    return render_template("auth/password.html", form=form)


def _refused(form, exc: ServiceError) -> None:
    """A refused password: nothing is kept, and each message goes beside its field (the service's `password` is the
    form's new password)."""
    db.session.rollback()
    for name, message in exc.fields.items():
        field = {"password": "new_password"}.get(name, name)
        if field in form:
            form[field].errors = [*form[field].errors, message]


@bp.route("/profile/new-password", methods=["GET", "POST"])
@login_required
def new_password():
    """After an admin reset the password: the user, signed in with the temporary one, chooses their own."""
    if not current_user.must_change_password:
        return redirect(url_for("auth.password"))
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            security.set_new_password(current_user, form.new_password.data, keep_sid=session.sid)
        except ServiceError as exc:
            _refused(form, exc)
            return render_template("auth/new_password.html", form=form), exc.status
        keep()
        flash("Your new password is set.", "success")
        return redirect(home_for(current_user))
    return render_template("auth/new_password.html", form=form), 422 if form.errors else 200


@bp.route("/profile/mfa", methods=["GET", "POST"])
@login_required
def mfa():
    form = CodeForm()
    secret = session.get("mfa_secret") or security.new_totp_secret()
    session["mfa_secret"] = secret
    if form.validate_on_submit():
        try:
            codes = security.enrol(current_user, secret, form.code.data)
        except ServiceError as exc:
            db.session.rollback()
            form.code.errors = [*form.code.errors, exc.message]
        else:
            session.pop("mfa_secret", None)
            keep()
            return render_template("auth/recovery_codes.html", codes=codes)
    uri = security.provisioning_uri(current_user, secret)
    return render_template(
        "auth/mfa.html", form=form, secret=secret, qr=security.qr_svg_data_uri(uri),
        enrolled=current_user.has_second_factor,
    )
