from datetime import date, datetime

from portal.core.workdays import add_working_days, to_local, to_utc_naive


def utc(local: str) -> datetime:
    return to_utc_naive(datetime.fromisoformat(local))


def test_five_working_days_skip_the_weekend():
    # Thursday 2026-11-19 10:00 local + 5 working days = Thursday 2026-11-26 10:00 local
    due = add_working_days(utc("2026-11-19T10:00"), 5)
    assert to_local(due).replace(tzinfo=None) == datetime(2026, 11, 26, 10, 0)


def test_holidays_and_swapped_workdays():
    start = utc("2026-09-30T09:00")  # Wednesday before National Day
    holidays = frozenset(date(2026, 10, d) for d in range(1, 8))
    extra = frozenset({date(2026, 10, 10)})  # Saturday made a working day
    due = add_working_days(start, 3, holidays, extra)
    # Oct 8 (Thu), Oct 9 (Fri), Oct 10 (Sat, 调休) → due Oct 10 09:00 local
    assert to_local(due).replace(tzinfo=None) == datetime(2026, 10, 10, 9, 0)


def test_local_midnight_crosses_the_utc_date():
    # 2026-11-20 07:00 local is 2026-11-19 23:00 UTC; working days are counted in local dates
    due = add_working_days(utc("2026-11-20T07:00"), 1)  # Friday → Monday
    assert to_local(due).replace(tzinfo=None) == datetime(2026, 11, 23, 7, 0)
