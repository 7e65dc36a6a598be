"""Forms for joining a group and managing groups."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from participation.councils.models import AgeBand, GroupKind
from participation.forms import enum_choices, one_line_filter, strip_filter


class JoinForm(FlaskForm):
    code = StringField(
        _l("Your group code"),
        filters=[strip_filter],
        validators=[DataRequired(_l("Type the code your worker gave you")), Length(max=32)],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )


class GroupForm(FlaskForm):
    name = StringField(
        _l("Group name"),
        filters=[one_line_filter],
        validators=[DataRequired(_l("Enter a name")), Length(max=120)],
    )
    age_band = SelectField(_l("Age band"), choices=enum_choices(AgeBand))
    kind = SelectField(_l("Who the group is for"), choices=enum_choices(GroupKind))


class GroupWorkerForm(FlaskForm):
    """Who runs the group; choices are the council's participation workers."""

    worker = SelectField(_l("Worker who runs this group"), validate_choice=True)
