"""Writing demand signals. Callers are the domain services that own the source records.

Every write of signals goes through `replace_many`, which also keeps the dashboard's rollup
(`demand_daily_counts`) exact: after deleting and inserting a batch of records' signals it recomputes the
rollup rows of every (estate, local day) the batch touched — old days and new — from the signal rows
themselves, in the same transaction; then the monthly and street-daily sums of those days from the daily
rollup.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Iterable, Optional, Sequence

from sqlalchemy import and_, case, delete, func, insert, literal_column, or_, select

from portal.areas.models import Estate
from portal.audit.services import record_event
from portal.core.time import utcnow
from portal.demand.models import (
    MONTHLY_SOURCES, DemandDailyCount, DemandMonthlyCount, DemandSignal, DemandStreetDailyCount, SignalSource,
    local_day_of,
)
from portal.extensions import db

CHUNK = 900


@dataclass(frozen=True)
class SignalInput:
    estate_id: int
    theme: str
    occurred_at: datetime
    reporter_key: str
    urgent: bool = False
    weight: float = 1.0
    model_version: Optional[str] = None


def reporter_key(kind: str, value: object) -> str:
    """A stable, non-reversible key for "who reported": a phone number, a household, an attendee."""
    digest = hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()[:24]
    return f"{kind}:{digest}"


def _street_of(estate_ids: Iterable[int]) -> dict[int, int]:
    ids = sorted(set(estate_ids))
    streets: dict[int, int] = {}
    for start in range(0, len(ids), CHUNK):
        streets.update(db.session.execute(select(Estate.id, Estate.street_id).where(Estate.id.in_(ids[start:start + CHUNK]))).all())
    return streets


def replace_signals(source: SignalSource, record_id: object, signals: Sequence[SignalInput]) -> None:
    """Make the signals of one record exactly `signals` (an empty list removes them). No commit."""
    replace_many(source, {str(record_id): signals})


def replace_many(source: SignalSource, by_record: dict[str, Sequence[SignalInput]]) -> None:
    """Bulk form for imports: one DELETE per 900 records and one INSERT for all rows, then the rollup of
    the touched estate-days is recomputed. No commit."""
    record_ids = list(by_record)
    touched: set[tuple[int, date]] = set()
    for start in range(0, len(record_ids), CHUNK):
        chunk = record_ids[start:start + CHUNK]
        where = (DemandSignal.source == source, DemandSignal.record_id.in_(chunk))
        touched.update(tuple(r) for r in db.session.execute(
            select(DemandSignal.estate_id, DemandSignal.local_day).where(*where).distinct()))
        db.session.execute(delete(DemandSignal).where(*where))
    streets = _street_of(s.estate_id for signals in by_record.values() for s in signals)
    now = utcnow()
    rows = [
        {"source": source, "record_id": record_id, "estate_id": s.estate_id, "street_id": streets[s.estate_id],
         "theme": s.theme, "occurred_at": s.occurred_at, "local_day": local_day_of(s.occurred_at),
         "urgent": s.urgent, "weight": s.weight, "reporter_key": s.reporter_key,
         "model_version": s.model_version, "created_at": now}
        for record_id, signals in by_record.items() for s in signals if s.estate_id in streets
    ]
    for start in range(0, len(rows), 5000):
        db.session.execute(insert(DemandSignal), rows[start:start + 5000])
    touched.update((r["estate_id"], r["local_day"]) for r in rows)
    refresh_rollup(touched)


_GROUP = (DemandSignal.estate_id, DemandSignal.local_day, DemandSignal.theme, DemandSignal.source,
          DemandSignal.urgent, DemandSignal.street_id)
_ROLLUP_COLUMNS = ["estate_id", "local_day", "theme", "source", "urgent", "street_id", "n"]


def refresh_rollup(estate_days: Iterable[tuple[int, date]]) -> None:
    """Recompute the daily rollup rows of these (estate, local day) pairs from demand_signals, then the
    monthly rows of their months and the street-daily rows of their streets' days from the daily rollup.
    No commit."""
    by_estate: dict[int, set[date]] = defaultdict(set)
    for estate_id, day in estate_days:
        by_estate[estate_id].add(day)
    streets = _street_of(by_estate)
    _lock_streets(set(streets.values()))
    _refresh_daily(by_estate)
    _refresh_monthly({estate_id: {d.replace(day=1) for d in days} for estate_id, days in by_estate.items()})
    by_street: dict[int, set[date]] = defaultdict(set)
    for estate_id, days in by_estate.items():
        if estate_id in streets:
            by_street[streets[estate_id]].update(days)
    _refresh_street_daily(by_street)


ROLLUP_LOCK_SPACE = 7301  # the first key of pg_advisory_xact_lock(int, int); the street id is the second


def _lock_streets(street_ids: set[int]) -> None:
    """On PostgreSQL, hold a lock per street until the transaction ends before recomputing its rollup rows.
    Without it two transactions touching the same estate-day (two residents of one estate answering at
    once) both delete the old rows, and the second one's INSERT hits the first one's new rows. Taken in
    street order so two writers never wait on each other in a circle. SQLite has one writer at a time."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for street_id in sorted(street_ids):
        db.session.execute(select(func.pg_advisory_xact_lock(ROLLUP_LOCK_SPACE, street_id)))


