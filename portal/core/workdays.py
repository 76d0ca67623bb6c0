"""Due dates in working days, counted in China's local time."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def to_local(utc_naive: datetime) -> datetime:
    return utc_naive.replace(tzinfo=timezone.utc).astimezone(LOCAL_TZ)


def local_today() -> date:
    """Today in Asia/Shanghai (the server's own clock may be in UTC, a day behind in the morning)."""
    from portal.core.time import utcnow

    return to_local(utcnow()).date()


def to_utc_naive(value: datetime) -> datetime:
    """A naive datetime is local (as 12345 exports are); an aware one is converted."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=LOCAL_TZ)
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def is_working_day(day: date, holidays: frozenset[date], extra_workdays: frozenset[date]) -> bool:
    if day in extra_workdays:  # 调休: a weekend made a working day
        return True
    return day.weekday() < 5 and day not in holidays


def add_working_days(start_utc: datetime, days: int, holidays=frozenset(), extra_workdays=frozenset()) -> datetime:
    """The same local clock time `days` working days later (a start on a day off counts from the next working day)."""
    local = to_local(start_utc)
    day = local.date()
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if is_working_day(day, holidays, extra_workdays):
            remaining -= 1
    due_local = datetime.combine(day, local.timetz())
    return due_local.astimezone(timezone.utc).replace(tzinfo=None)
