"""A read-only copy of each question-set version a process has used.

A stored version never changes (a changed file makes a new version with a new content
hash), so a survey page need not reload its questions and decode their JSON on every
request: the round's row carries the set's id and content hash, and the questions come
from here. The copy is keyed by database, id, content hash and creation time, so a row id
used again after a rollback gets its own entry. It is immutable (frozen dataclasses,
tuples and read-only mappings), so threads may share it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload

from participation.councils.models import AgeBand
from surveys.models import Question, QuestionKind, QuestionSet

MAX_VERSIONS = 256  # far more versions than a council ever runs at once


@dataclass(frozen=True)
class CachedQuestion:
    id: int
    key: str
    position: int
    kind: QuestionKind
    text: Any
    hint: Any
    choices: tuple[Any, ...]
    favourable: tuple[str, ...]
    show_if: Any

    @property
    def choice_values(self) -> list[str]:
        return [c["value"] for c in self.choices]


@dataclass(frozen=True)
class CachedQuestionSet:
    id: int
    key: str
    version: int
    content_hash: str
    age_band: AgeBand
    title: Any
    welcome: Any
    languages: tuple[str, ...]
    questions: tuple[CachedQuestion, ...]

    def local(self, field: Any, lang: str) -> Any:
        """A field in ``lang`` if this set has it, else English (as QuestionSet.local)."""
        return field.get(lang) if lang in self.languages and field.get(lang) else field["en"]


_lock = threading.Lock()
_copies: dict[tuple[str, int, str, Any], CachedQuestionSet] = {}


def _frozen(value: Any) -> Any:
    """JSON data made read-only: dicts as mapping proxies, lists as tuples."""
    if isinstance(value, dict):
        return MappingProxyType({k: _frozen(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


def question_set(session: Session, stored: QuestionSet) -> CachedQuestionSet:
    """The read-only copy of ``stored`` (its row only is needed; questions load on a miss)."""
    # The creation time too: a rolled-back row's id can be used again (SQLite, tests).
    key = (str(session.get_bind().engine.url), stored.id, stored.content_hash, stored.created_at)
    found = _copies.get(key)
    if found is not None:
        return found
    questions = session.scalars(
        select(Question).where(Question.question_set_id == stored.id).order_by(Question.position)
    ).all()
    copy = CachedQuestionSet(
        id=stored.id,
        key=stored.key,
        version=stored.version,
        content_hash=stored.content_hash,
        age_band=stored.age_band,
        title=_frozen(stored.title),
        welcome=_frozen(stored.welcome),
        languages=tuple(stored.languages),
        questions=tuple(
            CachedQuestion(
                id=q.id,
                key=q.key,
                position=q.position,
                kind=q.kind,
                text=_frozen(q.text),
                hint=_frozen(q.hint),
                choices=_frozen(q.choices or []),
                favourable=tuple(q.favourable or ()),
                show_if=_frozen(q.show_if),
            )
            for q in questions
        ),
    )
    with _lock:
        if len(_copies) >= MAX_VERSIONS:
            _copies.clear()
        _copies[key] = copy
    return copy


def question_set_by_id(session: Session, question_set_id: int) -> CachedQuestionSet | None:
    stored = session.get(QuestionSet, question_set_id, options=[lazyload(QuestionSet.questions)])
    return question_set(session, stored) if stored is not None else None