def _in_chunks(by_key: dict[int, set[date]], size: int, recompute) -> None:
    """recompute(key, chunk) for each key's sorted days (or months), `size` at a time (bounded IN lists)."""
    for key, values in sorted(by_key.items()):
        ordered = sorted(values)
        for start in range(0, len(ordered), size):
            recompute(key, ordered[start:start + size])


def _refresh_daily(by_estate: dict[int, set[date]]) -> None:
    def recompute(estate_id: int, days: list[date]) -> None:
        db.session.execute(delete(DemandDailyCount).where(DemandDailyCount.estate_id == estate_id,
                                                          DemandDailyCount.local_day.in_(days)))
        counts = (select(*_GROUP, func.count()).where(DemandSignal.estate_id == estate_id,
                                                     DemandSignal.local_day.in_(days)).group_by(*_GROUP))
        db.session.execute(insert(DemandDailyCount).from_select(_ROLLUP_COLUMNS, counts))

    _in_chunks(by_estate, 400, recompute)


def month_of(day_column):
    """The first day of the month of a date column, in SQL."""
    if db.engine.dialect.name == "postgresql":
        return func.cast(func.date_trunc("month", day_column), db.Date)
    return func.date(day_column, "start of month")


def _next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


_COUNT_NAMES = ["n", "n_urgent"] + [f"n_{s}" for s in MONTHLY_SOURCES] + [f"n_urgent_{s}" for s in MONTHLY_SOURCES]


def _summed_from_daily(target, keys: dict, where):
    """INSERT … SELECT of the daily rollup summed per `keys` (target column → SQL expression; grouped by
    the target column's name), with the split count columns. `where` limits the daily rows read."""
    daily = DemandDailyCount

    def share(urgent: bool, source: Optional[str]):
        conditions = ([daily.urgent.is_(True)] if urgent else []) + ([daily.source == SignalSource(source)] if source else [])
        return func.sum(case((and_(*conditions), daily.n), else_=0)) if conditions else func.sum(daily.n)

    counts = [share(False, None), share(True, None)] + [share(False, s) for s in MONTHLY_SOURCES] \
        + [share(True, s) for s in MONTHLY_SOURCES]
    # group by the output names: a bound parameter inside an expression (date_trunc('month', …)) would
    # not match the same expression in GROUP BY on PostgreSQL
    stmt = (select(*(expr.label(name) for name, expr in keys.items()), *counts)
            .group_by(*(literal_column(name) for name in keys)))
    if where is not None:
        stmt = stmt.where(where)
    return insert(target).from_select([*keys, *_COUNT_NAMES], stmt)


def _monthly_from_daily(where):
    daily = DemandDailyCount
    return _summed_from_daily(DemandMonthlyCount, {"estate_id": daily.estate_id, "month": month_of(daily.local_day),
                                                   "theme": daily.theme, "street_id": daily.street_id}, where)


def _street_daily_from_daily(where):
    daily = DemandDailyCount
    return _summed_from_daily(DemandStreetDailyCount, {"street_id": daily.street_id, "local_day": daily.local_day,
                                                       "theme": daily.theme}, where)


def _refresh_monthly(by_estate: dict[int, set[date]]) -> None:
    def recompute(estate_id: int, months: list[date]) -> None:
        db.session.execute(delete(DemandMonthlyCount).where(DemandMonthlyCount.estate_id == estate_id,
                                                            DemandMonthlyCount.month.in_(months)))
        in_months = or_(*(and_(DemandDailyCount.local_day >= m, DemandDailyCount.local_day < _next_month(m))
                          for m in months))
        db.session.execute(_monthly_from_daily(and_(DemandDailyCount.estate_id == estate_id, in_months)))

    _in_chunks(by_estate, 200, recompute)


def _refresh_street_daily(by_street: dict[int, set[date]]) -> None:
    def recompute(street_id: int, days: list[date]) -> None:
        db.session.execute(delete(DemandStreetDailyCount).where(DemandStreetDailyCount.street_id == street_id,
                                                                DemandStreetDailyCount.local_day.in_(days)))
        db.session.execute(_street_daily_from_daily(and_(DemandDailyCount.street_id == street_id,
                                                         DemandDailyCount.local_day.in_(days))))

    _in_chunks(by_street, 400, recompute)


def rebuild_rollup() -> int:
    """Recompute the whole rollup, daily, monthly and street-daily, from demand_signals (after a bulk load outside
    replace_many). Returns the number of daily rows. No commit."""
    db.session.execute(delete(DemandDailyCount))
    counts = select(*_GROUP, func.count()).group_by(*_GROUP).order_by(DemandSignal.local_day)
    db.session.execute(insert(DemandDailyCount).from_select(_ROLLUP_COLUMNS, counts))
    db.session.execute(delete(DemandMonthlyCount))
    db.session.execute(_monthly_from_daily(None))
    db.session.execute(delete(DemandStreetDailyCount))
    db.session.execute(_street_daily_from_daily(None))
    return db.session.scalar(select(func.count()).select_from(DemandDailyCount)) or 0


def record_export(actor, kind: str, filters_note: str, rows: int) -> None:
    """Log a dashboard export or a printed brief (who, what, with which filters)."""
    record_event(actor, "export", object_type="demand", street_id=getattr(actor, "street_id", None),
                 note=f"{kind}: {rows} 行; 筛选 {filters_note[:500]}")
    db.session.commit()
