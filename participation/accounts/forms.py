"""Sign-in and account forms."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Regexp, ValidationError
from zxcvbn import zxcvbn

from participation.accounts.models import Role
from participation.accounts.services import MIN_PASSWORD_LENGTH
from participation.forms import MultiCheckboxField, enum_choices, one_line_filter, strip_filter


def _at_least_one_role(form: Any, field: Any) -> None:
    if not field.data:
        raise ValidationError(_l("Choose at least one role"))


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
        # Not DataRequired: that marks every checkbox "required", and a screen reader then
        # says each role must be ticked.
        validators=[_at_least_one_role],
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


class _GuessablePasswordCheck:
    """Refuse passwords that are easy to guess (NCSC: block common and predictable ones).

    zxcvbn estimates how many guesses a password would take from dictionaries of common
    passwords, names and words, keyboard patterns, repeats and dates, and the person's own
    details (``user_inputs``, set by the view: their email and name, the site's name).
    Score 3 ("safely unguessable: moderate protection from offline attacks") is the floor.
    """

    user_inputs: list[str]

    def validate_new_password(self, field: Any) -> None:
        password = field.data or ""
        if len(password) < MIN_PASSWORD_LENGTH or len(password) > 200:
            return  # the length rule speaks first; zxcvbn is slow on very long input
        values = getattr(self, "user_inputs", [])
        inputs = [part for value in values for part in _parts(value)]
        if (
            _made_of_own_details(password, values)
            or zxcvbn(password, user_inputs=inputs)["score"] < 3
        ):
            raise ValidationError(
                _l(
                    "This password would be easy to guess. Try three or four random words "
                    "that mean something only to you."
                )
            )


def _letters(value: str) -> str:
    return re.sub(r"[\W\d_]+", "", value.lower())


def _made_of_own_details(password: str, values: list[str]) -> bool:
    """The person's email name or whole name inside the password (hanahousing12)."""
    letters = _letters(password)
    for value in values:
        local = _letters(value.split("@", 1)[0])
        if len(local) >= 4 and local in letters:
            return True
    return False


def _parts(value: str) -> list[str]:
    """An email or name and its pieces (``hana.housing@x`` gives hana, housing, ...)."""
    words = [w for w in re.split(r"[^\w]+", value.lower()) if len(w) >= 3]
    return [value.lower(), *words]


class NewPasswordForm(_GuessablePasswordCheck, FlaskForm):
    """Choose a password from an emailed link (an invitation or a reset)."""

    new_password = _new_password_field(_l("New password"))
    repeat = _repeat_field()


class ChangePasswordForm(_GuessablePasswordCheck, FlaskForm):
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
