from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SubmitField
from wtforms.validators import DataRequired, Length

from ceasefire import limits


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=limits.EMAIL)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=limits.PASSWORD_MAX)])
    submit = SubmitField("Sign in")


class EmptyForm(FlaskForm):
    """A form with nothing but its CSRF token, for buttons such as sign out."""

    submit = SubmitField("Submit")
