"""After completion (DESIGN.md §6): did the project work? Demand on its estates × themes in the 180 days
before it started against the 180 days after it was completed.

Both windows count signals without decay (a window is a plain count, once per reporter per theme per 30
days, per 100 households: portal.projects.intensity.for_estates_and_themes); the day a project starts and
the days it is under way belong to neither window.

A project completed less than 180 days ago is compared like for like: the days since completion (n)
against the n days just before it started, and marked 竣工未满 180 天，截至今日. Comparing n days after
with a full 180 days before would make every young project look like a success; scaling n days up to 180
would let a quiet fortnight stand for half a year. Under MIN_DAYS days it is not compared at all (待评估):
a few weeks of counts say nothing yet.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Iterable, Optional

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.core.scoping import scoped, street_limit
from portal.extensions import db
from portal.projects import intensity
from portal.projects.gaps import local_today
from portal.projects.models import Project, ProjectCategory, ProjectEstate

WINDOW_DAYS = 180
MIN_DAYS = 30

COMPLETE, PARTIAL, PENDING = "complete", "partial", "pending"
STATE_LABELS = {COMPLETE: "已满 180 天", PARTIAL: "竣工未满 180 天，截至今日", PENDING: "待评估（竣工不足 30 天）"}


def change_of(before: float, after: float) -> tuple[float, Optional[float]]:
    """The absolute change and the change as a share of before (None when before is zero)."""
    change = after - before
    return change, (change / before if before else None)


@dataclass
class Figures:
    """Before and after on some estates × themes, over the same number of days."""
    households: int
    before_weighted: float = 0.0
    after_weighted: float = 0.0
    before_counted: int = 0
    after_counted: int = 0

    @property
    def before_per_100(self) -> float:
        return self.before_weighted * 100 / self.households if self.households else self.before_weighted

    @property
    def after_per_100(self) -> float:
        return self.after_weighted * 100 / self.households if self.households else self.after_weighted

    @property
    def change(self) -> float:
        return change_of(self.before_per_100, self.after_per_100)[0]

    @property
    def change_pct(self) -> Optional[float]:
        return change_of(self.before_per_100, self.after_per_100)[1]

    def as_dict(self) -> dict[str, Any]:
        return {"households": self.households, "before_per_100": round(self.before_per_100, 4),
                "after_per_100": round(self.after_per_100, 4), "before_counted": self.before_counted,
                "after_counted": self.after_counted, "change": round(self.change, 4),
                "change_pct": None if self.change_pct is None else round(self.change_pct, 4)}


@dataclass
class Outcome:
    project: Project
    state: str
    days: int  # length of each window compared (0 when pending)
    before_start: date
    before_end: date  # inclusive: the day before started_on
    after_start: Optional[date]  # the day after completed_on
    after_end: Optional[date]  # inclusive
    figures: Figures
    by_theme: dict[str, Figures] = field(default_factory=dict)

    @property
    def compared(self) -> bool:
        return self.state != PENDING

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state] if self.state != PARTIAL else f"{STATE_LABELS[PARTIAL]}（已满 {self.days} 天）"

    def as_dict(self) -> dict[str, Any]:
        p = self.project
        return {"project_id": p.id, "name": p.name, "street_id": p.street_id, "category": p.category.value,
                "themes": p.themes, "started_on": p.started_on.isoformat(), "completed_on": p.completed_on.isoformat(),
                "state": self.state, "days": self.days,
                "before": {"from": self.before_start.isoformat(), "to": self.before_end.isoformat()},
                "after": None if self.after_start is None else
                {"from": self.after_start.isoformat(), "to": self.after_end.isoformat()},
                **(self.figures.as_dict() if self.compared else {})}


def evaluable(project: Project) -> bool:
    return project.started_on is not None and project.completed_on is not None \
        and project.completed_on >= project.started_on


def outcome_of(project: Project, as_of: Optional[date] = None) -> Optional[Outcome]:
    """Before/after of one project, or None when it has no start and completion dates."""
    if not evaluable(project):
        return None
    as_of = as_of or local_today()
    elapsed = (as_of - project.completed_on).days  # whole days after completion that have ended by as_of
    households = sum(intensity.households_of(project.estate_ids).values())
    if elapsed < MIN_DAYS:
        before_start = project.started_on - timedelta(days=WINDOW_DAYS)
        return Outcome(project, PENDING, 0, before_start, project.started_on - timedelta(days=1), None, None,
                       Figures(households))
    days = min(WINDOW_DAYS, elapsed)
    state = COMPLETE if days == WINDOW_DAYS else PARTIAL
    before_start = project.started_on - timedelta(days=days)
    after_start = project.completed_on + timedelta(days=1)
    after_end = project.completed_on + timedelta(days=days)
    before = intensity.by_pair(intensity.window_start(before_start), intensity.window_start(project.started_on),
                               estate_ids=project.estate_ids, themes=project.themes, keep_signals=False)
    after = intensity.by_pair(intensity.window_start(after_start), intensity.window_end(after_end),
                              estate_ids=project.estate_ids, themes=project.themes, keep_signals=False)
    total = Figures(households)
    themes = {theme: Figures(households) for theme in project.themes}
    for pairs, side in ((before, "before"), (after, "after")):
        for (_, theme), value in pairs.items():
            for figures in (total, themes[theme]):
                setattr(figures, f"{side}_weighted", getattr(figures, f"{side}_weighted") + value.weighted)
                setattr(figures, f"{side}_counted", getattr(figures, f"{side}_counted") + value.counted)
    return Outcome(project, state, days, before_start, project.started_on - timedelta(days=1), after_start,
                   after_end, total, themes)


def project_outcomes(user, *, as_of: Optional[date] = None, street_id: Optional[int] = None,
                     projects: Optional[Iterable[Project]] = None) -> list[Outcome]:
    """Every project the user may see that has both dates, newest completion first."""
    if projects is None:
        limit = street_limit(user)
        if limit is not None and street_id not in (None, limit):
            return []
        stmt = scoped(select(Project), Project, user).where(
            Project.started_on.is_not(None), Project.completed_on.is_not(None))
        if street_id is not None:
            stmt = stmt.where(Project.street_id == street_id)
        stmt = stmt.options(selectinload(Project.estate_links).selectinload(ProjectEstate.estate),
                            selectinload(Project.theme_links), selectinload(Project.street))
        projects = db.session.scalars(stmt.order_by(Project.completed_on.desc(), Project.id.desc())).all()
    outcomes = [outcome_of(project, as_of) for project in projects]
    return [outcome for outcome in outcomes if outcome is not None]


@dataclass
class Group:
    """Projects of one category or one theme, their figures added up (each project over its own window)."""
    key: str
    label: str
    projects: int = 0
    reduced: int = 0  # projects whose demand went down
    partial: int = 0
    figures: Figures = field(default_factory=lambda: Figures(0))

    def add(self, outcome: Outcome, figures: Figures) -> None:
        self.projects += 1
        self.reduced += figures.after_per_100 < figures.before_per_100
        self.partial += outcome.state == PARTIAL
        f = self.figures
        f.households += figures.households
        f.before_weighted += figures.before_weighted
        f.after_weighted += figures.after_weighted
        f.before_counted += figures.before_counted
        f.after_counted += figures.after_counted

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "projects": self.projects, "reduced": self.reduced,
                "partial": self.partial, **self.figures.as_dict()}


def by_category(outcomes: Iterable[Outcome]) -> list[Group]:
    groups = {c: Group(c.value, c.label) for c in ProjectCategory}
    for outcome in outcomes:
        if outcome.compared:
            groups[outcome.project.category].add(outcome, outcome.figures)
    return [group for group in groups.values() if group.projects]


def by_theme(outcomes: Iterable[Outcome]) -> list[Group]:
    """Per theme: each project's figures on that theme alone (its estates × the one theme)."""
    from nlp.themes import theme_name

    groups: dict[str, Group] = {}
    for outcome in outcomes:
        if not outcome.compared:
            continue
        for theme, figures in outcome.by_theme.items():
            groups.setdefault(theme, Group(theme, theme_name(theme))).add(outcome, figures)
    return sorted(groups.values(), key=lambda g: (g.figures.change, g.key))


def summary_counts(outcomes: Iterable[Outcome]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for outcome in outcomes:
        counts[outcome.state] += 1
    return dict(counts)
