"""Demand aggregates for street offices (issue 7). Every query goes through the scoping helper.

Periods are counted in local time (Asia/Shanghai): timestamps are stored as naive UTC, so the SQL
shifts them by 8 hours before truncating to a week or a month.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Optional

from sqlalchemy import Select, case, func, select, text

from portal.areas.models import Estate
from portal.core.scoping import scoped
from portal.core.workdays import to_utc_naive
from portal.demand.models import DemandSignal, SignalSource
from portal.extensions import db

LOCAL_OFFSET_HOURS = 8
HOT_SPOT_MIN_COUNT = 5
HOT_SPOT_FACTOR = 2.0
HOT_SPOT_MARGIN = 3
BASELINE_WEEKS = 8


@dataclass
class DemandFilters:
    date_from: date
    date_to: date
    street_id: Optional[int] = None
    estate_id: Optional[int] = None
    theme: Optional[str] = None
    source: Optional[SignalSource] = None
    urgent: bool = False

    @classmethod
    def from_args(cls, args, today: Optional[date] = None) -> "DemandFilters":
        today = today or date.today()

        def day(name, default):
            try:
                return date.fromisoformat(args.get(name)) if args.get(name) else default
            except ValueError:
                return default

        def number(name):
            value = args.get(name, "")
            return int(value) if value.isdigit() else None

        date_to = day("date_to", today)
        date_from = day("date_from", date_to - timedelta(days=89))
        if date_from > date_to:
            date_from, date_to = date_to, date_from
        source = args.get("source") or None
        return cls(date_from=date_from, date_to=date_to, street_id=number("street_id"), estate_id=number("estate_id"),
                   theme=args.get("theme") or None,
                   source=SignalSource(source) if source in SignalSource.__members__ else None,
                   urgent=args.get("urgent") == "1")

    @property
    def utc_start(self) -> datetime:
        return to_utc_naive(datetime.combine(self.date_from, datetime.min.time()))

    @property
    def utc_end(self) -> datetime:
        return to_utc_naive(datetime.combine(self.date_to + timedelta(days=1), datetime.min.time()))

    def as_args(self) -> dict:
        args = {"date_from": self.date_from.isoformat(), "date_to": self.date_to.isoformat()}
        for key in ("street_id", "estate_id", "theme"):
            if getattr(self, key):
                args[key] = getattr(self, key)
        if self.source:
            args["source"] = self.source.value
        if self.urgent:
            args["urgent"] = "1"
        return args


def _where(stmt: Select, filters: DemandFilters, user, *, with_dates: bool = True) -> Select:
    stmt = scoped(stmt, DemandSignal, user)
    if with_dates:
        stmt = stmt.where(DemandSignal.occurred_at >= filters.utc_start, DemandSignal.occurred_at < filters.utc_end)
    if filters.street_id:
        stmt = stmt.where(DemandSignal.street_id == filters.street_id)
    if filters.estate_id:
        stmt = stmt.where(DemandSignal.estate_id == filters.estate_id)
    if filters.theme:
        stmt = stmt.where(DemandSignal.theme == filters.theme)
    if filters.source:
        stmt = stmt.where(DemandSignal.source == filters.source)
    if filters.urgent:
        stmt = stmt.where(DemandSignal.urgent.is_(True))
    return stmt


def total(filters: DemandFilters, user) -> int:
    return db.session.scalar(_where(select(func.count()).select_from(DemandSignal), filters, user)) or 0


def theme_distribution(filters: DemandFilters, user) -> list[tuple[str, int]]:
    count = func.count().label("n")
    stmt = _where(select(DemandSignal.theme, count), filters, user).group_by(DemandSignal.theme)
    return [(theme, n) for theme, n in db.session.execute(stmt.order_by(count.desc(), DemandSignal.theme))]


def local_period(column, granularity: str):
    """The local week (Monday) or month an instant falls in, as an SQL expression yielding 'YYYY-MM-DD'."""
    if db.engine.dialect.name == "postgresql":
        shifted = column + text(f"interval '{LOCAL_OFFSET_HOURS} hours'")
        return func.to_char(func.date_trunc(granularity, shifted), "YYYY-MM-DD")
    shifted = func.datetime(column, f"+{LOCAL_OFFSET_HOURS} hours")
    if granularity == "week":
        return func.date(shifted, "weekday 0", "-6 days")
    return func.strftime("%Y-%m-01", shifted)


def trend(filters: DemandFilters, user, granularity: str = "week") -> list[tuple[str, int]]:
    """Counts per local week or month, with empty periods filled in as zero."""
    granularity = "month" if granularity == "month" else "week"
    period = local_period(DemandSignal.occurred_at, granularity).label("period")
    stmt = _where(select(period, func.count()), filters, user).group_by(period).order_by(period)
    counts = {str(p): n for p, n in db.session.execute(stmt)}
    return [(p, counts.get(p, 0)) for p in _periods(filters.date_from, filters.date_to, granularity)]


def _periods(start: date, end: date, granularity: str) -> list[str]:
    if granularity == "week":
        current = start - timedelta(days=start.weekday())
        step = lambda d: d + timedelta(days=7)  # noqa: E731
    else:
        current = start.replace(day=1)
        step = lambda d: (d.replace(day=28) + timedelta(days=4)).replace(day=1)  # noqa: E731
    periods = []
    while current <= end:
        periods.append(current.isoformat())
        current = step(current)
    return periods


@dataclass
class HeatCell:
    estate_id: int
    estate_name: str
    households: int
    theme: str
    count: int

    @property
    def per_100(self) -> Optional[float]:
        return round(self.count * 100 / self.households, 2) if self.households else None


def heat_map(filters: DemandFilters, user) -> list[HeatCell]:
    """Estate × theme counts, with the rate per 100 households."""
    stmt = (_where(select(DemandSignal.estate_id, DemandSignal.theme, func.count()), filters, user)
            .group_by(DemandSignal.estate_id, DemandSignal.theme))
    counts = db.session.execute(stmt).all()
    estates = {e.id: e for e in db.session.scalars(select(Estate).where(Estate.id.in_({r[0] for r in counts})))}
    return [HeatCell(estate_id, estates[estate_id].name, estates[estate_id].household_count, theme, n)
            for estate_id, theme, n in counts]


@dataclass
class HotSpot:
    estate_id: int
    estate_name: str
    theme: str
    current: int
    baseline_mean: float

    @property
    def explanation(self) -> str:
        return f"本期 {self.current} 件，过去 {BASELINE_WEEKS} 周均值 {self.baseline_mean:.1f}"


def is_hot(current: int, baseline_mean: float) -> bool:
    """The rule: at least 5 this week, and at least twice the 8-week mean plus 3."""
    return current >= HOT_SPOT_MIN_COUNT and current >= HOT_SPOT_FACTOR * baseline_mean + HOT_SPOT_MARGIN


def hot_spots(filters: DemandFilters, user) -> list[HotSpot]:
    """(estate, theme) pairs whose count in the 7 days ending at date_to is well above their own
    weekly mean over the 8 weeks before."""
    end = filters.utc_end
    week_start = end - timedelta(days=7)
    base_start = week_start - timedelta(weeks=BASELINE_WEEKS)
    in_week = func.sum(case((DemandSignal.occurred_at >= week_start, 1), else_=0))
    stmt = (_where(select(DemandSignal.estate_id, DemandSignal.theme, in_week, func.count()), filters, user,
                   with_dates=False)
            .where(DemandSignal.occurred_at >= base_start, DemandSignal.occurred_at < end)
            .group_by(DemandSignal.estate_id, DemandSignal.theme))
    spots = []
    for estate_id, theme, current, both in db.session.execute(stmt):
        current = int(current or 0)
        mean = (both - current) / BASELINE_WEEKS
        if is_hot(current, mean):
            spots.append((estate_id, theme, current, mean))
    names = dict(db.session.execute(select(Estate.id, Estate.name).where(Estate.id.in_({s[0] for s in spots}))).all())
    return sorted((HotSpot(e, names[e], t, c, m) for e, t, c, m in spots), key=lambda s: (-(s.current - s.baseline_mean), s.estate_name))


def records_for_theme(filters: DemandFilters, user, theme: str, limit: int = 5) -> list[tuple[SignalSource, str]]:
    """The most recent records behind a theme (urgent first), to show and click through."""
    stmt = (_where(select(DemandSignal.source, DemandSignal.record_id), filters, user)
            .where(DemandSignal.theme == theme)
            .order_by(DemandSignal.urgent.desc(), DemandSignal.occurred_at.desc()).limit(limit))
    return [(source, record_id) for source, record_id in db.session.execute(stmt)]
