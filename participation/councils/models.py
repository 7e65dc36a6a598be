"""Councils, their children's groups, join codes and pseudonymous participants."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from participation.db import Base, enum_type, utcnow


class AgeBand(enum.Enum):
    AGES_4_7 = "4-7"
    AGES_8_11 = "8-11"
    AGES_11_17 = "11-17"
    CARE_LEAVERS_16_25 = "16-25"

    @property
    def label(self) -> Any:
        """The name people read, translated when shown (a lazy string)."""
        return AGE_BAND_LABELS[self]


AGE_BAND_LABELS = {
    AgeBand.AGES_4_7: _l("Ages 4 to 7"),
    AgeBand.AGES_8_11: _l("Ages 8 to 11"),
    AgeBand.AGES_11_17: _l("Ages 11 to 17"),
    AgeBand.CARE_LEAVERS_16_25: _l("Care leavers, 16 to 25"),
}


class GroupKind(enum.Enum):
    CHILDREN_IN_CARE = "children_in_care"
    CARE_LEAVERS = "care_leavers"
    CARERS_OWN_CHILDREN = "carers_own_children"

    @property
    def label(self) -> Any:
        """The name people read, translated when shown (a lazy string)."""
        return GROUP_KIND_LABELS[self]


GROUP_KIND_LABELS = {
    GroupKind.CHILDREN_IN_CARE: _l("Children in care"),
    GroupKind.CARE_LEAVERS: _l("Care leavers"),
    GroupKind.CARERS_OWN_CHILDREN: _l("Foster carers' own children"),
}


class Council(Base):
    __tablename__ = "council"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160), unique=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Group(Base):
    """A Children in Care Council group (or a care leavers' forum) that children join."""

    __tablename__ = "participation_group"
    __table_args__ = (UniqueConstraint("council_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("council.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    age_band: Mapped[AgeBand] = mapped_column(enum_type(AgeBand))
    kind: Mapped[GroupKind] = mapped_column(enum_type(GroupKind))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The participation worker who runs the group: whom the safeguarding lead asks first.
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    # How many children the group has, as its worker last recorded it (on a round's page):
    # joins beyond it wait for the worker to confirm them (Membership.beyond_size).
    recorded_size: Mapped[int | None] = mapped_column()

    council: Mapped[Council] = relationship()
    worker = relationship("StaffUser", foreign_keys=[worker_id])
    join_codes: Mapped[list[JoinCode]] = relationship(
        back_populates="group", order_by="JoinCode.created_at.desc()"
    )

    @property
    def current_join_code(self) -> JoinCode | None:
        return next((c for c in self.join_codes if c.retired_at is None), None)


class JoinCode(Base):
    """A short code a child types to join a group. Rotating retires the old one."""

    __tablename__ = "join_code"
    __table_args__ = (
        CheckConstraint("length(code) = 8", name="code_length"),
        # At most one live code per group, kept by the database itself.
        Index(
            "uq_join_code_one_live_per_group",
            "group_id",
            unique=True,
            sqlite_where=text("retired_at IS NULL"),
            postgresql_where=text("retired_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("council.id"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("participation_group.id"), index=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column()

    group: Mapped[Group] = relationship(back_populates="join_codes")

    @property
    def display(self) -> str:
        """The code as shown to people: two blocks of four."""
        return f"{self.code[:4]}-{self.code[4:]}"


class Participant(Base):
    """A child or young person, known only by a random token kept in their browser.

    No name, no date of birth, no contact details: the database stores a hash of the token,
    so even a copy of the database cannot be used to act as the child.
    """

    __tablename__ = "participant"

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("council.id"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("participation_group.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)

    # The group the child joined first on this phone; every group is a Membership.
    group: Mapped[Group] = relationship()
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="participant", order_by="Membership.joined_at, Membership.id"
    )


class Membership(Base):
    """One phone (one participant) in one group: a child may be in several groups.

    A join that takes the group past the size its worker recorded is ``beyond_size``: the
    worker sees it on the group page, and the child's answers through this group are not
    counted until the worker confirms (``counted_membership``).
    """

    __tablename__ = "participant_membership"
    __table_args__ = (UniqueConstraint("participant_id", "group_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("council.id"), index=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), index=True
    )
    group_id: Mapped[int] = mapped_column(ForeignKey("participation_group.id"), index=True)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    beyond_size: Mapped[bool] = mapped_column(default=False, server_default=false())
    confirmed_at: Mapped[datetime | None] = mapped_column()
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

    participant: Mapped[Participant] = relationship(back_populates="memberships")
    group: Mapped[Group] = relationship(lazy="joined")

    @property
    def counted(self) -> bool:
        return not self.beyond_size or self.confirmed_at is not None


def awaiting_confirmation(participant_id: Any, group_id: Any) -> Any:
    """SQL: this child joined this group beyond its recorded size and its worker has not
    confirmed the join yet, so what they give through the group is not counted.

    The one rule the reporting layer filters on, e.g. for sent responses:
    ``~awaiting_confirmation(Response.participant_id, Response.group_id)``. A child with no
    membership row (bulk demo data) is not awaiting anything.
    """
    from sqlalchemy import exists

    return exists().where(
        Membership.participant_id == participant_id,
        Membership.group_id == group_id,
        Membership.beyond_size.is_(True),
        Membership.confirmed_at.is_(None),
    )
