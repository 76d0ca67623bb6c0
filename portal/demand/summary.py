"""What the dashboard, its Excel export and the estate brief show: one builder, so the three agree.

Counts come from the rollups (queries.py). Keywords and representative records come from the newest
records behind each theme (raw signal rows, then the source domains' loaders). That part costs the most
(up to 100 texts × 6 themes tokenised), so it is cached per app for a few minutes, keyed by the user's
scope and masking, the filters and the newest signal id: new signals show at once; a record whose
signals were only removed drops out of the keywords within the cache time.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Optional

from flask import current_app
from sqlalchemy import func, select

from portal.core.scoping import street_limit
from portal.demand import queries
from portal.demand.models import DemandSignal
from portal.demand.sources import RecordRef, load_records
from portal.extensions import db

KEYWORD_THEMES = 6
KEYWORD_RECORDS = 100
EXAMPLES = 3
KEYWORD_CACHE_SECONDS = 300
_LOCK = threading.Lock()


@dataclass(frozen=True)
class ThemeText:
    keywords: list[tuple[str, float]]
    examples: list[RecordRef]
    hidden_examples: int = 0  # records behind the theme this user may not open (another street's meeting…)


@dataclass
class HeatTable:
    estates: list[tuple[int, str, int]]  # (id, name, households), busiest first
    themes: list[str]
    cells: dict[tuple[int, str], queries.HeatCell]
    estate_totals: dict[int, int]
    total_estates: int

    @property
    def truncated(self) -> bool:
        return len(self.estates) < self.total_estates


@dataclass
class Dashboard:
    filters: queries.DemandFilters
    granularity: str
    total: int
    distribution: list[tuple[str, int]]
    trend: list[tuple[str, int]]
    heat: HeatTable
    hot: list[queries.HotSpot]
    by_theme: dict[str, ThemeText] = field(default_factory=dict)


def heat_table(cells: list[queries.HeatCell], themes: list[str], limit: Optional[int]) -> HeatTable:
    totals: dict[int, int] = {}
    names: dict[int, tuple[str, int]] = {}
    for c in cells:
        totals[c.estate_id] = totals.get(c.estate_id, 0) + c.count
        names[c.estate_id] = (c.estate_name, c.households)
    ordered = sorted(totals, key=lambda e: (-totals[e], names[e][0]))
    shown = ordered[:limit] if limit else ordered
    return HeatTable(estates=[(e, *names[e]) for e in shown], themes=themes,
                     cells={(c.estate_id, c.theme): c for c in cells}, estate_totals=totals, total_estates=len(ordered))


def build(filters: queries.DemandFilters, user, granularity: str = "week", *, heat_limit: Optional[int] = None,
          with_text: bool = True, keyword_themes: int = KEYWORD_THEMES) -> Dashboard:
    granularity = "month" if granularity == "month" else "week"
    cells = queries.heat_map(filters, user)
    distribution = queries.distribution_of((c.theme, c.count) for c in cells)  # the heat map summed per theme
    themes = [t for t, _ in distribution]
    dashboard = Dashboard(
        filters=filters, granularity=granularity, total=sum(n for _, n in distribution), distribution=distribution,
        trend=queries.trend(filters, user, granularity),
        heat=heat_table(cells, themes, heat_limit), hot=queries.hot_spots(filters, user))
    if with_text:
        dashboard.by_theme = theme_texts(filters, user, themes[:keyword_themes])
    return dashboard


def theme_texts(filters: queries.DemandFilters, user, themes: list[str]) -> dict[str, ThemeText]:
    cache = current_app.extensions.setdefault("demand_keyword_cache", {})
    newest = db.session.scalar(select(func.max(DemandSignal.id)))
    scope = (street_limit(user), bool(getattr(user, "sees_personal_data", False)))
    now = time.monotonic()
    result = {}
    for theme in themes:
        key = (scope, tuple(sorted(filters.as_args().items())), theme, newest)
        with _LOCK:
            hit = cache.get(key)
        if hit and now - hit[0] < KEYWORD_CACHE_SECONDS:
            result[theme] = hit[1]
            continue
        result[theme] = _theme_text(filters, user, theme)
        with _LOCK:
            if len(cache) > 2000:
                cache.clear()
            cache[key] = (now, result[theme])
    return result


def _theme_text(filters: queries.DemandFilters, user, theme: str) -> ThemeText:
    from nlp.keywords import extract_keywords

    pairs = list(dict.fromkeys(queries.records_for_theme(filters, user, theme, KEYWORD_RECORDS)))
    refs = load_records(pairs, user)
    ordered = [refs[p] for p in pairs if p in refs]
    texts = [ref.text for ref in ordered]
    hidden = sum(1 for p in pairs[:EXAMPLES] if p not in refs)
    return ThemeText(keywords=extract_keywords(texts, top_k=8) if texts else [], examples=ordered[:EXAMPLES],
                     hidden_examples=hidden if not ordered[:EXAMPLES] else 0)


def urgent_items(filters: queries.DemandFilters, user, limit: int = 5) -> list[RecordRef]:
    """The newest urgent records in the filters (any theme), that this user may open."""
    urgent_only = queries.DemandFilters(**{**filters.__dict__, "urgent": True, "warnings": []})
    pairs = list(dict.fromkeys(queries.recent_records(urgent_only, user, limit * 3)))
    refs = load_records(pairs, user)
    return [refs[p] for p in pairs if p in refs][:limit]
