"""Load question sets from their data files into versioned rows.

A question set file is the source of truth. Loading computes a hash of its content: the
same content is the same version; changed content becomes a new version, and responses
keep the version they answered. Results compare across versions and years by question key.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from participation.councils.models import AgeBand
from participation.recommendations.models import Recommendation
from participation.safeguarding.models import AlertLevel
from surveys.models import Question, QuestionKind, QuestionSet
from surveys.risk import RiskStrength

QUESTION_SETS_DIR = Path(__file__).with_name("question_sets")
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_PHONE = re.compile(r"^[0-9][0-9 ]{1,19}$")
RISK_FIELDS = {"strength", "reason", "level"}
# The words of the help step after a risk answer, in the reading age of the set's band.
HELP_STEP_TEXTS = ("title", "lead", "ask", "ask_hint", "yes", "not_now", "told", "carry_on")
HELP_STEP_FIELDS = {*HELP_STEP_TEXTS, "alerted", "phones", "pictures"}
PHONE_FIELDS = {"number", "text", "emoji"}
PICTURE_FIELDS = {"title", "yes", "not_now", "told"}
# Every help step offers these, whatever the band: 999 and Childline.
REQUIRED_PHONES = {"999", "08001111"}


class QuestionSetError(ValueError):
    """A question set file that cannot be used as it is."""


def read_question_set(path: Path) -> dict[str, Any]:
    """Parse and check one file; raises QuestionSetError with the first problem found."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    where = path.name
    for field in ("key", "age_band", "languages", "title", "welcome", "questions"):
        if field not in data:
            raise QuestionSetError(f"{where}: missing {field}")
    AgeBand(data["age_band"])
    if "en" not in data["languages"]:
        raise QuestionSetError(f"{where}: English is required")
    seen: dict[str, dict[str, Any]] = {}
    for question in data["questions"]:
        key = question.get("key", "")
        if not _KEY.match(key) or key in seen:
            raise QuestionSetError(f"{where}: bad or repeated question key {key!r}")
        kind = QuestionKind(question["kind"])
        if not question.get("text", {}).get("en"):
            raise QuestionSetError(f"{where}: {key} has no English text")
        if kind is QuestionKind.CHOICE:
            values = [c["value"] for c in question.get("choices", [])]
            if len(values) < 2 or len(set(values)) != len(values):
                raise QuestionSetError(f"{where}: {key} needs two or more distinct choices")
            if not set(question.get("favourable", [])) <= set(values):
                raise QuestionSetError(f"{where}: {key} favourable values are not choices")
        _check_risk(where, key, kind, question)
        show_if = question.get("show_if")
        if show_if:
            earlier = seen.get(show_if["question"])
            if earlier is None or not set(show_if["in"]) <= {
                c["value"] for c in earlier.get("choices", [])
            }:
                raise QuestionSetError(f"{where}: {key} show_if must name an earlier choice")
        seen[key] = question
    strengths = {
        mark.get("strength") for q in data["questions"] for mark in (q.get("risk") or {}).values()
    }
    if strengths:
        _check_help_step(where, data.get("help_step"), alerts=RiskStrength.ALERT.value in strengths)
    elif "help_step" in data:
        _check_help_step(where, data["help_step"], alerts=False)
    return data


def _check_risk(where: str, key: str, kind: QuestionKind, question: dict[str, Any]) -> None:
    """The answers a question marks as a risk signal, and what follows each."""
    risk = question.get("risk")
    if risk is None:
        return
    if kind is not QuestionKind.CHOICE:
        raise QuestionSetError(f"{where}: {key} marks risk answers, but only choices can")
    if not isinstance(risk, dict) or not risk:
        raise QuestionSetError(f"{where}: {key} risk must map answers to what follows them")
    values = [c["value"] for c in question.get("choices", [])]
    unknown = [v for v in risk if v not in values]
    if unknown:
        raise QuestionSetError(
            f"{where}: {key} risk names answers that are not its choices: {unknown!r} "
            f"(choices are {values!r}; quote yes and no)"
        )
    strengths = [s.value for s in RiskStrength]
    levels = [level.value for level in AlertLevel]
    for value, mark in risk.items():
        if not isinstance(mark, dict):
            raise QuestionSetError(f"{where}: {key} risk for {value!r} must be a mapping")
        extra = sorted(set(mark) - RISK_FIELDS)
        if extra:
            raise QuestionSetError(f"{where}: {key} risk for {value!r} has unknown fields {extra}")
        if mark.get("strength") not in strengths:
            raise QuestionSetError(
                f"{where}: {key} risk for {value!r} has unknown strength "
                f"{mark.get('strength')!r} (use one of {strengths})"
            )
        if not isinstance(mark.get("reason"), str) or not _KEY.match(mark["reason"]):
            raise QuestionSetError(
                f"{where}: {key} risk for {value!r} needs a reason such as unsafe_at_home"
            )
        if mark.get("level", AlertLevel.CONCERN.value) not in levels:
            raise QuestionSetError(
                f"{where}: {key} risk for {value!r} has unknown level {mark.get('level')!r} "
                f"(use one of {levels})"
            )
        if value in question.get("favourable", []):
            raise QuestionSetError(f"{where}: {key} answer {value!r} is both favourable and a risk")


