"""Demand gaps (DESIGN.md §6): (estate, theme) pairs where residents ask a lot and no active project answers.

The intensity is the score's own: the 365 days ending on `as_of`, each signal decayed to the end of that day,
once per reporter per theme per 30 days, per 100 households (portal.projects.intensity.by_pair). A pair is
covered when a project that is not yet completed has the estate among its estates and the theme among its
themes; a completed project no longer covers it, so demand that outlived a project shows up again.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Optional

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.areas.models import Estate
from portal.core.scoping import scoped, street_limit
from portal.core.workdays import local_today
from portal.extensions import db
from portal.projects import intensity
from portal.projects.models import Project, ProjectEstate, ProjectStatus, ProjectTheme

# "High" demand: both must hold. Per 100 households after decay, so 2.0 is e.g. 5 recent reports in a
# 248-household estate; the count keeps a tiny estate's single call from looking like a wave.
GAP_MIN_PER_100 = 2.0
GAP_MIN_COUNTED = 3
EXCLUDED_THEMES = frozenset({"other"})  # outside urban renewal: nothing a renovation project could fix


@dataclass
class Gap:
    estate: Estate
    theme: str
    per_100: float
    counted: int
    urgent_share: float
    weighted: float
    households: int

    @property
    def theme_name(self) -> str:
        from nlp.themes import theme_name

        return theme_name(self.theme)

    def as_dict(self) -> dict[str, Any]:
        return {
            "estate_id": self.estate.id,
            "estate_name": self.estate.name,
            "street_id": self.estate.street_id,
            "street_name": self.estate.street.name,
            "households": self.households,
            "theme": self.theme,
            "theme_name": self.theme_name,
            "per_100": round(self.per_100, 4),
            "counted": self.counted,
            "urgent_share": round(self.urgent_share, 4),
        }


def gap_themes() -> list[str]:
    from nlp.themes import THEME_CODES

    return [code for code in THEME_CODES if code not in EXCLUDED_THEMES]


def covered_pairs(estate_ids: Optional[list[int]] = None) -> set[tuple[int, str]]:
    """(estate, theme) pairs that some active project (储备, 入库 or 实施中) takes care of."""
    active = [status for status in ProjectStatus if status.active]
    stmt = (select(ProjectEstate.estate_id, ProjectTheme.theme)
            .join(Project, Project.id == ProjectEstate.project_id)
            .join(ProjectTheme, ProjectTheme.project_id == Project.id)
            .where(Project.status.in_(active)))
    if estate_ids is not None:
        pairs: set[tuple[int, str]] = set()
        for start in range(0, len(estate_ids), intensity.CHUNK):
            chunk = estate_ids[start:start + intensity.CHUNK]
            pairs.update((e, t) for e, t in db.session.execute(stmt.where(ProjectEstate.estate_id.in_(chunk))))
        return pairs
    return {(e, t) for e, t in db.session.execute(stmt)}


def visible_estate_ids(user, street_id: Optional[int] = None) -> Optional[list[int]]:
    """The estates the user may see, narrowed to `street_id`; None means every estate (district-wide, no
    street asked). A street user asking for another street gets no estates, never the other street's."""
    limit = street_limit(user)
    if limit is not None and street_id not in (None, limit):
        return []
    street_id = limit if limit is not None else street_id
    if street_id is None:
        return None
    return list(db.session.scalars(scoped(select(Estate.id).where(Estate.street_id == street_id), Estate, user)))


def estates_by_id(ids) -> dict[int, Estate]:
    ids = sorted(ids)
    found: dict[int, Estate] = {}
    for start in range(0, len(ids), intensity.CHUNK):
        found.update((estate.id, estate) for estate in db.session.scalars(
            select(Estate).options(selectinload(Estate.street)).where(Estate.id.in_(ids[start:start + intensity.CHUNK]))))
    return found


def demand_gaps(user, *, as_of: Optional[date] = None, street_id: Optional[int] = None,
                theme: Optional[str] = None) -> list["Gap"]:
    """High-demand (estate, theme) pairs with no active project, the most intense first."""
    as_of = as_of or local_today()
    estate_ids = visible_estate_ids(user, street_id)
    if estate_ids == []:
        return []
    themes = gap_themes()
    if theme is not None:
        if theme not in themes:
            return []
        themes = [theme]
    end = intensity.window_end(as_of)
    pairs = intensity.by_pair(end - timedelta(days=intensity.WINDOW_DAYS), end, estate_ids=estate_ids,
                              themes=themes, decay_to=end, keep_signals=False)
    high = {pair: value for pair, value in pairs.items()
            if value.per_100 >= GAP_MIN_PER_100 and value.counted >= GAP_MIN_COUNTED}
    if not high:
        return []
    covered = covered_pairs(sorted({estate_id for estate_id, _ in high}))
    open_pairs = {pair: value for pair, value in high.items() if pair not in covered}
    estates = estates_by_id({estate_id for estate_id, _ in open_pairs})
    gaps = [Gap(estate=estates[estate_id], theme=code, per_100=value.per_100, counted=value.counted,
                urgent_share=value.urgent_share, weighted=value.weighted, households=value.households)
            for (estate_id, code), value in open_pairs.items()]
    gaps.sort(key=lambda g: (-g.per_100, -g.counted, g.estate.name, g.theme))
    return gaps
