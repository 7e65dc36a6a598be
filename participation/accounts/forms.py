"""Sign-in and account forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Regexp

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
    roles = MultiCheckboxField(
        _l("Roles"),
        choices=enum_choices(Role),
        validators=[DataRequired(_l("Choose at least one role"))],
    )


def _new_password_field(label: str) -> PasswordField:
    return PasswordField(
        label,
        validators=[
            DataRequired(_l("Enter a new password")),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=1024,
                message=_l("Passwords need at least %(n)d characters", n=MIN_PASSWORD_LENGTH),
            ),
        ],
        render_kw={"autocomplete": "new-password"},
    )


def _repeat_field() -> PasswordField:
    return PasswordField(
        _l("The new password again"),
        validators=[
            DataRequired(_l("Type the new password again")),
            EqualTo("new_password", message=_l("The two new passwords are not the same")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class NewPasswordForm(FlaskForm):
    """Choose a password from an emailed link (an invitation or a reset)."""

    new_password = _new_password_field(_l("New password"))
    repeat = _repeat_field()


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Enter your current password")), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = _new_password_field(_l("New password"))
    repeat = _repeat_field()


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        _l("Email address"),
        filters=[strip_filter],
        validators=[DataRequired(_l("Enter your email address")), Length(max=254)],
    )


class PasswordCheckForm(FlaskForm):
    """Prove it is you (a second-factor reset link and your password)."""

    password = PasswordField(
        _l("Your password"),
        validators=[DataRequired(_l("Enter your password")), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )


class RolesForm(FlaskForm):
    roles = MultiCheckboxField(_l("Roles"), choices=enum_choices(Role))


class ConfirmForm(FlaskForm):
    """A POST with nothing but its CSRF token: for buttons that change one thing."""
