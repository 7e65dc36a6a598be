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
from surveys.models import Question, QuestionKind, QuestionSet

QUESTION_SETS_DIR = Path(__file__).with_name("question_sets")
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


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
        show_if = question.get("show_if")
        if show_if:
            earlier = seen.get(show_if["question"])
            if earlier is None or not set(show_if["in"]) <= {
                c["value"] for c in earlier.get("choices", [])
            }:
                raise QuestionSetError(f"{where}: {key} show_if must name an earlier choice")
        seen[key] = question
    return data


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
                choices=item.get("choices", []),
                favourable=item.get("favourable", []),
                show_if=item.get("show_if"),
                recommendations=[codes[c] for c in item.get("recommendations", [])],
            )
        )
    session.add(question_set)
    session.flush()
    return question_set, True


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
