"""Demand intensity (DESIGN.md §6): how much residents asked for something, per 100 households.

Σ over the demand signals on (estates × themes) in a window, each counted once per reporter per theme per
30 days and, for scores, decayed by 0.5^(age / 180 days); divided by the estates' households / 100.

The once-per-reporter rule keys on (estate, reporter, theme), so a project's intensity is exactly the sum
of its (estate, theme) pairs' — the score, the demand gaps and the before/after check agree.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import product
from typing import Hashable, Iterable, Optional

from sqlalchemy import Integer, String, column, null, select, tuple_, values

from portal.areas.models import Estate
from portal.core.workdays import to_utc_naive
from portal.demand.models import DemandSignal, SignalSource
from portal.extensions import db

WINDOW_DAYS = 365
HALF_LIFE_DAYS = 180
REPEAT_DAYS = 30
CHUNK = 900


@dataclass
class CountedSignal:
    """A signal that counts, with its weight after decay."""
    id: int
    source: SignalSource
    record_id: str
    estate_id: int
    theme: str
    occurred_at: datetime
    urgent: bool
    value: float


@dataclass
class Intensity:
    households: int
    weighted: float = 0.0  # Σ weight × decay of the counted signals
    counted: int = 0  # signals that count (after once per reporter per theme per 30 days)
    urgent: int = 0  # of those, urgent ones
    seen: int = 0  # signals in the window before the repeat rule
    signals: list[CountedSignal] = field(default_factory=list)

    @property
    def per_100(self) -> float:
        """Intensity per 100 households; with no household count known, per estate as if 100 households."""
        return self.weighted * 100 / self.households if self.households else self.weighted

    @property
    def urgent_share(self) -> float:
        return self.urgent / self.counted if self.counted else 0.0


def window_end(as_of: date) -> datetime:
    """The end of the local day `as_of`, as naive UTC (signals are stored in UTC)."""
    return to_utc_naive(datetime.combine(as_of + timedelta(days=1), time.min))


def window_start(day: date) -> datetime:
    return to_utc_naive(datetime.combine(day, time.min))


def households_of(estate_ids: Iterable[int]) -> dict[int, int]:
    ids = sorted(set(estate_ids))
    found: dict[int, int] = {}
    for start in range(0, len(ids), CHUNK):
        found.update(db.session.execute(
            select(Estate.id, Estate.household_count).where(Estate.id.in_(ids[start:start + CHUNK]))).all())
    return found


def _rows(estate_ids: Optional[list[int]], themes: Optional[list[str]], start: datetime, end: datetime,
          pairs: Optional[list[tuple[int, str]]] = None, *, records: bool = True):
    """The window's signals in the order of ix_demand_signals_estate_theme_time (estate, theme, time, id), so
    neither database sorts. Without `records` the source and record id come as NULL: on PostgreSQL the rest
    is then read from that covering index alone."""
    columns = (DemandSignal.id, *((DemandSignal.source, DemandSignal.record_id) if records
                                  else (null().label("source"), null().label("record_id"))),
               DemandSignal.estate_id, DemandSignal.theme, DemandSignal.occurred_at, DemandSignal.urgent,
               DemandSignal.weight, DemandSignal.reporter_key)
    base = (select(*columns).where(DemandSignal.occurred_at >= start, DemandSignal.occurred_at < end)
            .order_by(DemandSignal.estate_id, DemandSignal.theme, DemandSignal.occurred_at, DemandSignal.id))
    # Core rows, not ORM ones: a district-wide walk reads ~800,000 of them
    connection = db.session.connection()
    if pairs is not None:  # sorted, so the chunks come in (estate, theme) order too
        postgres = db.session.get_bind().dialect.name == "postgresql"
        for chunk_start in range(0, len(pairs), CHUNK // 2):
            chunk = pairs[chunk_start:chunk_start + CHUNK // 2]
            if postgres:  # a join on VALUES gives one index-only scan per pair; an IN list of rows does not
                wanted = values(column("estate_id", Integer), column("theme", String), name="wanted").data(chunk)
                stmt = base.join(wanted, (DemandSignal.estate_id == wanted.c.estate_id)
                                 & (DemandSignal.theme == wanted.c.theme))
            else:  # SQLite has no VALUES with column names
                stmt = base.where(tuple_(DemandSignal.estate_id, DemandSignal.theme).in_(chunk))
            yield from connection.execute(stmt).all()
        return
    if themes is not None:
        base = base.where(DemandSignal.theme.in_(sorted(set(themes))))
    if estate_ids is None:
        yield from connection.execute(base).all()
        return
    ids = sorted(set(estate_ids))
    for chunk_start in range(0, len(ids), CHUNK):
        yield from connection.execute(base.where(DemandSignal.estate_id.in_(ids[chunk_start:chunk_start + CHUNK]))).all()


def by_pair(start: datetime, end: datetime, *, estate_ids: Optional[Iterable[int]] = None,
            themes: Optional[Iterable[str]] = None, pairs: Optional[Iterable[tuple[int, str]]] = None,
            decay_to: Optional[datetime] = None, keep_signals: bool = True,
            households: Optional[dict[int, int]] = None) -> dict[tuple[int, str], Intensity]:
    """Intensity of every (estate, theme) pair with signals in [start, end): of `estate_ids` × `themes`, or
    of exactly the `pairs` given. With `decay_to`, each signal is decayed by its age at that instant; without
    it every counted signal weighs its own weight. Without `keep_signals` only the sums are kept (a
    district-wide ranking needs no list of records)."""
    estate_ids = None if estate_ids is None else sorted(set(estate_ids))
    themes = None if themes is None else list(themes)
    pairs = None if pairs is None else sorted(set(pairs))
    if pairs is not None and not pairs:
        return {}
    rows = list(_rows(estate_ids, themes, start, end, pairs, records=keep_signals))  # chunks follow sorted keys, so order holds
    if households is None:
        households = households_of(estate_ids if estate_ids is not None else {r[3] for r in rows})
    found: dict[tuple[int, str], Intensity] = {}
    repeat = timedelta(days=REPEAT_DAYS)
    half_life_seconds = HALF_LIFE_DAYS * 86400
    # The rows come sorted by (estate, theme, time, id): one pass, the current pair in local variables and
    # each reporter's last counted signal in a dict that starts afresh with every pair.
    current_pair = None
    last_counted: dict[str, datetime] = {}
    result: Optional[Intensity] = None
    for signal_id, source, record_id, estate_id, theme, occurred_at, urgent, weight, reporter in rows:
        if (estate_id, theme) != current_pair:
            current_pair, last_counted = (estate_id, theme), {}
            result = found[current_pair] = Intensity(households=households.get(estate_id, 0))
        result.seen += 1
        last = last_counted.get(reporter)
        if last is not None and occurred_at - last < repeat:
            continue
        last_counted[reporter] = occurred_at
        value = float(weight)
        if decay_to is not None:
            age_seconds = (decay_to - occurred_at).total_seconds()
            if age_seconds > 0:
                value *= 0.5 ** (age_seconds / half_life_seconds)
        result.weighted += value
        result.counted += 1
        result.urgent += urgent
        if keep_signals:
            result.signals.append(CountedSignal(signal_id, source, record_id, estate_id, theme, occurred_at,
                                                urgent, value))
    return found


def combine(pairs: Iterable[Intensity], households: int) -> Intensity:
    """Several pairs as one (a project's estates × themes), over the given household total."""
    total = Intensity(households=households)
    for pair in pairs:
        total.weighted += pair.weighted
        total.counted += pair.counted
        total.urgent += pair.urgent
        total.seen += pair.seen
        total.signals.extend(pair.signals)
    total.signals.sort(key=lambda s: s.occurred_at, reverse=True)
    return total


def for_estates_and_themes(estate_ids: Iterable[int], themes: Iterable[str], start: datetime, end: datetime,
                           *, decay_to: Optional[datetime] = None, keep_signals: bool = True) -> Intensity:
    estate_ids, themes = sorted(set(estate_ids)), sorted(set(themes))
    households = households_of(estate_ids)
    if not estate_ids or not themes:
        return Intensity(households=sum(households.values()))
    pairs = by_pair(start, end, estate_ids=estate_ids, themes=themes, decay_to=decay_to, keep_signals=keep_signals,
                    households=households)
    return combine(pairs.values(), sum(households.values()))


def scoring_intensity(estate_ids: Iterable[int], themes: Iterable[str], as_of: date, *,
                      keep_signals: bool = True) -> Intensity:
    """The §6 demand factor: the 365 days ending on `as_of`, decayed to the end of that day."""
    end = window_end(as_of)
    return for_estates_and_themes(estate_ids, themes, end - timedelta(days=WINDOW_DAYS), end, decay_to=end,
                                  keep_signals=keep_signals)


def scoring_intensities(wanted: dict[Hashable, tuple[Iterable[int], Iterable[str]]], as_of: date) -> dict[Hashable, Intensity]:
    """scoring_intensity (without the records) for many (estates, themes) sets at once, such as every
    candidate project: one read of the signals of all their pairs, each pair walked once."""
    end = window_end(as_of)
    sets = {key: (sorted(set(estates)), sorted(set(themes))) for key, (estates, themes) in wanted.items()}
    households = households_of({e for estates, _ in sets.values() for e in estates})
    wanted_pairs = {pair for estates, themes in sets.values() for pair in product(estates, themes)}
    pairs = by_pair(end - timedelta(days=WINDOW_DAYS), end, pairs=wanted_pairs, decay_to=end, keep_signals=False,
                    households=households)
    return {key: combine([pairs[pair] for pair in product(estates, themes) if pair in pairs],
                         sum(households.get(e, 0) for e in estates))
            for key, (estates, themes) in sets.items()}
