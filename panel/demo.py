"""Demonstration data: a council, its Children in Care Council groups, staff of every role."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from participation.accounts import services as accounts
from participation.accounts.models import Role, StaffUser
from participation.councils import services as councils
from participation.councils.models import AgeBand, Council, Group, GroupKind
from participation.recommendations.catalogue import load_catalogue

# Demo only: printed by `make run`. Real accounts are made with `flask users create`.
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105
DEMO_COUNCIL = ("Demo County Council", "demo")

DEMO_GROUPS = [
    ("Little Voices", AgeBand.AGES_4_7, GroupKind.CHILDREN_IN_CARE),
    ("Voices 8 to 11", AgeBand.AGES_8_11, GroupKind.CHILDREN_IN_CARE),
    ("Young People's Council", AgeBand.AGES_11_17, GroupKind.CHILDREN_IN_CARE),
    ("Care Leavers' Forum", AgeBand.CARE_LEAVERS_16_25, GroupKind.CARE_LEAVERS),
    ("Our Voice: foster carers' own children", AgeBand.AGES_8_11, GroupKind.CARERS_OWN_CHILDREN),
]

DEMO_STAFF = [
    ("admin@demo.example", "Alex Admin", [Role.ADMIN]),
    ("worker@demo.example", "Priya Participation", [Role.PARTICIPATION_WORKER]),
    ("dsl@demo.example", "Sam Safeguarding", [Role.SAFEGUARDING_LEAD]),
    ("housing@demo.example", "Hana Housing", [Role.SERVICE_RESPONDER]),
    ("councillor@demo.example", "Cllr Chris Panel", [Role.PANEL_MEMBER]),
]


@dataclass
class DemoResult:
    council: Council
    created: bool
    groups: list[tuple[str, str]] = field(default_factory=list)
    staff: list[tuple[str, str]] = field(default_factory=list)

    def describe(self, password: str) -> str:
        lines = [
            f"Demo data {'loaded' if self.created else 'already present'}: {self.council.name}.",
            "",
            "Staff sign in at http://127.0.0.1:5000/sign-in with the password "
            f"'{password}' and one of:",
        ]
        lines += [f"  {email:<26} {roles}" for email, roles in self.staff]
        lines += ["", "Children join at http://127.0.0.1:5000/join with a group code:"]
        lines += [f"  {code}  {name}" for name, code in self.groups]
        return "\n".join(lines)


# Made-up words, so that the safeguarding lead's queue has something to show in the demo.
DEMO_ALERT_TEXTS = [
    ("i dont feel safe at home when my step dad has been drinking", 3),
    ("sometimes i go to bed hungry because there is no food", 30),
]


def _demo_alerts(session: Session, council: Council) -> None:
    """Cards (raised by the worker for a group) whose words raised an alert, backdated.

    Real cards, so that each alert points at the card it came from, and the card is held
    for the safeguarding lead like any other.
    """
    from datetime import timedelta

    from challenge_cards.services import prepare, raise_card
    from participation.db import utcnow
    from participation.safeguarding.services import due_for

    group = session.scalar(select(Group).where(Group.council_id == council.id).order_by(Group.id))
    worker = session.scalar(select(StaffUser).where(StaffUser.email == "worker@demo.example"))
    if group is None or worker is None:
        return
    for text, hours_ago in DEMO_ALERT_TEXTS:
        card, alert = raise_card(
            session, prepare(text, ""), group=group, service=None, about_me=False, by=worker
        )
        raised = utcnow() - timedelta(hours=hours_ago)
        card.created_at = raised
        if alert is not None:
            alert.created_at = raised
            alert.due_at = due_for(alert.level, raised)
    session.flush()


def _demo_rounds(session: Session, council: Council) -> None:
    """Load the question sets and open this year's survey for every group, by age band."""
    from datetime import timedelta

    from participation.db import utcnow
    from surveys.question_sets import latest_versions, load_all
    from surveys.services import open_round

    load_all(session)
    by_band = {s.age_band: s for s in latest_versions(session)}
    groups = list(session.scalars(select(Group).where(Group.council_id == council.id)))
    for band, question_set in by_band.items():
        members = [g for g in groups if g.age_band is band]
        if members:
            open_round(
                session,
                council,
                name=f"Annual survey {utcnow().year}: {band.value}",
                question_set=question_set,
                groups=members,
                opens_at=utcnow() - timedelta(days=1),
                closes_at=utcnow() + timedelta(days=60),
            )


