"""Forms for opening a survey round."""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from participation.forms import MultiCheckboxField, one_line_filter, sensible_date


class RoundForm(FlaskForm):
    name = StringField(
        _l("Name of the round"),
        filters=[one_line_filter],
        validators=[
            DataRequired(_l("Enter a name, for example Annual survey 2026")),
            Length(max=120),
        ],
    )
    question_set = SelectField(_l("Question set"), validators=[DataRequired()])
    groups = MultiCheckboxField(
        _l("Groups"), validators=[DataRequired(_l("Choose at least one group"))]
    )
    opens_on = DateField(
        _l("Opens on"),
        default=date.today,
        validators=[DataRequired(_l("Enter the opening date")), sensible_date],
    )
    closes_on = DateField(
        _l("Closes at the end of"),
        default=lambda: date.today() + timedelta(days=42),
        validators=[DataRequired(_l("Enter the closing date")), sensible_date],
    )
    override_age_band = BooleanField(
        _l("Use this question set for groups of another age band (this is recorded)")
    )


class RoundDatesForm(FlaskForm):
    """New dates for a round that is already open (or not open yet)."""

    opens_on = DateField(
        _l("Opens on"), validators=[DataRequired(_l("Enter the opening date")), sensible_date]
    )
    closes_on = DateField(
        _l("Closes at the end of"),
        validators=[DataRequired(_l("Enter the closing date")), sensible_date],
    )
