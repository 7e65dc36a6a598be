"""The jobs worker's scheduled work for the panel: a release for each council that is due."""

from __future__ import annotations

import logging
from datetime import datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from panel.release import make_release
from participation.councils.models import Council

log = logging.getLogger(__name__)


def release_settings() -> tuple[int, int]:
    config = current_app.config
    return int(config["SMALL_NUMBER_THRESHOLD"]), int(config["PANEL_RELEASE_MIN_NEW_RESPONSES"])


def release_tick(session: Session, now: datetime) -> None:
    """Make a release for every council where a round closed or enough new responses came."""
    threshold, min_new = release_settings()
    for council_id in session.scalars(select(Council.id).order_by(Council.id)):
        release = make_release(
            session, council_id, now, threshold=threshold, min_new=min_new, reason="schedule"
        )
        if release is not None:
            log.info("panel: release %s made for council %s", release.id, council_id)
