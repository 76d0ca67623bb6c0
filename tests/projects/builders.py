"""Builders for project-library tests (on top of tests/helpers.py)."""
from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Iterable, Optional, Sequence

from sqlalchemy import insert

from portal.demand.models import DemandSignal, SignalSource, local_day_of
from portal.demand.services import rebuild_rollup
from portal.extensions import db
from portal.projects.intensity import window_end
from portal.projects.models import Project, ProjectCategory, ProjectEstate, ProjectStatus, ProjectTheme

_record = itertools.count(1)


def make_project(estates: Sequence, themes: Sequence[str] = ("drainage",), *, name: Optional[str] = None,
                 category: ProjectCategory = ProjectCategory.basic, status: ProjectStatus = ProjectStatus.proposed,
                 cost_wan: str = "100", households_covered: Optional[int] = None, consent_survey=None,
                 started_on: Optional[date] = None, completed_on: Optional[date] = None) -> Project:
    """A project written directly (no service): for tests of scores, plans, gaps and pages."""
    estates = list(estates)
    project = Project(street_id=estates[0].street_id, name=name or f"{estates[0].name}{category.label}改造",
                      category=category, status=status, cost_wan=Decimal(cost_wan),
                      households_covered=households_covered if households_covered is not None
                      else sum(e.household_count for e in estates),
                      consent_survey_id=consent_survey.id if consent_survey else None,
                      started_on=started_on, completed_on=completed_on)
    project.estate_links = [ProjectEstate(estate_id=e.id) for e in estates]
    project.theme_links = [ProjectTheme(theme=t) for t in dict.fromkeys(themes)]
    db.session.add(project)
    db.session.commit()
    return project


def add_signals(estate, theme: str, days_ago: Iterable[float], *, as_of: date, urgent: bool = False,
                reporter: Optional[str] = None, source: SignalSource = SignalSource.hotline, weight: float = 1.0) -> None:
    """Signals on (estate, theme) that many days before the end of local day `as_of`. Each has its own
    reporter unless `reporter` is given. The dashboard rollup is rebuilt afterwards."""
    end = window_end(as_of)
    rows = []
    for age in days_ago:
        occurred = end - timedelta(days=age)
        n = next(_record)
        rows.append({"source": source, "record_id": f"b{n}", "estate_id": estate.id, "street_id": estate.street_id,
                     "theme": theme, "occurred_at": occurred, "local_day": local_day_of(occurred), "urgent": urgent,
                     "weight": weight, "reporter_key": reporter or f"r{n}", "created_at": datetime(2026, 1, 1)})
    if rows:
        db.session.execute(insert(DemandSignal), rows)
        rebuild_rollup()
        db.session.commit()
