"""Councils, groups, join codes and children joining. Services flush; views commit."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from flask import current_app, g, request
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from participation import audit
from participation.accounts.models import Role, StaffRole, StaffUser
from participation.councils.models import (
    AgeBand,
    Council,
    Group,
    GroupKind,
    JoinCode,
    Membership,
    Participant,
)
from participation.db import db, utcnow

# No 0/O, 1/I/L, 2/Z, 5/S, 8/B: a code read aloud in a group or typed on a cracked
# phone screen must not be mistaken. 25 symbols, 8 of them: about 1.5 x 10^11 codes.
JOIN_CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
JOIN_CODE_LENGTH = 8
_SEPARATORS = re.compile(r"[\s\-_.]+")


class GroupError(ValueError):
    """A group change that cannot be made; the message is safe to show."""


def generate_join_code() -> str:
    return "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(JOIN_CODE_LENGTH))


def normalise_join_code(raw: str) -> str | None:
    """Upper-case, drop spaces and dashes; None when it cannot be a join code."""
    code = _SEPARATORS.sub("", raw or "").upper()
    if len(code) != JOIN_CODE_LENGTH or any(ch not in JOIN_CODE_ALPHABET for ch in code):
        return None
    return code


def create_council(session: Session, name: str, slug: str) -> Council:
    council = Council(name=name.strip(), slug=slug.strip().lower())
    session.add(council)
    session.flush()
    return council


def create_group(
    session: Session,
    council: Council,
    *,
    name: str,
    age_band: AgeBand,
    kind: GroupKind,
    by: StaffUser | None = None,
    recorded_size: int | None = None,
) -> Group:
    """A new group with its first join code (and, if known, how many children it has: joins
    beyond that, or every join while no size is recorded, wait for the worker to confirm)."""
    name = name.strip()
    exists = session.scalar(
        select(Group.id).where(Group.council_id == council.id, Group.name == name)
    )
    if exists:
        raise GroupError("This council already has a group with that name.")
    group = Group(
        council_id=council.id,
        name=name,
        age_band=age_band,
        kind=kind,
        recorded_size=recorded_size,
    )
    session.add(group)
    session.flush()
    issue_join_code(session, group)
    audit.record(
        session,
        audit.AuditAction.GROUP_CREATED,
        actor=by,
        council_id=council.id,
        target_type="group",
        target_id=group.id,
    )
    return group


def issue_join_code(session: Session, group: Group) -> JoinCode:
    """Give the group a fresh live code; a clash with an existing code is retried."""
    for _attempt in range(10):
        code = generate_join_code()
        if session.scalar(select(JoinCode.id).where(JoinCode.code == code)) is None:
            join_code = JoinCode(council_id=group.council_id, group_id=group.id, code=code)
            session.add(join_code)
            session.flush()
            session.refresh(group, ["join_codes"])
            return join_code
    raise RuntimeError("could not find a free join code")  # pragma: no cover - 1.5e11 codes


def rotate_join_code(session: Session, group: Group, by: StaffUser | None) -> JoinCode:
    """Retire the group's live code (children already joined stay joined) and issue a new one."""
    old = group.current_join_code
    if old is not None:
        old.retired_at = utcnow()
        session.flush()
    new = issue_join_code(session, group)
    audit.record(
        session,
        audit.AuditAction.JOIN_CODE_ROTATED,
        actor=by,
        council_id=group.council_id,
        target_type="group",
        target_id=group.id,
    )
    return new


def find_join_code(session: Session, raw: str) -> JoinCode | None:
    """The join code ``raw`` names, live or retired, or None."""
    code = normalise_join_code(raw)
    if code is None:
        return None
    return session.scalar(select(JoinCode).where(JoinCode.code == code))


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def join_group(session: Session, group: Group) -> tuple[Participant, str]:
    """Create a pseudonymous participant; returns it and the token for the child's cookie."""
    for _attempt in range(3):
        token = secrets.token_urlsafe(32)
        participant = Participant(
            council_id=group.council_id, group_id=group.id, token_hash=hash_token(token)
        )
        try:
            with session.begin_nested():
                session.add(participant)
        except IntegrityError:  # pragma: no cover - 256-bit tokens do not collide
            continue
        add_membership(session, participant, group)
        return participant, token
    raise RuntimeError("could not create a participant")  # pragma: no cover


class OtherCouncil(GroupError):
    """The phone's child belongs to another council: one phone, one council."""


