"""Fixtures for the reporting layer: making a release of the published figures."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from panel.release import make_release
from participation.db import utcnow


@pytest.fixture()
def publish(app, db_tx) -> Callable[..., Any]:
    """publish(council, now=None, force=True): make a release now, as the worker would."""

    def make(council: Any, now: Any = None, force: bool = True) -> Any:
        release = make_release(
            db_tx,
            council.id,
            now or utcnow(),
            threshold=app.config["SMALL_NUMBER_THRESHOLD"],
            min_new=app.config["PANEL_RELEASE_MIN_NEW_RESPONSES"],
            reason="test",
            force=force,
        )
        db_tx.flush()
        return release

    return make