def _check_help_step(where: str, help_step: Any, *, alerts: bool) -> None:
    """The help step's words: each in English at least, with 999 and Childline."""
    if not isinstance(help_step, dict):
        raise QuestionSetError(f"{where}: risk answers need a help_step with its words")
    extra = sorted(set(help_step) - HELP_STEP_FIELDS)
    if extra:
        raise QuestionSetError(f"{where}: help_step has unknown fields {extra}")
    # "alerted" says that a person is being told already: needed when an answer alerts.
    needed = [*HELP_STEP_TEXTS, "alerted"] if alerts or "alerted" in help_step else HELP_STEP_TEXTS
    for name in needed:
        text = help_step.get(name)
        if not isinstance(text, dict) or not isinstance(text.get("en"), str) or not text["en"]:
            raise QuestionSetError(f"{where}: help_step {name} needs English words")
    phones = help_step.get("phones")
    if not isinstance(phones, list):
        raise QuestionSetError(f"{where}: help_step phones must list 999 and Childline")
    numbers = set()
    for phone in phones:
        if not isinstance(phone, dict) or set(phone) - PHONE_FIELDS:
            raise QuestionSetError(f"{where}: help_step phones take {sorted(PHONE_FIELDS)}")
        number = str(phone.get("number", ""))
        texts = phone.get("text")
        if not _PHONE.match(number) or not isinstance(texts, dict) or not texts.get("en"):
            raise QuestionSetError(f"{where}: help_step phone {number!r} needs digits and words")
        for language, words in texts.items():
            # The number goes where each language puts it ("... {number} ته زنګ ووهه").
            if not isinstance(words, str) or words.count("{number}") != 1:
                raise QuestionSetError(
                    f"{where}: help_step phone {number!r} in {language} must say {{number}} once"
                )
        numbers.add(number.replace(" ", ""))
    if not numbers >= REQUIRED_PHONES:
        raise QuestionSetError(f"{where}: help_step phones must include 999 and 0800 1111")
    pictures = help_step.get("pictures", {})
    if not isinstance(pictures, dict) or set(pictures) - PICTURE_FIELDS:
        raise QuestionSetError(f"{where}: help_step pictures take {sorted(PICTURE_FIELDS)}")


def content_hash(data: dict[str, Any]) -> str:
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def load_question_set(session: Session, data: dict[str, Any]) -> tuple[QuestionSet, bool]:
    """Store the content as a version of its set; returns (version row, whether it is new)."""
    digest = content_hash(data)
    existing = session.scalar(
        select(QuestionSet).where(
            QuestionSet.key == data["key"], QuestionSet.content_hash == digest
        )
    )
    if existing is not None:
        return existing, False
    latest = session.scalar(
        select(func.max(QuestionSet.version)).where(QuestionSet.key == data["key"])
    )
    codes = {r.code: r for r in session.scalars(select(Recommendation))}
    question_set = QuestionSet(
        key=data["key"],
        version=(latest or 0) + 1,
        age_band=AgeBand(data["age_band"]),
        content_hash=digest,
        title=data["title"],
        welcome=data["welcome"],
        languages=list(data["languages"]),
        translation_status=data.get("translation_status") or {},
    )
    for position, item in enumerate(data["questions"], start=1):
        unknown = set(item.get("recommendations", [])) - set(codes)
        if unknown:
            raise QuestionSetError(f"{data['key']}: unknown recommendation codes {sorted(unknown)}")
        question_set.questions.append(
            Question(
                key=item["key"],
                position=position,
                kind=QuestionKind(item["kind"]),
                text=item["text"],
                hint=item.get("hint"),
                choices=_choices_with_risk(item, data.get("help_step")),
                favourable=item.get("favourable", []),
                show_if=item.get("show_if"),
                recommendations=[codes[c] for c in item.get("recommendations", [])],
            )
        )
    session.add(question_set)
    session.flush()
    return question_set, True


def _choices_with_risk(item: dict[str, Any], help_step: Any) -> list[dict[str, Any]]:
    """The choices, each risk answer carrying its mark and the set's help-step words.

    A stored version has no other place for them, and with the choice they stay part of
    the version the child answered.
    """
    risk = item.get("risk") or {}
    choices = []
    for choice in item.get("choices", []):
        mark = risk.get(choice["value"])
        if mark:
            level = mark.get("level", AlertLevel.CONCERN.value)
            choice = {**choice, "risk": {**mark, "level": level, "help_step": help_step}}
        choices.append(choice)
    return choices


def load_all(
    session: Session, directory: Path = QUESTION_SETS_DIR
) -> list[tuple[QuestionSet, bool]]:
    """Load every question set file in ``directory``."""
    return [
        load_question_set(session, read_question_set(p)) for p in sorted(directory.glob("*.yaml"))
    ]


def latest_versions(session: Session) -> list[QuestionSet]:
    """The newest version of each question set, youngest age band first."""
    newest = (
        select(QuestionSet.key, func.max(QuestionSet.version).label("version"))
        .group_by(QuestionSet.key)
        .subquery()
    )
    rows = session.scalars(
        select(QuestionSet).join(
            newest, (QuestionSet.key == newest.c.key) & (QuestionSet.version == newest.c.version)
        )
    ).all()
    order = list(AgeBand)
    return sorted(rows, key=lambda s: order.index(s.age_band))
