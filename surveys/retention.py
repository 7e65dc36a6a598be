"""Survey rounds past their retention period: what would go, the safeguarding export, the purge.

A round that closed more than N days ago is purged with everything children gave in it
(``services.purge_round``). First, every safeguarding alert raised from its answers that is
not closed is written, with its actions and where the words were given, to a JSON file:
the alert itself stays in the lead's queue (it keeps its own copy of the words), but the
answer, round and group it points at are about to go. If that file cannot be written and
read back, nothing is purged.

Closed alerts are neither exported nor deleted here: safeguarding records follow the
council's own (longer) retention schedule, which this application does not know.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from participation import audit
from participation.db import utcnow
from participation.safeguarding.models import AlertStatus, SafeguardingAlert
from participation.safeguarding.services import export_record
from participation.subjects import SubjectType
from surveys import services
from surveys.models import Answer, Response, SurveyRound


class ExportError(RuntimeError):
    """The safeguarding export could not be written; the message says why."""


@dataclass(frozen=True)
class RoundToPurge:
    survey_round: SurveyRound
    responses: int
    answers: int


@dataclass(frozen=True)
class OpenAlert:
    """An alert that is not closed, and where the words that raised it were given."""

    alert: SafeguardingAlert
    round_id: int
    response_id: int
    question_key: str


@dataclass(frozen=True)
class PurgePlan:
    older_than_days: int
    cutoff: datetime
    rounds: list[RoundToPurge]
    open_alerts: list[OpenAlert]

    def describe(self) -> list[str]:
        """Lines for the command's output (no child's words)."""
        lines = [
            f"Rounds that closed before {self.cutoff:%Y-%m-%d %H:%M} UTC "
            f"(more than {self.older_than_days} days ago): {len(self.rounds)}"
        ]
        for item in self.rounds:
            r = item.survey_round
            lines.append(
                f"  round {r.id} (council {r.council_id}) '{r.name}', closed "
                f"{r.closes_at:%Y-%m-%d}: {item.responses} responses, {item.answers} answers"
            )
        lines.append(f"Open safeguarding alerts raised from their answers: {len(self.open_alerts)}")
        return lines


def plan_purge(session: Session, older_than_days: int, now: datetime | None = None) -> PurgePlan:
    """The rounds that closed more than ``older_than_days`` ago and their open alerts."""
    cutoff = (now or utcnow()) - timedelta(days=older_than_days)
    rounds = list(
        session.scalars(
            select(SurveyRound).where(SurveyRound.closes_at < cutoff).order_by(SurveyRound.id)
        )
    )
    round_ids = [r.id for r in rounds]
    counts = {
        round_id: (responses, answers)
        for round_id, responses, answers in session.execute(
            select(
                Response.round_id,
                func.count(func.distinct(Response.id)),
                func.count(Answer.id),
            )
            .outerjoin(Answer, Answer.response_id == Response.id)
            .where(Response.round_id.in_(round_ids))
            .group_by(Response.round_id)
        )
    }
    open_alerts = [
        OpenAlert(alert, round_id, response_id, question_key)
        for alert, round_id, response_id, question_key in session.execute(
            select(SafeguardingAlert, Response.round_id, Response.id, Answer.question_key)
            .join(
                Answer,
                and_(
                    SafeguardingAlert.subject_type == SubjectType.SURVEY_ANSWER,
                    SafeguardingAlert.subject_id == Answer.id,
                    SafeguardingAlert.council_id == Answer.council_id,
                ),
            )
            .join(Response, Response.id == Answer.response_id)
            .where(
                Response.round_id.in_(round_ids),
                SafeguardingAlert.status != AlertStatus.CLOSED,
            )
            .order_by(SafeguardingAlert.id)
        )
    ]
    return PurgePlan(
        older_than_days=older_than_days,
        cutoff=cutoff,
        rounds=[RoundToPurge(r, *counts.get(r.id, (0, 0))) for r in rounds],
        open_alerts=open_alerts,
    )


def export_document(plan: PurgePlan, now: datetime) -> dict[str, Any]:
    """The export's content: the rounds about to go and every open alert raised in them."""
    rounds = {item.survey_round.id: item.survey_round for item in plan.rounds}
    return {
        "kind": "safeguarding alerts open before a retention purge",
        "exported_at": now.isoformat(),
        "older_than_days": plan.older_than_days,
        "cutoff": plan.cutoff.isoformat(),
        "rounds": [
            {
                "id": r.id,
                "council_id": r.council_id,
                "name": r.name,
                "opens_at": r.opens_at.isoformat(),
                "closes_at": r.closes_at.isoformat(),
            }
            for r in rounds.values()
        ],
        "alerts": [
            {
                **export_record(item.alert),
                # Where the words were given: these rows are about to be purged.
                "given_in": {
                    "round_id": item.round_id,
                    "round_name": rounds[item.round_id].name,
                    "response_id": item.response_id,
                    "question_key": item.question_key,
                },
            }
            for item in plan.open_alerts
        ],
    }


def write_export(plan: PurgePlan, directory: Path, now: datetime | None = None) -> Path:
    """Write the export (owner-only permissions), read it back, and return its path.

    Written to a temporary file and renamed, so a half-written export never carries the
    final name. Raises ExportError when anything fails; the caller then purges nothing.
    """
    now = now or utcnow()
    document = export_document(plan, now)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    temporary: Path | None = None
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        target = _free_name(directory, f"safeguarding-export-{stamp}")
        temporary = target.with_name(f".{target.name}.partial")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(document, fh, ensure_ascii=False, indent=2)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temporary, target)
        temporary = None
        written = json.loads(target.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
        raise ExportError(
            f"Could not write the safeguarding export in {directory}: {error}"
        ) from error
    if [a["id"] for a in written["alerts"]] != [item.alert.id for item in plan.open_alerts]:
        raise ExportError(f"The safeguarding export {target} did not read back whole.")
    return target


def _free_name(directory: Path, stem: str) -> Path:
    """``stem``.json in ``directory``, or ``stem``-2.json and so on: never overwrite."""
    candidate = directory / f"{stem}.json"
    number = 1
    while candidate.exists():
        number += 1
        candidate = directory / f"{stem}-{number}.json"
    return candidate


def purge(session: Session, plan: PurgePlan, export: Path) -> list[services.DeletedAnswers]:
    """Purge every round of the plan (after its export was written), auditing each one."""
    exported: dict[int, int] = {}
    for open_alert in plan.open_alerts:
        exported[open_alert.round_id] = exported.get(open_alert.round_id, 0) + 1
    results = []
    for item in plan.rounds:
        survey_round = item.survey_round
        round_id, council_id = survey_round.id, survey_round.council_id
        detail = {
            "name": survey_round.name,
            "closed_at": survey_round.closes_at.isoformat(),
            "older_than_days": plan.older_than_days,
            "export_file": export.name,
        }
        deleted = services.purge_round(session, survey_round)
        audit.record(
            session,
            audit.AuditAction.ROUND_PURGED,
            council_id=council_id,
            target_type="survey_round",
            target_id=round_id,
            detail={
                **detail,
                "responses": deleted.responses,
                "answers": deleted.answers,
                "tags": deleted.tags,
                "alerts_kept": deleted.alerts_kept,
                "open_alerts_exported": exported.get(round_id, 0),
            },
        )
        results.append(deleted)
    return results
