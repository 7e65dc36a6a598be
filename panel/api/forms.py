"""The form an administrator fills in to create an API token."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from participation.forms import strip_filter


class TokenForm(FlaskForm):
    name = StringField(
        _l("What the token is for"),
        filters=[strip_filter],
        validators=[
            DataRequired(_l("Enter a name, such as the report or tool that will use it")),
            Length(max=120, message=_l("Use 120 characters or fewer")),
        ],
        render_kw={"autocomplete": "off"},
    )
