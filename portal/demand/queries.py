"""Demand aggregates for street offices (issue 7). Every query goes through the scoping helper.

Periods are counted in local time (Asia/Shanghai). The counts (total, distribution, trend, heat map,
hot spots) read the rollups, keyed by the signal's local day: whole months from `demand_monthly_counts`,
part-months from `demand_daily_counts` (see range_pieces), weekly trends from `demand_street_daily_counts`. The representative records read the raw
signal rows.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Optional

from sqlalchemy import Select, and_, func, literal, or_, select, text, union_all

from portal.areas.models import Estate, Street
from portal.core.scoping import scoped, street_limit
from portal.core.workdays import to_utc_naive
from portal.demand.models import (
    DemandDailyCount, DemandMonthlyCount, DemandSignal, DemandStreetDailyCount, SignalSource,
)
from portal.extensions import db

LOCAL_OFFSET_HOURS = 8
HOT_SPOT_MIN_COUNT = 5
HOT_SPOT_FACTOR = 2.0
HOT_SPOT_MARGIN = 3
BASELINE_WEEKS = 8
DEFAULT_DAYS = 90
MAX_DAYS = 3 * 366
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)


def _known_theme(code: str) -> bool:
    from nlp.themes import THEMES

    return any(t.code == code for t in THEMES)


@dataclass
class DemandFilters:
    date_from: date
    date_to: date
    street_id: Optional[int] = None
    estate_id: Optional[int] = None
    theme: Optional[str] = None
    source: Optional[SignalSource] = None
    urgent: bool = False

    warnings: list[str] = field(default_factory=list, compare=False)

    @classmethod
    def from_args(cls, args, today: Optional[date] = None) -> "DemandFilters":
        """Read the query string; anything unreadable falls back to a default and says so in `warnings`."""
        today = today or date.today()
        warnings: list[str] = []

        def day(name, default):
            value = (args.get(name) or "").strip()
            if not value:
                return default
            try:
                parsed = date.fromisoformat(value)
            except ValueError:
                warnings.append(f"日期“{value[:20]}”无法识别，已改用默认日期。")
                return default
            if not EARLIEST <= parsed <= LATEST:
                warnings.append(f"日期 {parsed.isoformat()} 超出范围，已改用默认日期。")
                return default
            return parsed

        def number(name):
            value = (args.get(name) or "").strip()
            if not value:
                return None
            if value.isdigit() and 0 < int(value) < 2**31:
                return int(value)
            warnings.append(f"参数 {name}=“{value[:20]}”无效，已忽略。")
            return None

        date_to = day("date_to", today)
        date_from = day("date_from", date_to - timedelta(days=DEFAULT_DAYS - 1))
        if date_from > date_to:
            date_from, date_to = date_to, date_from
        if (date_to - date_from).days > MAX_DAYS:
            date_from = date_to - timedelta(days=MAX_DAYS)
            warnings.append(f"时间范围最长 {MAX_DAYS // 365} 年，已从 {date_from.isoformat()} 起统计。")
        source = args.get("source") or None
        if source and source not in SignalSource.__members__:
            warnings.append("来源无效，已显示全部来源。")
        theme = args.get("theme") or None
        if theme and not _known_theme(theme):
            warnings.append("主题无效，已显示全部主题。")
            theme = None
        return cls(date_from=date_from, date_to=date_to, street_id=number("street_id"), estate_id=number("estate_id"),
                   theme=theme, source=SignalSource(source) if source in SignalSource.__members__ else None,
                   urgent=args.get("urgent") == "1", warnings=warnings)

    def for_user(self, user) -> "DemandFilters":
        """The filters this user may apply: a street office stays in its own street, and an estate or
        street the user may not see (or that does not exist) is dropped with a note, never shown."""
        limit = street_limit(user)
        street_id, estate_id, warnings = self.street_id, self.estate_id, list(self.warnings)
        if limit is not None and street_id not in (None, limit):
            street_id = None
            warnings.append("只能查看本街道的数据，已显示本街道。")
        elif street_id is not None and limit is None and db.session.get(Street, street_id) is None:
            street_id = None
            warnings.append("找不到该街道，已显示全部街道。")
        if estate_id is not None:
            estate_street = db.session.scalar(scoped(select(Estate.street_id).where(Estate.id == estate_id), Estate, user))
            if estate_street is None:
                estate_id = None
                warnings.append("找不到该小区，已显示全部小区。")
            elif street_id is not None and estate_street != street_id:
                street_id = estate_street
        return replace(self, street_id=street_id, estate_id=estate_id, warnings=warnings)

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


def _filter(stmt: Select, model, filters: DemandFilters, user) -> Select:
    """The filters other than dates, on the signal rows or on the rollup (both carry these columns)."""
    stmt = scoped(stmt, model, user)
    if filters.street_id:
        stmt = stmt.where(model.street_id == filters.street_id)
    if filters.estate_id:
        stmt = stmt.where(model.estate_id == filters.estate_id)
    if filters.theme:
        stmt = stmt.where(model.theme == filters.theme)
    if filters.source:
        stmt = stmt.where(model.source == filters.source)
    if filters.urgent:
        stmt = stmt.where(model.urgent.is_(True))
    return stmt


def _where(stmt: Select, filters: DemandFilters, user, *, with_dates: bool = True) -> Select:
    stmt = _filter(stmt, DemandSignal, filters, user)
    if with_dates:
        stmt = stmt.where(DemandSignal.occurred_at >= filters.utc_start, DemandSignal.occurred_at < filters.utc_end)
    return stmt


Rollup = DemandDailyCount
Monthly = DemandMonthlyCount
StreetDaily = DemandStreetDailyCount


def _where_rollup(stmt: Select, filters: DemandFilters, user, *, with_dates: bool = True) -> Select:
    stmt = _filter(stmt, Rollup, filters, user)
    if with_dates:
        stmt = stmt.where(Rollup.local_day >= filters.date_from, Rollup.local_day <= filters.date_to)
    return stmt


def _month_end(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


@dataclass
class RangePieces:
    """A day range as whole months (read from the monthly rollup) plus day ranges added or taken away
    (read from the daily rollup). A part-month is read either as its own days or as the whole month minus
    the other days, whichever has fewer days with data."""
    months: list[date] = field(default_factory=list)
    plus: list[tuple[date, date]] = field(default_factory=list)
    minus: list[tuple[date, date]] = field(default_factory=list)


def range_pieces(start: date, end: date, data_until: Optional[date] = None) -> RangePieces:
    data_until = data_until or date.today() + timedelta(days=1)  # signals rarely lie beyond (local) tomorrow
    pieces = RangePieces()
    month = start.replace(day=1)
    while month <= end:
        last = _month_end(month)
        a, b = max(start, month), min(end, last)
        if (a, b) == (month, last):
            pieces.months.append(month)
        else:
            inside = (b - a).days + 1
            outside = [(lo, hi) for lo, hi in ((month, a - timedelta(days=1)), (b + timedelta(days=1), last)) if lo <= hi]
            # days past data_until cost nothing to read (there are no rows), so only the rest count
            outside_days = sum(max((min(hi, data_until) - lo).days + 1, 0) for lo, hi in outside)
            if outside_days < inside:
                pieces.months.append(month)
                pieces.minus.extend(outside)
            else:
                pieces.plus.append((a, b))
        month = last + timedelta(days=1)
    return pieces


def _days_clause(ranges: list[tuple[date, date]]):
    return or_(*(and_(Rollup.local_day >= lo, Rollup.local_day <= hi) for lo, hi in ranges))


def _counted(filters: DemandFilters, user, keys: list[str], start: date, end: date):
    """A subquery of (keys…, n) over [start, end]: signed rows from both rollups, to be summed per key.
    `keys` name columns both rollups have (estate_id, theme), or "period" — the month for monthly rows and
    the day for daily rows."""
    pieces = range_pieces(start, end)

    def key_columns(model, period):
        return [(period if k == "period" else getattr(model, k)).label(k) for k in keys]

    no_dates = {"with_dates": False}
    parts = []
    if pieces.months:
        count = Monthly.count_column(filters.source, filters.urgent)
        monthly_filters = replace(filters, source=None, urgent=False)
        parts.append(_filter(select(*key_columns(Monthly, Monthly.month), count.label("n")), Monthly, monthly_filters, user)
                     .where(Monthly.month.in_(pieces.months)))
    if pieces.plus:
        parts.append(_where_rollup(select(*key_columns(Rollup, Rollup.local_day), Rollup.n.label("n")), filters, user,
                                   **no_dates).where(_days_clause(pieces.plus)))
    if pieces.minus:
        parts.append(_where_rollup(select(*key_columns(Rollup, Rollup.local_day), (-Rollup.n).label("n")), filters, user,
                                   **no_dates).where(_days_clause(pieces.minus)))
    if not parts:  # an empty range
        parts.append(_where_rollup(select(*key_columns(Rollup, Rollup.local_day), Rollup.n.label("n")), filters, user)
                     .where(literal(False)))
    return union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()


def _sums(filters: DemandFilters, user, keys: list[str], start: Optional[date] = None, end: Optional[date] = None):
    """(keys…, count) for every key with a non-zero count in the range (the filters' by default)."""
    counted = _counted(filters, user, keys, start or filters.date_from, end or filters.date_to)
    columns = [counted.c[k] for k in keys]
    total_n = func.sum(counted.c.n)
    stmt = select(*columns, total_n).group_by(*columns).having(total_n != 0)
    return [(*row[:-1], int(row[-1])) for row in db.session.execute(stmt)]


def total(filters: DemandFilters, user) -> int:
    counted = _counted(filters, user, [], filters.date_from, filters.date_to)
    return int(db.session.scalar(select(func.sum(counted.c.n))) or 0)


def theme_distribution(filters: DemandFilters, user) -> list[tuple[str, int]]:
    return distribution_of(_sums(filters, user, ["theme"]))


def distribution_of(rows) -> list[tuple[str, int]]:
    """(theme, count) busiest first, from rows ending in (…, theme, count)."""
    counts: dict[str, int] = {}
    for *_, theme, n in rows:
        counts[theme] = counts.get(theme, 0) + n
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


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
    """Counts per local week (starting Monday) or month, with empty periods filled in as zero. A monthly
    trend reads whole months from the monthly rollup; a weekly one reads days."""
    granularity = "month" if granularity == "month" else "week"
    if granularity == "month":
        rows = _sums(filters, user, ["period"])
    elif filters.estate_id:
        stmt = _where_rollup(select(Rollup.local_day, func.sum(Rollup.n)), filters, user).group_by(Rollup.local_day)
        rows = [(day, int(n)) for day, n in db.session.execute(stmt)]
    else:  # no estate filter: the street-daily sums hold the same counts in far fewer rows
        count = func.sum(StreetDaily.count_column(filters.source, filters.urgent))
        stmt = scoped(select(StreetDaily.local_day, count), StreetDaily, user).where(
            StreetDaily.local_day >= filters.date_from, StreetDaily.local_day <= filters.date_to)
        if filters.street_id:
            stmt = stmt.where(StreetDaily.street_id == filters.street_id)
        if filters.theme:
            stmt = stmt.where(StreetDaily.theme == filters.theme)
        rows = [(day, int(n or 0)) for day, n in db.session.execute(stmt.group_by(StreetDaily.local_day))]
    counts: dict[str, int] = {}
    for day, n in rows:
        day = day if isinstance(day, date) else date.fromisoformat(str(day)[:10])
        start = day - timedelta(days=day.weekday()) if granularity == "week" else day.replace(day=1)
        counts[start.isoformat()] = counts.get(start.isoformat(), 0) + int(n)
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
    counts = _sums(filters, user, ["estate_id", "theme"])
    estates = {}
    ids = sorted({r[0] for r in counts})
    for start in range(0, len(ids), 900):
        estates.update((i, (name, households)) for i, name, households in db.session.execute(
            select(Estate.id, Estate.name, Estate.household_count).where(Estate.id.in_(ids[start:start + 900]))))
    return [HeatCell(estate_id, estates[estate_id][0], estates[estate_id][1], theme, n)
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
    week_start = filters.date_to - timedelta(days=6)
    base_start = week_start - timedelta(weeks=BASELINE_WEEKS)
    current = {(e, t): n for e, t, n in _sums(filters, user, ["estate_id", "theme"], week_start, filters.date_to)}
    before = {(e, t): n for e, t, n in _sums(filters, user, ["estate_id", "theme"], base_start,
                                              week_start - timedelta(days=1))}
    spots = []
    for (estate_id, theme), count in current.items():
        mean = before.get((estate_id, theme), 0) / BASELINE_WEEKS
        if is_hot(count, mean):
            spots.append((estate_id, theme, count, mean))
    names = dict(db.session.execute(select(Estate.id, Estate.name).where(Estate.id.in_({s[0] for s in spots}))).all())
    return sorted((HotSpot(e, names[e], t, c, m) for e, t, c, m in spots), key=lambda s: (-(s.current - s.baseline_mean), s.estate_name))


def records_for_theme(filters: DemandFilters, user, theme: str, limit: int = 5) -> list[tuple[SignalSource, str]]:
    """The most recent records behind a theme (urgent first), to show and click through."""
    stmt = (_where(select(DemandSignal.source, DemandSignal.record_id), filters, user)
            .where(DemandSignal.theme == theme)
            .order_by(DemandSignal.urgent.desc(), DemandSignal.occurred_at.desc()).limit(limit))
    return [(source, record_id) for source, record_id in db.session.execute(stmt)]


def recent_records(filters: DemandFilters, user, limit: int = 10) -> list[tuple[SignalSource, str]]:
    """The newest records in the filters, any theme."""
    stmt = (_where(select(DemandSignal.source, DemandSignal.record_id), filters, user)
            .order_by(DemandSignal.occurred_at.desc()).limit(limit))
    return [(source, record_id) for source, record_id in db.session.execute(stmt)]
