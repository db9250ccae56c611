from flask_wtf import FlaskForm
from wtforms import EmailField, IntegerField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional

from ceasefire import limits


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=limits.EMAIL)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=limits.PASSWORD_MAX)])
    submit = SubmitField("Sign in")


class EmptyForm(FlaskForm):
    """A form with nothing but its CSRF token, for buttons such as sign out."""

    submit = SubmitField("Submit")


class CodeForm(FlaskForm):
    code = StringField(
        "Code from your authenticator app, or a recovery code",
        validators=[DataRequired(), Length(max=32)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "text"},
    )


class NewPasswordForm(FlaskForm):
    """A new password after an admin's reset: the user signed in with the temporary one moments ago."""

    new_password = PasswordField(
        "New password",
        validators=[
            DataRequired(),
            Length(
                min=limits.PASSWORD_MIN, max=limits.PASSWORD_MAX, message="Use at least 12 characters (at most 256)."
            ),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "New password again",
        validators=[DataRequired(), EqualTo("new_password", message="The two new passwords differ.")],
        render_kw={"autocomplete": "new-password"},
    )


class PasswordChangeForm(NewPasswordForm):
    current_password = PasswordField("Current password", validators=[DataRequired(), Length(max=limits.PASSWORD_MAX)])


class TokenForm(FlaskForm):
    name = StringField("Name of the token (what it is for)", validators=[DataRequired(), Length(max=limits.NAME)])
    expires_in_days = IntegerField(
        "Expires after (days, empty for never)", validators=[Optional(), NumberRange(min=1, max=3650)]
    )
