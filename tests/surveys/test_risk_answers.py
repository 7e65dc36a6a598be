"""A tap counts: risk answers, the help step after them and the alerts they raise.

Through HTTP as a child meets it, without JavaScript (the test client runs none), on the
real question sets: the youngest children's for the help step and a yes, the care leavers'
for an answer that alerts on its own.
"""

from __future__ import annotations

import copy
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from participation.accounts.models import Role
from participation.councils.models import AgeBand, GroupKind
from participation.councils.services import create_group
from participation.db import utcnow
from participation.outbox import OutboxEmail
from participation.safeguarding.models import AlertLevel, AlertSource, SafeguardingAlert
from participation.subjects import SubjectType
from surveys.models import Answer, AnswerTally
from surveys.question_sets import (
    QUESTION_SETS_DIR,
    QuestionSetError,
    load_question_set,
    read_question_set,
)
from surveys.risk import RiskStrength, risk_of
from surveys.services import open_round

YOUNGEST = QUESTION_SETS_DIR / "ages-4-7.yaml"
LEAVERS = QUESTION_SETS_DIR / "care-leavers-16-25.yaml"


# Load-time checks ---------------------------------------------------------------------


def _broken(tmp_path: Path, change: Any, source: Path = YOUNGEST) -> Path:
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _feel_safe(data: dict[str, Any]) -> dict[str, Any]:
    return next(q for q in data["questions"] if q["key"] == "feel_safe")


@pytest.mark.parametrize(
    "breakage, message",
    [
        (
            lambda d: _feel_safe(d)["risk"].update({"never": {"strength": "offer_help"}}),
            r"feel_safe risk names answers that are not its choices: \['never'\]",
        ),
        (
            # Unquoted no in YAML is a boolean, not the answer "no".
            lambda d: _feel_safe(d).update(risk={False: {"strength": "offer_help"}}),
            r"not its choices: \[False\].*quote yes and no",
        ),
        (
            lambda d: _feel_safe(d)["risk"]["no"].update(strength="tell_everyone"),
            r"unknown strength 'tell_everyone' \(use one of \['offer_help', 'alert'\]\)",
        ),
        (
            lambda d: _feel_safe(d)["risk"]["no"].update(level="soon"),
            r"unknown level 'soon'",
        ),
        (
            lambda d: _feel_safe(d)["risk"]["no"].update(colour="red"),
            r"unknown fields \['colour'\]",
        ),
        (lambda d: _feel_safe(d)["risk"]["no"].pop("reason"), r"needs a reason"),
        (
            lambda d: _feel_safe(d)["risk"].update({"yes": {"strength": "alert", "reason": "x"}}),
            r"'yes' is both favourable and a risk",
        ),
        (
            lambda d: d["questions"][-1].update(risk={"no": {"strength": "alert"}}),
            r"anything_else marks risk answers, but only choices can",
        ),
        (lambda d: d.pop("help_step"), r"risk answers need a help_step"),
        (lambda d: d["help_step"].pop("ask"), r"help_step ask needs English words"),
        (lambda d: d["help_step"].update(jokes={"en": "x"}), r"unknown fields \['jokes'\]"),
        (
            lambda d: d["help_step"]["phones"].pop(),
            r"phones must include 999 and 0800 1111",
        ),
        (
            lambda d: d["help_step"]["phones"][0]["text"].update(ar="اتصل"),
            r"phone '999' in ar must say \{number\} once",
        ),
        (
            # An answer that alerts needs the words that say a person is being told now.
            lambda d: _feel_safe(d)["risk"]["no"].update(strength="alert"),
            r"help_step alerted needs English words",
        ),
    ],
)
def test_a_question_set_with_broken_risk_marks_does_not_load(tmp_path, breakage, message):
    with pytest.raises(QuestionSetError, match=message):
        read_question_set(_broken(tmp_path, breakage))


def test_the_loaded_version_keeps_each_mark_with_its_answer(db_tx):
    loaded, _new = load_question_set(db_tx, read_question_set(LEAVERS))
    questions = {q.key: q for q in loaded.questions}
    at_home = risk_of(questions["feel_safe"], "no")
    assert at_home is not None and at_home.strength is RiskStrength.OFFER_HELP
    assert (at_home.reason, at_home.level) == ("unsafe_at_home", AlertLevel.CONCERN)
    tonight = risk_of(questions["safe_tonight"], "no")
    assert tonight is not None and tonight.strength is RiskStrength.ALERT
    assert tonight.level is AlertLevel.URGENT
    assert tonight.help_step["ask"]["en"] == "Would you like someone to talk to you?"
    assert risk_of(questions["feel_safe"], "yes") is None
    assert risk_of(questions["feel_safe"], None) is None


def test_changing_a_risk_mark_makes_a_new_version(db_tx):
    data = read_question_set(YOUNGEST)
    first, _new = load_question_set(db_tx, data)
    changed = copy.deepcopy(data)
    _feel_safe(changed)["risk"]["no"]["level"] = "urgent"
    second, new = load_question_set(db_tx, changed)
    assert new and second.version == first.version + 1
    assert risk_of(first.questions[0], "no").level is AlertLevel.CONCERN
    assert risk_of(second.questions[0], "no").level is AlertLevel.URGENT
