"""Working days in England: weekends and English bank holidays do not count.

Deadlines (a concern alert answered within one working day, a challenge card answered
within twenty) are counted in Europe/London local dates, then stored in UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

LONDON = ZoneInfo("Europe/London")


@lru_cache(maxsize=32)
def _bank_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("GB", subdiv="ENG", years=year)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def add_working_days(start: datetime, days: int) -> datetime:
    """The same London wall-clock time ``days`` working days after ``start`` (aware, UTC).

    Something raised on a Saturday counts from the next working day, so "one working day"
    from Saturday 10:00 is Tuesday 10:00 (Monday being the first day it can be seen to).
    """
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    local = start.astimezone(LONDON)
    day = local.date()
    if not is_working_day(day):
        while not is_working_day(day):
            day += timedelta(days=1)
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    result = datetime.combine(day, local.time(), tzinfo=LONDON)
    return result.astimezone(UTC)
