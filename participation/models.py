"""Every models module, imported once so that ``Base.metadata`` holds every table.

The core models are imported here; feature packages' models are listed in FEATURE_MODELS
and imported by ``import_all_models`` (the core never imports a feature at module level).
Alembic's env.py and the app factory call it.
"""

import importlib

from participation.accounts.models import StaffRole, StaffUser
from participation.audit import AuditEvent
from participation.councils.models import Council, Group, JoinCode, Participant
from participation.db import Base
from participation.jobs import BackgroundJob
from participation.outbox import OutboxEmail
from participation.recommendations.models import EvidenceTag, Recommendation
from participation.safeguarding.models import AlertAction, HelpRequest, SafeguardingAlert

__all__ = [
    "AlertAction",
    "AuditEvent",
    "BackgroundJob",
    "Base",
    "Council",
    "EvidenceTag",
    "Group",
    "HelpRequest",
    "JoinCode",
    "OutboxEmail",
    "Participant",
    "Recommendation",
    "SafeguardingAlert",
    "StaffRole",
    "StaffUser",
]

FEATURE_MODELS = ("surveys.models", "challenge_cards.models", "panel.models")


def import_all_models() -> None:
    for name in FEATURE_MODELS:
        importlib.import_module(name)
