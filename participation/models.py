"""Every models module, imported once so that ``Base.metadata`` holds every table.

Alembic's env.py and the app factory import this; feature packages add their models here.
"""

from participation.accounts.models import StaffRole, StaffUser
from participation.audit import AuditEvent
from participation.councils.models import Council, Group, JoinCode, Participant
from participation.db import Base
from participation.recommendations.models import Recommendation

__all__ = [
    "AuditEvent",
    "Base",
    "Council",
    "Group",
    "JoinCode",
    "Participant",
    "Recommendation",
    "StaffRole",
    "StaffUser",
]
