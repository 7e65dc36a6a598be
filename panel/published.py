"""The one function every page, pack, file and API answer reads its figures from.

``published`` reads the latest release of a council (``panel.release``) for one filter
combination and returns typed rows, already decided (``panel.rules``) and rounded
(``rules.shown_count``, ``rules.shown_percent``). A hidden value is None, shown as "*"
(JSON null). Every row has a key made of codes (question key, recommendation code, band
value, group id, round id, year), never of an English label.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from challenge_cards import reads as cards
from panel.dashboards.queries import Filters
from panel.models import FigureRelease, PublishedFigure, ReleasedGroup, ReleasedRound
from panel.release import AGE_ORDER, Combination, latest_release
from panel.rules import rate_shown, shown_count, shown_percent
from participation.councils.models import Group
from surveys import reads as surveys

SPLITS = ("year", "age_band", "group")
STAGE_LABELS = {
    "raised": "Raised",
    "sent": "Sent to a service",
    "answered": "Answered",
    "changed": "Changed",
}


@dataclass(frozen=True)
class IndicatorRow:
    key: str  # "question:<key>@<filters>"
    item: str  # the question key
    text: str
    base: int | None
    share: int | None


@dataclass(frozen=True)
class SplitRow:
    key: str  # "question:<key>@<filters of the part>"
    part: str  # the code of the part: a year, a band value, a group id
    label: str
    base: int | None
    share: int | None


@dataclass(frozen=True)
class EvidenceRow:
    key: str  # "recommendation:<code>@<filters>"
    code: str
    title: str
    base: int | None
    share: int | None
    text_tags: int | None
    cards_raised: int | None
    cards_answered: int | None
    cards_changed: int | None


@dataclass(frozen=True)
class RateRow:
    key: str  # "rate:r<round id>.g<group id>"
    round_id: int
    round: str
    group_id: int
    group: str
    sent: int | None
    expected: int | None
    known: bool
    rate: int | None


@dataclass(frozen=True)
class StageRow:
    key: str  # "cards:<stage>"
    stage: str
    label: str
    count: int | None


@dataclass
class Published:
    """What may be shown for one filter combination, from one release."""

    release_id: int | None
    released_at: datetime | None
    filters: Filters
    filter_key: str
    indicators: list[IndicatorRow] = field(default_factory=list)
    evidence: list[EvidenceRow] = field(default_factory=list)
    response_rates: list[RateRow] = field(default_factory=list)
    stages: list[StageRow] = field(default_factory=list)
    median_days: float | None = None
    overdue: int | None = None
    splits: dict[str, list[SplitRow]] = field(default_factory=dict)
    splits_by_question: dict[str, dict[str, list[SplitRow]]] = field(default_factory=dict)
    years: list[int] = field(default_factory=list)
    age_bands: list[str] = field(default_factory=list)
    question_texts: dict[str, str] = field(default_factory=dict)


def combination(filters: Filters) -> Combination:
    return Combination(
        year=filters.year,
        round_id=filters.round_id,
        age_band=filters.age_band.value if filters.age_band else None,
        group_id=filters.group_id,
    )


@dataclass(frozen=True)
class _Figure:
    filter_key: str
    item: str
    answered: int
    favourable: int
    base_shown: bool
    share_shown: bool


def _figures(
    session: Session, release_id: int, filter_keys: list[str], item_kind: str
) -> list[_Figure]:
    """Stored figures as plain rows (no ORM objects: a page reads a few hundred)."""
    return [
        _Figure(*row)
        for row in session.execute(
            select(
                PublishedFigure.filter_key,
                PublishedFigure.item,
                PublishedFigure.answered,
                PublishedFigure.favourable,
                PublishedFigure.base_shown,
                PublishedFigure.share_shown,
            ).where(
                PublishedFigure.release_id == release_id,
                PublishedFigure.filter_key.in_(filter_keys),
                PublishedFigure.item_kind == item_kind,
            )
        )
    ]


def _base(f: _Figure) -> int | None:
    return shown_count(f.answered) if f.base_shown else None


def _share(f: _Figure) -> int | None:
    return shown_percent(f.favourable, f.answered) if f.share_shown else None


@dataclass
class ReleaseLabels:
    """What every read of one release needs besides its figures: its rounds and groups,
    and the names people read. Read once per call, or once for many (the auditor)."""

    rounds: dict[int, ReleasedRound]
    groups: list[ReleasedGroup]
    texts: dict[str, str]
    group_names: dict[int, str]
    round_names: dict[int, str]

    @classmethod
    def read(cls, session: Session, council_id: int, release: FigureRelease) -> ReleaseLabels:
        return cls(
            rounds={
                r.round_id: r
                for r in session.scalars(
                    select(ReleasedRound).where(ReleasedRound.release_id == release.id)
                )
            },
            groups=list(
                session.scalars(select(ReleasedGroup).where(ReleasedGroup.release_id == release.id))
            ),
            texts=surveys.question_texts(session),
            group_names=group_names(session, council_id),
            round_names=surveys.round_names(session, council_id),
        )


def published(
    session: Session,
    council_id: int,
    filters: Filters,
    *,
    splits_for: str | tuple[str, ...] | None = None,
    release: FigureRelease | None = None,
    labels: ReleaseLabels | None = None,
) -> Published:
    """Every figure shown for ``filters`` (and, with ``splits_for``, that question split by
    year, age band and group; with several keys, ``splits_by_question`` holds each), from
    the council's latest release (or ``release``, with its ``labels`` if already read)."""
    release = release or latest_release(session, council_id)
    combo = combination(filters)
    out = Published(
        release_id=release.id if release else None,
        released_at=release.made_at if release else None,
        filters=filters,
        filter_key=combo.key,
    )
    if release is None:
        # Nothing released yet: the card stages are there, hidden (no figure is missing).
        out.stages = [StageRow(f"cards:{n}", n, label, None) for n, label in STAGE_LABELS.items()]
        return out
    labels = labels or ReleaseLabels.read(session, council_id, release)
    rounds = labels.rounds
    out.years = sorted({r.year for r in rounds.values()}, reverse=True)
    out.age_bands = [b for b in AGE_ORDER if b in {r.age_band for r in rounds.values()}]
    texts = labels.texts
    out.question_texts = texts
    for f in sorted(_figures(session, release.id, [combo.key], "question"), key=lambda f: f.item):
        out.indicators.append(
            IndicatorRow(
                f"question:{f.item}@{combo.key}",
                f.item,
                texts.get(f.item, f.item),
                _base(f),
                _share(f),
            )
        )
    fixed = release.fixed or {}
    evidence_figures = {
        f.item: f for f in _figures(session, release.id, [combo.key], "recommendation")
    }
    for code, title in fixed.get("titles", {}).items():
        row = evidence_figures.get(code)
        extra = fixed.get("evidence", {}).get(code, {})
        out.evidence.append(
            EvidenceRow(
                f"recommendation:{code}@{combo.key}",
                code,
                title,
                _base(row) if row else None,
                _share(row) if row else None,
                shown_count(extra.get("text_tags")),
                shown_count(extra.get("cards_raised")),
                shown_count(extra.get("cards_answered")),
                shown_count(extra.get("cards_changed")),
            )
        )
    out.response_rates = _rates(release, labels, combo)
    funnel = fixed.get("cards", {})
    out.stages = [
        StageRow(f"cards:{name}", name, STAGE_LABELS.get(name, name), shown_count(value))
        for name, value in funnel.get("stages", [])
    ]
    out.median_days = funnel.get("median_days")
    out.overdue = shown_count(funnel.get("overdue"))
    if splits_for is not None:
        keys = (splits_for,) if isinstance(splits_for, str) else splits_for
        out.splits_by_question = _splits(session, release, labels, filters, keys)
        if isinstance(splits_for, str):
            out.splits = out.splits_by_question.get(splits_for, {})
    return out