DEMO_SERVICES = [
    "Housing",
    "Virtual School (education)",
    "Leaving care team",
    "Transport",
    "Health",
]


def _demo_cards(session: Session, council: Council) -> None:
    """The council's services, one card already answered and one waiting for a worker."""
    from challenge_cards.models import AnswerKind, Service
    from challenge_cards.services import (
        answer,
        approve_answer,
        hand_back_to_moderation,
        prepare,
        raise_card,
        send_to_service,
    )

    services = {}
    for name in DEMO_SERVICES:
        services[name] = Service(council_id=council.id, name=name)
        session.add(services[name])
    session.flush()
    staff = {
        u.email: u
        for u in session.scalars(select(StaffUser).where(StaffUser.council_id == council.id))
    }
    worker, responder = staff["worker@demo.example"], staff["housing@demo.example"]
    groups = {
        g.name: g for g in session.scalars(select(Group).where(Group.council_id == council.id))
    }
    answered, alert = raise_card(
        session,
        prepare(
            "Care leavers should not pay council tax until they are 25", "Money is really tight"
        ),
        group=groups["Care Leavers' Forum"],
        service=services["Leaving care team"],
        about_me=False,
        by=worker,
    )
    if alert is not None:
        # Triage is generous: if it flags these words, the lead looks and hands the card back.
        hand_back_to_moderation(session, alert, staff["dsl@demo.example"])
    send_to_service(
        session,
        answered,
        public_text="Care leavers should not pay council tax until they are 25.",
        service=services["Leaving care team"],
        responder=responder,
        due_at=None,
        by=worker,
    )
    answer(
        session,
        answered,
        AnswerKind.WILL_DO,
        "From April, care leavers living in the county pay no council tax until they are 25.",
        responder,
    )
    approve_answer(session, answered, worker)
    raise_card(
        session,
        prepare("Reviews should not be in lesson time", "I missed my favourite science lesson"),
        group=groups["Young People's Council"],
        service=services["Virtual School (education)"],
        about_me=False,
        by=worker,
    )


def load_demo_data(session: Session) -> DemoResult:
    """Create the demo council once; later runs report what is there."""
    load_catalogue(session)
    name, slug = DEMO_COUNCIL
    council = session.scalar(select(Council).where(Council.slug == slug))
    created = council is None
    if council is None:
        council = councils.create_council(session, name, slug)
        for group_name, band, kind in DEMO_GROUPS:
            councils.create_group(
                session, council, name=group_name, age_band=band, kind=kind, recorded_size=30
            )
        for email, display, roles in DEMO_STAFF:
            accounts.create_user(
                session,
                council_id=council.id,
                email=email,
                display_name=display,
                password=DEMO_PASSWORD,
                roles=roles,
            )
        _demo_rounds(session, council)
        _demo_cards(session, council)
        _demo_alerts(session, council)
    result = DemoResult(council=council, created=created)
    for group in session.scalars(
        select(Group).where(Group.council_id == council.id).order_by(Group.id)
    ):
        code = group.current_join_code
        result.groups.append((group.name, code.display if code else "(no live code)"))
    for user in session.scalars(
        select(StaffUser).where(StaffUser.council_id == council.id).order_by(StaffUser.id)
    ):
        result.staff.append(
            (user.email, ", ".join(str(r.label) for r in sorted(user.roles, key=lambda r: r.value)))
        )
    return result
