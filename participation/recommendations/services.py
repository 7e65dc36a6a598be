"""Tagging submissions against the catalogue. Services flush; views commit."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from participation import audit
from participation.accounts.models import StaffUser
from participation.db import utcnow
from participation.recommendations.models import (
    EvidenceTag,
    Recommendation,
    TagSource,
    TagStatus,
)
from participation.recommendations.tagging import Tagger, TagSuggestion
from participation.subjects import SubjectType


class TaggingError(ValueError):
    """A tag change that cannot be made; the message is safe to show."""


@lru_cache(maxsize=1)
def default_tagger() -> Tagger:
    """The tagger built from vocabulary.yaml, once per process."""
    return Tagger.load()


def _recommendation_ids(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(Recommendation.code, Recommendation.id).where(Recommendation.active.is_(True))
    )
    return {code: rec_id for code, rec_id in rows}


def suggest_tags(
    session: Session,
    *,
    council_id: int,
    subject_type: SubjectType,
    subject_id: int,
    text: str,
    tagger: Tagger | None = None,
    suggestions: list[TagSuggestion] | None = None,
) -> list[EvidenceTag]:
    """Store the matcher's suggestions for a text as pending tags (existing tags are kept).

    ``suggestions`` lets a caller run the matcher before its write transaction begins.
    """
    if suggestions is None:
        suggestions = (tagger or default_tagger()).suggest(text)
    if not suggestions:
        return []
    ids = _recommendation_ids(session)
    existing = set(
        session.scalars(
            select(EvidenceTag.recommendation_id).where(
                EvidenceTag.subject_type == subject_type, EvidenceTag.subject_id == subject_id
            )
        )
    )
    tags = []
    for suggestion in suggestions:
        rec_id = ids.get(suggestion.code)
        if rec_id is None or rec_id in existing:
            continue
        tag = EvidenceTag(
            council_id=council_id,
            subject_type=subject_type,
            subject_id=subject_id,
            recommendation_id=rec_id,
            source=TagSource.MATCHER,
            status=TagStatus.PENDING,
            score=round(suggestion.score, 4),
            evidence=list(suggestion.evidence),
        )
        session.add(tag)
        tags.append(tag)
    session.flush()
    return tags


def withdraw_pending_suggestions(
    session: Session, subject_type: SubjectType, subject_id: int
) -> None:
    """The child changed their words: suggestions for the old words no longer apply."""
    for tag in session.scalars(
        select(EvidenceTag).where(
            EvidenceTag.subject_type == subject_type,
            EvidenceTag.subject_id == subject_id,
            EvidenceTag.status == TagStatus.PENDING,
            EvidenceTag.source == TagSource.MATCHER,
        )
    ):
        session.delete(tag)
    session.flush()


def retag(
    session: Session,
    *,
    council_id: int,
    subject_type: SubjectType,
    subject_id: int,
    text: str,
    suggestions: list[TagSuggestion] | None = None,
) -> list[EvidenceTag]:
    """The child's words are new or changed: replace pending suggestions with fresh ones."""
    withdraw_pending_suggestions(session, subject_type, subject_id)
    return suggest_tags(
        session,
        council_id=council_id,
        subject_type=subject_type,
        subject_id=subject_id,
        text=text,
        suggestions=suggestions,
    )


def decide_tag(session: Session, tag: EvidenceTag, confirm: bool, by: StaffUser) -> None:
    """A worker confirms a suggestion (it counts) or rejects it (it is kept, not counted)."""
    if tag.council_id != by.council_id:
        raise TaggingError("This tag belongs to another council.")
    tag.status = TagStatus.CONFIRMED if confirm else TagStatus.REJECTED
    tag.decided_by_id = by.id
    tag.decided_at = utcnow()
    session.flush()
    audit.record(
        session,
        audit.AuditAction.TAG_CONFIRMED if confirm else audit.AuditAction.TAG_REJECTED,
        actor=by,
        target_type="evidence_tag",
        target_id=tag.id,
        detail={"code": tag.recommendation.code, "subject": tag.subject_type.value},
    )


def add_tag(
    session: Session,
    *,
    subject_type: SubjectType,
    subject_id: int,
    code: str,
    by: StaffUser,
) -> EvidenceTag:
    """A worker adds a tag the matcher missed; it counts at once."""
    rec_id = _recommendation_ids(session).get(code)
    if rec_id is None:
        raise TaggingError("There is no recommendation with that code.")
    tag = session.scalar(
        select(EvidenceTag).where(
            EvidenceTag.subject_type == subject_type,
            EvidenceTag.subject_id == subject_id,
            EvidenceTag.recommendation_id == rec_id,
        )
    )
    if tag is None:
        tag = EvidenceTag(
            council_id=by.council_id,
            subject_type=subject_type,
            subject_id=subject_id,
            recommendation_id=rec_id,
            source=TagSource.WORKER,
            status=TagStatus.PENDING,
            evidence=[],
        )
        session.add(tag)
        session.flush()
    decide_tag(session, tag, True, by)
    return tag


def tags_for(
    session: Session, subject_type: SubjectType, subject_id: int, council_id: int
) -> list[EvidenceTag]:
    """A submission's tags, strongest first, only within the given council."""
    return list(
        session.scalars(
            select(EvidenceTag)
            .where(
                EvidenceTag.subject_type == subject_type,
                EvidenceTag.subject_id == subject_id,
                EvidenceTag.council_id == council_id,
            )
            .order_by(EvidenceTag.score.desc().nulls_last(), EvidenceTag.id)
        )
    )


def apply_decisions(
    session: Session,
    *,
    subject_type: SubjectType,
    subject_id: int,
    council_id: int,
    choices: Mapping[str, str],
    add_code: str,
    by: StaffUser,
) -> None:
    """A worker's tag form: ``tag-<id>`` = confirm/reject for pending tags, and a code to add.

    Tags of other submissions or councils are ignored; raises TaggingError for a bad code.
    """
    from participation.forms import parse_row_id

    tags = {t.id: t for t in tags_for(session, subject_type, subject_id, council_id)}
    for key, value in choices.items():
        tag_id = parse_row_id(key.removeprefix("tag-")) if key.startswith("tag-") else None
        tag = tags.get(tag_id) if tag_id is not None else None
        if tag is not None and value in ("confirm", "reject") and tag.status is TagStatus.PENDING:
            decide_tag(session, tag, value == "confirm", by)
    if add_code:
        add_tag(session, subject_type=subject_type, subject_id=subject_id, code=add_code, by=by)
