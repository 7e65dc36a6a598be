"""Reads of API tokens, always scoped to one council."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from panel.api.models import ApiToken
from participation.accounts.models import StaffUser


def tokens_of_council(session: Session, council_id: int) -> list[Any]:
    """The council's tokens, newest first, each with the name of who created it."""
    return list(
        session.execute(
            select(ApiToken, StaffUser.display_name)
            .outerjoin(StaffUser, StaffUser.id == ApiToken.created_by_id)
            .where(ApiToken.council_id == council_id)
            .order_by(
                ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(), ApiToken.id.desc()
            )
        ).all()
    )


def token_of_council(session: Session, token_id: int, council_id: int) -> ApiToken | None:
    """The token if it belongs to ``council_id``; another council's token is None (404)."""
    return session.scalar(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.council_id == council_id)
    )
