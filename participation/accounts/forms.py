"""Sign-in and account forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, Length, Regexp

from participation.accounts.models import Role
from participation.accounts.services import MIN_PASSWORD_LENGTH
from participation.forms import MultiCheckboxField, enum_choices, one_line_filter, strip_filter


class SignInForm(FlaskForm):
    email = EmailField(
        _l("Email address"),
        filters=[strip_filter],
        validators=[DataRequired(_l("Enter your email address")), Length(max=254)],
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Enter your password")), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )
    next = HiddenField()


class SecondFactorForm(FlaskForm):
    code = StringField(
        _l("6-digit code from your authenticator app"),
        filters=[strip_filter],
        validators=[
            DataRequired(_l("Enter the 6-digit code")),
            # [0-9], not \d: "١٢٣٤٥٦" or "１２３４５６" are digits to Python, not codes.
            Regexp(r"^\s*[0-9]{3}\s?[0-9]{3}\s*$", message=_l("The code is 6 digits")),
        ],
    )


class UserForm(FlaskForm):
    email = EmailField(
        _l("Email address"),
        filters=[strip_filter],
        validators=[
            DataRequired(_l("Enter an email address")),
            Email(_l("Enter a valid email address")),
            Length(max=254),
        ],
    )
    display_name = StringField(
        _l("Name"),
        filters=[one_line_filter],
        validators=[DataRequired(_l("Enter a name")), Length(max=120)],
    )
    password = PasswordField(
        _l("First password (the person changes it later)"),
        validators=[
            DataRequired(_l("Enter a first password")),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=1024,
                message=_l("Passwords need at least %(n)d characters", n=MIN_PASSWORD_LENGTH),
            ),
        ],
    )
    roles = MultiCheckboxField(
        _l("Roles"),
        choices=enum_choices(Role),
        validators=[DataRequired(_l("Choose at least one role"))],
    )


class RolesForm(FlaskForm):
    roles = MultiCheckboxField(_l("Roles"), choices=enum_choices(Role))


class ConfirmForm(FlaskForm):
    """A POST with nothing but its CSRF token: for buttons that change one thing."""