def _rates(release: FigureRelease, labels: ReleaseLabels, combo: Combination) -> list[RateRow]:
    rounds = labels.rounds
    wanted = {
        rid
        for rid, r in rounds.items()
        if (combo.round_id is None or rid == combo.round_id)
        and (combo.year is None or r.year == combo.year)
        and (combo.age_band is None or r.age_band == combo.age_band)
    }
    rows = []
    for g in labels.groups:
        if g.round_id not in wanted or (
            combo.group_id is not None and g.group_id != combo.group_id
        ):
            continue
        shown = rate_shown(g.sent, g.expected, release.threshold)
        rows.append(
            RateRow(
                key=f"rate:r{g.round_id}.g{g.group_id}",
                round_id=g.round_id,
                round=labels.round_names.get(g.round_id, rounds[g.round_id].name),
                group_id=g.group_id,
                group=labels.group_names.get(g.group_id, str(g.group_id)),
                sent=shown_count(g.sent) if shown else None,
                expected=shown_count(g.expected) if shown else None,
                known=g.expected is not None,
                rate=shown_percent(g.sent, g.expected) if shown else None,
            )
        )
    order = {rid: (r.year, rid) for rid, r in rounds.items()}
    rows.sort(key=lambda r: (tuple(-x for x in order[r.round_id]), r.group))
    return rows


