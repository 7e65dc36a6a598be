"""Making a release: recount sent responses, decide once what may be shown, store it.

A release is made when a round closes, or, for an open round, when at least
``PANEL_RELEASE_MIN_NEW_RESPONSES`` new sent responses have arrived since the round was
last counted. Between releases nothing a councillor can read moves, so two reads around
one child's answer (or one child's send) are the same.

What may be shown is decided here, for every filter combination at once, by ``decide``:
see ``panel.rules`` for the rules and why.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from challenge_cards import reads as cards
from panel import rules
from panel.models import (
    FigureRelease,
    PublishedFigure,
    ReleasedCount,
    ReleasedGroup,
    ReleasedRound,
)
from participation.councils.models import AgeBand
from participation.recommendations.models import Recommendation
from surveys import reads as surveys

AGE_ORDER = [band.value for band in AgeBand]


@dataclass(frozen=True)
class Combination:
    """One filter combination, by codes: year, round id, age band value, group id."""

    year: int | None = None
    round_id: int | None = None
    age_band: str | None = None
    group_id: int | None = None

    @property
    def key(self) -> str:
        """A stable key made of codes: ``y2026.r12.b8-11.g3`` (``-`` for no filter)."""

        def part(value: Any) -> str:
            return "-" if value is None else str(value)

        return (
            f"y{part(self.year)}.r{part(self.round_id)}"
            f".b{part(self.age_band)}.g{part(self.group_id)}"
        )


@dataclass
class Structure:
    """What a release covers, by design rather than by what children answered: its
    rounds (year, band, questions asked) and the groups in each. Whether a figure exists
    depends on this alone, never on how many children answered."""

    rounds: dict[int, ReleasedRound]
    round_groups: set[tuple[int, int]]
    recommendations: dict[str, list[str]] = field(default_factory=dict)  # code -> keys

    def rounds_in(self, c: Combination) -> list[int]:
        return [
            rid
            for rid, r in self.rounds.items()
            if (c.round_id is None or rid == c.round_id)
            and (c.year is None or r.year == c.year)
            and (c.age_band is None or r.age_band == c.age_band)
        ]

    def support(self, c: Combination, question_key: str) -> frozenset[tuple[int, int]]:
        """The (round, group) cells whose answers to the question a figure under ``c`` sums."""
        rounds = {
            rid for rid in self.rounds_in(c) if question_key in self.rounds[rid].question_keys
        }
        return frozenset(
            (rid, gid)
            for rid, gid in self.round_groups
            if rid in rounds and (c.group_id is None or gid == c.group_id)
        )

    def question_keys(self) -> list[str]:
        return sorted({k for r in self.rounds.values() for k in r.question_keys})

    def years(self) -> list[int]:
        return sorted({r.year for r in self.rounds.values()})

    def age_bands(self) -> list[str]:
        present = {r.age_band for r in self.rounds.values()}
        return [band for band in AGE_ORDER if band in present]

    def groups(self) -> list[int]:
        return sorted({gid for _rid, gid in self.round_groups})

    def combinations(self) -> list[Combination]:
        """Every filter combination a page can ask for that selects some round and group."""
        found = []
        for year in [None, *self.years()]:
            for band in [None, *self.age_bands()]:
                for round_id in [None, *sorted(self.rounds)]:
                    if round_id is not None:
                        r = self.rounds[round_id]
                        if (year is not None and r.year != year) or (
                            band is not None and r.age_band != band
                        ):
                            continue
                    for group_id in [None, *self.groups()]:
                        c = Combination(year, round_id, band, group_id)
                        rounds = set(self.rounds_in(c))
                        if any(
                            rid in rounds and (group_id is None or gid == group_id)
                            for rid, gid in self.round_groups
                        ):
                            found.append(c)
        return found


def latest_release(session: Session, council_id: int) -> FigureRelease | None:
    return session.scalar(
        select(FigureRelease)
        .where(FigureRelease.council_id == council_id)
        .order_by(FigureRelease.id.desc())
        .limit(1)
    )


def structure_of(session: Session, release: FigureRelease) -> Structure:
    rounds = {
        r.round_id: r
        for r in session.scalars(
            select(ReleasedRound).where(ReleasedRound.release_id == release.id)
        )
    }
    round_groups = {
        (rid, gid)
        for rid, gid in session.execute(
            select(ReleasedGroup.round_id, ReleasedGroup.group_id).where(
                ReleasedGroup.release_id == release.id
            )
        )
    }
    recs = {code: list(keys) for code, keys in release.fixed.get("recommendations", {}).items()}
    return Structure(rounds, round_groups, recs)


def counts_of(session: Session, release_id: int) -> dict[tuple[int, int, str], tuple[int, int]]:
    """(round, group, question key) -> (answered, favourable) in a release."""
    return {
        (r.round_id, r.group_id, r.question_key): (r.answered, r.favourable)
        for r in session.execute(
            select(
                ReleasedCount.round_id,
                ReleasedCount.group_id,
                ReleasedCount.question_key,
                ReleasedCount.answered,
                ReleasedCount.favourable,
            ).where(ReleasedCount.release_id == release_id)
        )
    }


# Deciding when -------------------------------------------------------------------------


def due_rounds(
    session: Session, council_id: int, now: datetime, min_new: int, force: bool = False
) -> tuple[list[surveys.RoundOutline], dict[int, ReleasedRound], dict[tuple[int, int], int]]:
    """The rounds to recount now, the previous release's rounds, and sent responses now.

    On the schedule: a round that closed since its last count, or an open round with at
    least ``min_new`` new sent responses. With ``force`` (a person's command, after a
    child's answers were deleted, say) also every round whose sent responses changed.
    """
    previous = latest_release(session, council_id)
    before: dict[int, ReleasedRound] = {}
    if previous is not None:
        before = {
            r.round_id: r
            for r in session.scalars(
                select(ReleasedRound).where(ReleasedRound.release_id == previous.id)
            )
        }
    outlines = surveys.rounds_of_council(session, council_id)
    sent = surveys.sent_responses(session, [r.id for r in outlines])
    due = []
    for outline in outlines:
        closed = outline.closes_at <= now
        total = sum(n for (rid, _gid), n in sent.items() if rid == outline.id)
        last = before.get(outline.id)
        if force and (total != (last.counted_responses if last else 0) or last is None):
            due.append(outline)
        elif last is None:
            if closed or total >= min_new:
                due.append(outline)
        elif closed and not last.closed:
            due.append(outline)  # the round closed: its final count
        elif not closed and total - last.counted_responses >= min_new:
            due.append(outline)
    return due, before, sent


def release_due(session: Session, council_id: int, now: datetime, min_new: int) -> bool:
    due, _before, _sent = due_rounds(session, council_id, now, min_new)
    return bool(due)


def make_release(
    session: Session,
    council_id: int,
    now: datetime,
    *,
    threshold: int,
    min_new: int,
    reason: str = "schedule",
    force: bool = False,
) -> FigureRelease | None:
    """Make a release if a round is due (or ``force``: the card figures are refreshed and
    due rounds recounted, others kept as last released). Returns it, or None."""
    due, before, sent = due_rounds(session, council_id, now, min_new, force)
    if not due and not force and latest_release(session, council_id) is not None:
        return None
    previous = latest_release(session, council_id)
    old_counts = counts_of(session, previous.id) if previous is not None else {}
    old_groups: dict[tuple[int, int], ReleasedGroup] = {}
    if previous is not None:
        old_groups = {
            (g.round_id, g.group_id): g
            for g in session.scalars(
                select(ReleasedGroup).where(ReleasedGroup.release_id == previous.id)
            )
        }
    due_ids = {r.id for r in due}
    outlines = {r.id: r for r in surveys.rounds_of_council(session, council_id)}
    sizes = surveys.groups_in_rounds(session, council_id)
    fresh = {
        (c.round_id, c.group_id, c.question_key): (c.answered, c.favourable)
        for c in surveys.counted_answers(session, sorted(due_ids))
    }

    release = FigureRelease(council_id=council_id, made_at=now, reason=reason, threshold=threshold)
    session.add(release)
    session.flush()
    rounds: dict[int, ReleasedRound] = {}
    counts: dict[tuple[int, int, str], tuple[int, int]] = {}
    group_rows: list[dict[str, Any]] = []
    for rid, outline in outlines.items():
        last = before.get(rid)
        if rid in due_ids:
            counted = sum(n for (r, _g), n in sent.items() if r == rid)
            rounds[rid] = ReleasedRound(
                release_id=release.id,
                round_id=rid,
                name=outline.name,
                year=outline.year,
                age_band=outline.age_band.value,
                question_keys=list(outline.question_keys),
                counted_responses=counted,
                counted_at=now,
                closed=outline.closes_at <= now,
            )
            counts.update({k: v for k, v in fresh.items() if k[0] == rid})
            for size in sizes:
                if size.round_id == rid:
                    group_rows.append(
                        {
                            "release_id": release.id,
                            "round_id": rid,
                            "group_id": size.group_id,
                            "sent": sent.get((rid, size.group_id), 0),
                            "expected": size.expected_size,
                        }
                    )
        elif last is not None:
            rounds[rid] = ReleasedRound(
                release_id=release.id,
                round_id=rid,
                name=last.name,
                year=last.year,
                age_band=last.age_band,
                question_keys=list(last.question_keys),
                counted_responses=last.counted_responses,
                counted_at=last.counted_at,
                closed=last.closed,
            )
            counts.update({k: v for k, v in old_counts.items() if k[0] == rid})
            group_rows.extend(
                {
                    "release_id": release.id,
                    "round_id": g.round_id,
                    "group_id": g.group_id,
                    "sent": g.sent,
                    "expected": g.expected,
                }
                for (r, _gid), g in old_groups.items()
                if r == rid
            )
    session.add_all(rounds.values())
    if group_rows:
        session.execute(insert(ReleasedGroup), group_rows)
    if counts:
        session.execute(
            insert(ReleasedCount),
            [
                {
                    "release_id": release.id,
                    "round_id": r,
                    "group_id": g,
                    "question_key": q,
                    "answered": a,
                    "favourable": f,
                }
                for (r, g, q), (a, f) in counts.items()
            ],
        )
    recommendations = _recommendations(session, rounds.values())
    structure = Structure(
        rounds,
        {(row["round_id"], row["group_id"]) for row in group_rows},
        {code: keys for code, (_id, _title, keys) in recommendations.items()},
    )
    figures = rules.decide(structure, counts, threshold)
    if figures:
        session.execute(
            insert(PublishedFigure),
            [{"release_id": release.id, **f.as_row()} for f in figures],
        )
    release.fixed = _fixed_figures(session, council_id, now, threshold, recommendations)
    session.flush()
    return release


def _recommendations(
    session: Session, rounds: Iterable[ReleasedRound]
) -> dict[str, tuple[int, str, list[str]]]:
    """Active recommendation code -> (id, title, the released question keys it sums)."""
    asked = {k for r in rounds for k in r.question_keys}
    by_question = surveys.recommendations_of_questions(session)
    found = {}
    for rec in session.scalars(
        select(Recommendation)
        .where(Recommendation.active.is_(True))
        .order_by(Recommendation.sort_order, Recommendation.code)
    ):
        keys = sorted(k for k in asked if rec.id in by_question.get(k, set()))
        found[rec.code] = (rec.id, rec.title, keys)
    return found


def _fixed_figures(
    session: Session,
    council_id: int,
    now: datetime,
    threshold: int,
    recommendations: dict[str, tuple[int, str, list[str]]],
) -> dict[str, Any]:
    """The figures no filter changes, decided: the card funnel, tags and cards per row."""
    stages = cards.card_stages(session, council_id, now)
    by_rec = cards.cards_by_recommendation(session, council_id)
    tags = surveys.confirmed_text_tags(session, council_id)
    evidence = {}
    for code, (rec_id, _title, _keys) in recommendations.items():
        raised = by_rec.get(rec_id, {"raised": 0, "answered": 0, "changed": 0})
        evidence[code] = rules.decide_card_counts(
            raised["raised"], raised["answered"], raised["changed"], threshold
        ) | {
            "text_tags": rules.lone_count(tags.get(rec_id, 0), threshold),
            "text_tags_true": tags.get(rec_id, 0),
        }
    return {
        "recommendations": {code: keys for code, (_i, _t, keys) in recommendations.items()},
        "titles": {code: title for code, (_i, title, _k) in recommendations.items()},
        "cards": rules.decide_funnel(stages, threshold),
        "evidence": evidence,
    }
