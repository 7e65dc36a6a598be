"""Every models module, imported once so that ``Base.metadata`` holds every table.

Alembic's env.py and the app factory import this; feature packages add their models here.
"""

from participation.accounts.models import StaffRole, StaffUser
from participation.audit import AuditEvent
from participation.councils.models import Council, Group, JoinCode, Participant
from participation.db import Base
from participation.outbox import OutboxEmail
from participation.recommendations.models import EvidenceTag, Recommendation
from participation.safeguarding.models import AlertAction, SafeguardingAlert

__all__ = [
    "AlertAction",
    "AuditEvent",
    "Base",
    "Council",
    "EvidenceTag",
    "Group",
    "JoinCode",
    "OutboxEmail",
    "Participant",
    "Recommendation",
    "SafeguardingAlert",
    "StaffRole",
    "StaffUser",
]
