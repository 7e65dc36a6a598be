"""Forms of the safeguarding lead and of the child's help page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length

from participation.forms import strip_filter


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