def add_membership(session: Session, participant: Participant, group: Group) -> Membership:
    """The child on this phone joins ``group`` too, keeping their token and every group
    they are in (and all they gave there). Joining a group twice changes nothing.

    A join that takes the group past the size its worker recorded waits for the worker to
    confirm it (``Membership.beyond_size``; see ``awaiting_confirmation``).
    """
    if group.council_id != participant.council_id:
        raise OtherCouncil("This phone is already in a group of another council.")
    existing = membership_of(session, participant, group)
    if existing is not None:
        return existing
    members = session.scalar(
        select(func.count(Membership.id)).where(Membership.group_id == group.id)
    )
    size = group.recorded_size
    membership = Membership(
        council_id=group.council_id,
        participant_id=participant.id,
        group_id=group.id,
        # No size recorded: nothing is counted on trust, since anyone with the code could
        # otherwise join as many made-up children as they like and set the figures
        # against them. The worker confirms the joins they know (or records a size).
        beyond_size=size is None or (members or 0) + 1 > size,
    )
    try:
        with session.begin_nested():
            session.add(membership)
    except IntegrityError:  # a double tap joined first
        found = membership_of(session, participant, group)
        assert found is not None
        return found
    session.expire(participant, ["memberships"])
    return membership


def membership_of(session: Session, participant: Participant, group: Group) -> Membership | None:
    return session.scalar(
        select(Membership).where(
            Membership.participant_id == participant.id, Membership.group_id == group.id
        )
    )


def groups_of(session: Session, participant: Participant) -> list[Group]:
    """Every group the child on this phone is in, in the order they joined."""
    return list(
        session.scalars(
            select(Group)
            .join(Membership, Membership.group_id == Group.id)
            .where(Membership.participant_id == participant.id)
            .order_by(Membership.joined_at, Membership.id)
        )
    )


def joins_to_confirm(session: Session, group: Group) -> list[Membership]:
    """Joins beyond the group's recorded size that its worker has not confirmed."""
    return list(
        session.scalars(
            select(Membership)
            .where(
                Membership.group_id == group.id,
                Membership.beyond_size.is_(True),
                Membership.confirmed_at.is_(None),
            )
            .order_by(Membership.joined_at, Membership.id)
        )
    )


def confirm_joins(session: Session, group: Group, ids: list[int], by: StaffUser) -> int:
    """The worker confirms joins beyond the group's size: those children are counted."""
    confirmed = 0
    for membership in joins_to_confirm(session, group):
        if membership.id in ids:
            membership.confirmed_at = utcnow()
            membership.confirmed_by_id = by.id
            confirmed += 1
    session.flush()
    if confirmed:
        audit.record(
            session,
            audit.AuditAction.MEMBERSHIP_CONFIRMED,
            actor=by,
            council_id=group.council_id,
            target_type="group",
            target_id=group.id,
            detail={"confirmed": confirmed},
        )
    return confirmed


def participant_for_token(session: Session, token: str | None) -> Participant | None:
    if not token or len(token) > 128:
        return None
    return session.scalar(select(Participant).where(Participant.token_hash == hash_token(token)))


def current_participant() -> Participant | None:
    """The child on this device, from their cookie, once per request."""
    if "participant" not in g:
        token = request.cookies.get(current_app.config["CHILD_COOKIE_NAME"])
        participant = participant_for_token(db.session, token)
        if participant is not None and utcnow() - participant.last_seen_at > timedelta(hours=1):
            participant.last_seen_at = utcnow()  # coarse, so it is not a write per page
            try:
                db.session.commit()
            except OperationalError:
                # SQLite: a page (a read) cannot wait for the write lock another request
                # holds. The time of the last visit can wait for the next page.
                db.session.rollback()
        g.participant = participant
    return g.participant


# Staff queries, always scoped to the member of staff's council -------------------------


def groups_for_staff(session: Session, user: StaffUser) -> list[Group]:
    return list(
        session.scalars(
            select(Group).where(Group.council_id == user.council_id).order_by(Group.name)
        )
    )


def workers_for_staff(session: Session, user: StaffUser) -> list[StaffUser]:
    """Active participation workers of the user's council, who can run a group."""
    return list(
        session.scalars(
            select(StaffUser)
            .join(StaffRole, StaffRole.user_id == StaffUser.id)
            .where(
                StaffUser.council_id == user.council_id,
                StaffUser.active.is_(True),
                StaffRole.role == Role.PARTICIPATION_WORKER,
            )
            .order_by(StaffUser.display_name, StaffUser.id)
        )
    )


def set_group_worker(
    session: Session, group: Group, worker: StaffUser | None, by: StaffUser
) -> None:
    """Name the worker who runs the group (or nobody); the worker must be of its council."""
    if worker is not None and (
        worker.council_id != group.council_id
        or not worker.active
        or not worker.has_role(Role.PARTICIPATION_WORKER)
    ):
        raise GroupError("Choose a participation worker of this council.")
    group.worker_id = worker.id if worker is not None else None
    session.flush()
    audit.record(
        session,
        audit.AuditAction.GROUP_WORKER_SET,
        actor=by,
        council_id=group.council_id,
        target_type="group",
        target_id=group.id,
        detail={"worker_id": group.worker_id},
    )


def group_for_staff(session: Session, group_id: int, user: StaffUser) -> Group | None:
    """The group if it belongs to the user's council; another council's group is None (404)."""
    return session.scalar(
        select(Group).where(Group.id == group_id, Group.council_id == user.council_id)
    )
