"""Forms for raising and working challenge cards."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from participation.forms import choices, one_line_filter, sensible_date, strip_filter


class CardForm(FlaskForm):
    # Made when the form is first shown and sent back with it: one key, one card.
    submission_key = HiddenField()
    what_change = TextAreaField(
        _l("What should change?"),
        filters=[strip_filter],
        validators=[DataRequired(_l("Write what you want to change.")), Length(max=2000)],
    )
    why_matters = TextAreaField(
        _l("Why does it matter?"), filters=[strip_filter], validators=[Optional(), Length(max=2000)]
    )
    service = SelectField(_l("Who should change it?"), validators=[Optional()])
    about_me = BooleanField(_l("This is about me: only a worker should see it"))
    # Only shown to a child in several groups (one phone, several groups).
    from_group = SelectField(_l("Which group is this card from?"), validators=[Optional()])


class GroupCardForm(CardForm):
    """A worker raising a card for a group meeting."""

    group = SelectField(_l("Group"), validators=[DataRequired()])
    from_group = None  # the worker chooses ``group`` instead


class ReplyForm(FlaskForm):
    # The card's version when the question was shown: a resent reply is recognised.
    version = HiddenField()
    what_change = TextAreaField(
        _l("What should change?"),
        filters=[strip_filter],
        validators=[DataRequired(_l("Write what you want to change.")), Length(max=2000)],
    )
    why_matters = TextAreaField(
        _l("Your answer to our question"),
        filters=[strip_filter],
        validators=[Optional(), Length(max=2000)],
    )


class VersionedForm(FlaskForm):
    version = HiddenField()


class HandBackForm(VersionedForm):
    """The safeguarding lead's button on the alert page (``version`` is the alert's)."""


class SendForm(VersionedForm):
    public_text = TextAreaField(
        _l("Public text (what the service and children will see)"),
        filters=[strip_filter],
        validators=[DataRequired(_l("Write the public text of the card.")), Length(max=2000)],
    )
    service = SelectField(_l("Service"), validators=[DataRequired(_l("Choose a service"))])
    responder = SelectField(_l("Responder"), validators=[DataRequired(_l("Choose a responder"))])
    due_on = DateField(
        _l("Reply by (leave empty for 20 working days)"), validators=[Optional(), sensible_date]
    )


class NoteForm(VersionedForm):
    note = TextAreaField(
        _l("Note"),
        filters=[strip_filter],
        validators=[DataRequired(_l("Write something")), Length(max=2000)],
    )


class MergeForm(VersionedForm):
    into = StringField(
        _l("Card number to join it with"),
        filters=[strip_filter],
        validators=[DataRequired(_l("Give the card number")), Length(max=20)],
    )


class AnswerForm(VersionedForm):
    kind = RadioField(
        _l("Your answer"),
        choices=choices(
            [("will_do", _l("What we will do")), ("cannot_do", _l("What we can't do, and why"))]
        ),
        validators=[DataRequired(_l("Choose the kind of answer"))],
    )
    text = TextAreaField(
        _l("Answer, in words children will understand"),
        filters=[strip_filter],
        validators=[DataRequired(_l("Write your answer.")), Length(max=2000)],
    )


class CloseForm(VersionedForm):
    what_changed = TextAreaField(
        _l("What changed"),
        filters=[strip_filter],
        validators=[DataRequired(_l("Write what changed.")), Length(max=2000)],
    )


class FeedbackForm(FlaskForm):
    feedback = RadioField(
        _l("Did this fix it?"),
        choices=choices([("fixed", _l("Yes")), ("partly", _l("A bit")), ("not_fixed", _l("No"))]),
        validators=[DataRequired(_l("Choose an answer"))],
    )


class ServiceForm(FlaskForm):
    name = StringField(
        _l("Service name"),
        filters=[one_line_filter],
        validators=[DataRequired(_l("Enter a name")), Length(max=120)],
    )