def _splits(
    session: Session,
    release: FigureRelease,
    labels: ReleaseLabels,
    filters: Filters,
    question_keys: tuple[str, ...],
) -> dict[str, dict[str, list[SplitRow]]]:
    """Each question for the filters plus each part of each split. A part is there when
    the release's design puts the question in it (a round of that year asks it, say),
    whatever the counts: a hidden year shows as hidden, never as missing."""
    from dataclasses import replace

    names = labels.group_names
    base = combination(filters)
    plans: dict[str, dict[str, list[tuple[str, str, Combination]]]] = {}
    for key in question_keys:
        asking = {rid: r for rid, r in labels.rounds.items() if key in r.question_keys}
        groups = {g.group_id for g in labels.groups if g.round_id in asking}
        plans[key] = {
            "year": [
                (str(y), str(y), replace(base, year=y))
                for y in sorted({r.year for r in asking.values()})
            ],
            "age_band": [
                (b, b, replace(base, age_band=b))
                for b in AGE_ORDER
                if b in {r.age_band for r in asking.values()}
            ],
            "group": [
                (str(g), names.get(g, str(g)), replace(base, group_id=g))
                for g in sorted(groups, key=lambda g: (names.get(g, ""), g))
            ],
        }
    wanted = sorted(
        {c.key for parts in plans.values() for rows in parts.values() for _p, _l, c in rows}
    )
    found = {
        (f.filter_key, f.item): f
        for f in _figures(session, release.id, wanted, "question")
        if f.item in plans
    }
    out: dict[str, dict[str, list[SplitRow]]] = {}
    for key, parts in plans.items():
        out[key] = {}
        for by, rows in parts.items():
            out[key][by] = []
            for part, label, c in rows:
                f = found.get((c.key, key))
                if f is None:
                    # Another filter leaves nothing of this part (a group of another band).
                    continue
                out[key][by].append(
                    SplitRow(f"question:{key}@{c.key}", part, label, _base(f), _share(f))
                )
    return out


def released_rounds(session: Session, release_id: int | None) -> list[ReleasedRound]:
    """The rounds a release holds (the filter menus offer these)."""
    if release_id is None:
        return []
    return list(
        session.scalars(select(ReleasedRound).where(ReleasedRound.release_id == release_id))
    )


def group_names(session: Session, council_id: int) -> dict[int, str]:
    return dict(
        session.execute(select(Group.id, Group.name).where(Group.council_id == council_id))
        .tuples()
        .all()
    )


def highlights(session: Session, council_id: int, limit: int = 5) -> list[dict[str, Any]]:
    """Recent "you said, we did": moderated public words only (no figures)."""
    return cards.you_said_we_did(session, council_id, limit)
