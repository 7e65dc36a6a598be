from datetime import UTC, datetime

import pytest

from participation.workdays import add_working_days, is_working_day


@pytest.mark.parametrize(
    "start, days, expected",
    [
        # Monday 10:00 London (GMT) -> Tuesday 10:00
        (datetime(2026, 11, 23, 10, 0, tzinfo=UTC), 1, datetime(2026, 11, 24, 10, 0, tzinfo=UTC)),
        # Friday -> Monday
        (datetime(2026, 11, 27, 10, 0, tzinfo=UTC), 1, datetime(2026, 11, 30, 10, 0, tzinfo=UTC)),
        # Saturday -> counts from Monday -> Tuesday
        (datetime(2026, 11, 28, 10, 0, tzinfo=UTC), 1, datetime(2026, 12, 1, 10, 0, tzinfo=UTC)),
        # Thursday 24 Dec 2026 -> Christmas (Fri), Boxing Day substitute (Mon 28) -> Tue 29
        (datetime(2026, 12, 24, 10, 0, tzinfo=UTC), 1, datetime(2026, 12, 29, 10, 0, tzinfo=UTC)),
        # Across the clocks going forward (29 March 2026): same London wall-clock time
        (datetime(2026, 3, 27, 10, 0, tzinfo=UTC), 1, datetime(2026, 3, 30, 9, 0, tzinfo=UTC)),
        # Raised on Monday 4 May 2026 (a bank holiday): counts from Tuesday 5 May, and the
        # 20 working days skip Monday 25 May (spring bank holiday) too -> Wednesday 3 June
        (datetime(2026, 5, 4, 9, 0, tzinfo=UTC), 20, datetime(2026, 6, 3, 9, 0, tzinfo=UTC)),
    ],
)
def test_working_days_skip_weekends_and_english_bank_holidays(start, days, expected):
    assert add_working_days(start, days) == expected


def test_scottish_only_holidays_are_working_days_in_england():
    assert is_working_day(datetime(2026, 1, 2).date())  # 2 January: Scotland only
    assert not is_working_day(datetime(2026, 8, 31).date())  # Summer bank holiday, England


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        add_working_days(datetime(2026, 1, 5, 9, 0), 1)
