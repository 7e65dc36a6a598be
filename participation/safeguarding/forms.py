"""Forms of the safeguarding lead and of the child's help page."""

from __future__ import annotations

import re
import secrets

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, TelField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from participation.forms import choices, strip_filter


class ActionForm(FlaskForm):
    note = TextAreaField(
        _l("What was done"),
        filters=[strip_filter],
        validators=[DataRequired(_l("Write what was done")), Length(max=5000)],
    )
    version = HiddenField()


class CloseForm(FlaskForm):
    outcome = TextAreaField(
        _l("Outcome"),
        filters=[strip_filter],
        validators=[DataRequired(_l("Write the outcome")), Length(max=5000)],
    )
    version = HiddenField()


class AcknowledgeForm(FlaskForm):
    version = HiddenField()


class ContactForm(FlaskForm):
    contact = TextAreaField(
        _l("How can we reach you safely? (you do not have to)"),
        filters=[strip_filter],
        validators=[
            DataRequired(_l("Write how we can reach you, or tap Carry on")),
            Length(max=500),
        ],
    )


# How a child who asks for help may be reached (HelpRequest.reach_by).
REACH_AT_GROUP = "at_group"
REACH_THROUGH_WORKER = "through_worker"
REACH_BY_PHONE = "phone"
REACH_CHOICES = (REACH_AT_GROUP, REACH_THROUGH_WORKER, REACH_BY_PHONE)

_SUBMISSION_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")
_PHONE = re.compile(r"\+?[0-9 ()-]{7,25}")


class HelpRequestForm(FlaskForm):
    """ "Do you want someone to talk to you?": every field is optional but the key."""

    words = TextAreaField(
        _l("Do you want to tell us anything? (you do not have to)"),
        filters=[strip_filter],
        validators=[
            Optional(),
            Length(max=4000, message=_l("Please write less (4000 letters at most)")),
        ],
    )
    reach_by = RadioField(
        _l("How can we reach you? (you do not have to say)"),
        choices=choices(
            [
                (REACH_AT_GROUP, _l("Talk to me at my group")),
                (REACH_THROUGH_WORKER, _l("Through my worker")),
                (REACH_BY_PHONE, _l("Ring or text me on a phone number")),
            ]
        ),
        validators=[Optional()],
        # No choice is a fine answer; a value that is not one of these is refused below.
        validate_choice=False,
    )
    phone = TelField(
        _l("Phone number"),
        filters=[strip_filter],
        render_kw={"autocomplete": "tel", "inputmode": "tel", "dir": "ltr"},
    )
    submission_key = HiddenField(filters=[strip_filter])

    def validate_reach_by(self, field: RadioField) -> None:
        if field.data not in REACH_CHOICES:
            raise ValidationError(_l("Choose one of these, or none"))

    def validate_phone(self, field: TelField) -> None:
        if self.reach_by.data != REACH_BY_PHONE:
            field.data = ""  # only used when the child chose a phone number
            return
        digits = sum(ch.isdigit() for ch in field.data or "")
        if not field.data:
            raise ValidationError(_l("Write the phone number, or choose another way"))
        if not _PHONE.fullmatch(field.data) or not 7 <= digits <= 15:
            raise ValidationError(_l("Write a phone number, like 07700 900123"))

    def validate_submission_key(self, field: HiddenField) -> None:
        if not _SUBMISSION_KEY.fullmatch(field.data or ""):
            # A page from before this form had a key, or a tampered one: ask for one more tap.
            field.data = new_submission_key()
            raise ValidationError(_l("Please tap Send again."))


def new_submission_key() -> str:
    """A fresh key for one help request form: a resend of the same page is the same request."""
    return secrets.token_urlsafe(24)


class SpokeToChildForm(FlaskForm):
    note = TextAreaField(
        _l("What was said (optional)"),
        filters=[strip_filter],
        validators=[Optional(), Length(max=5000)],
    )
    version = HiddenField()
