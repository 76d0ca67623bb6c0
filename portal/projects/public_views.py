"""The public page 你说我办: what residents raised and what is being done, per estate. No login.

Only counts and project facts are shown: never a record's text, a name, a phone number, an address or a
room. Counts come from the demand rollup (one per record per theme), projects from the project library.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Optional

from flask import Blueprint, abort, current_app, render_template
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal.areas.models import Community, Estate, Street
from portal.demand.models import DemandDailyCount, SignalSource
from portal.extensions import db, limiter
from portal.projects import outcomes as outcome_rules
from portal.projects.gaps import local_today
from portal.projects.models import Project, ProjectEstate, ProjectStatus

bp = Blueprint("public_projects", __name__, url_prefix="/nishuo")
PUBLIC_DAYS = 365


def _public_limit() -> str:
    return current_app.config.get("PUBLIC_PROJECTS_RATE_LIMIT", "60 per minute")


# One budget per address for the whole of 你说我办, not one per page.
limiter.shared_limit(_public_limit, scope="nishuo")(bp)


@bp.errorhandler(429)
def too_many(error):
    return render_template("public_projects/limited.html"), 429


@dataclass
class EstateRow:
    id: int
    name: str
    community: str
    raised: int
    projects: int


def _window(as_of: date) -> tuple[date, date]:
    return as_of - timedelta(days=PUBLIC_DAYS - 1), as_of


def estates_by_street(as_of: date) -> list[tuple[str, list[EstateRow]]]:
    start, end = _window(as_of)
    raised = dict(db.session.execute(
        select(DemandDailyCount.estate_id, func.sum(DemandDailyCount.n))
        .where(DemandDailyCount.local_day >= start, DemandDailyCount.local_day <= end)
        .group_by(DemandDailyCount.estate_id)).all())
    projects = dict(db.session.execute(
        select(ProjectEstate.estate_id, func.count()).group_by(ProjectEstate.estate_id)).all())
    rows = db.session.execute(
        select(Estate.id, Estate.name, Community.name, Street.name)
        .join(Community, Community.id == Estate.community_id).join(Street, Street.id == Estate.street_id)
        .order_by(Street.name, Community.name, Estate.name)).all()
    streets: dict[str, list[EstateRow]] = {}
    for estate_id, name, community, street in rows:
        streets.setdefault(street, []).append(
            EstateRow(estate_id, name, community, int(raised.get(estate_id) or 0), int(projects.get(estate_id) or 0)))
    return list(streets.items())


def raised_counts(estate_id: int, as_of: date) -> tuple[list[tuple[str, int]], list[tuple[SignalSource, int]], int]:
    """Counts by theme and by source over the public window (records per theme, no text)."""
    start, end = _window(as_of)
    base = select().where(DemandDailyCount.estate_id == estate_id, DemandDailyCount.local_day >= start,
                          DemandDailyCount.local_day <= end)
    total_n = func.sum(DemandDailyCount.n)
    themes = [(theme, int(n)) for theme, n in db.session.execute(
        base.add_columns(DemandDailyCount.theme, total_n).group_by(DemandDailyCount.theme)
        .order_by(total_n.desc(), DemandDailyCount.theme))]
    sources = dict(db.session.execute(
        base.add_columns(DemandDailyCount.source, total_n).group_by(DemandDailyCount.source)).all())
    by_source = [(source, int(sources[source])) for source in SignalSource if sources.get(source)]
    return themes, by_source, sum(n for _, n in themes)


def estate_projects(estate_id: int) -> list[Project]:
    projects = db.session.scalars(
        select(Project).join(ProjectEstate, ProjectEstate.project_id == Project.id)
        .where(ProjectEstate.estate_id == estate_id)
        .options(selectinload(Project.theme_links), selectinload(Project.estate_links))).all()
    # under way first, then planned, then done; newest first within each
    rank = {ProjectStatus.in_progress: 0, ProjectStatus.approved: 1, ProjectStatus.proposed: 2,
            ProjectStatus.completed: 3}
    return sorted(projects, key=lambda p: (rank[p.status], -p.id))


@bp.get("/")
def index():
    as_of = local_today()
    return render_template("public_projects/index.html", streets=estates_by_street(as_of), days=PUBLIC_DAYS)


@bp.get("/estates/<int:estate_id>")
def estate(estate_id: int):
    place: Optional[Estate] = db.session.get(Estate, estate_id) if 0 < estate_id < 2**31 else None
    if place is None:
        abort(404)
    as_of = local_today()
    themes, sources, total = raised_counts(place.id, as_of)
    projects = estate_projects(place.id)
    results = {p.id: outcome_rules.outcome_of(p, as_of) for p in projects if p.status is ProjectStatus.completed}
    start, _ = _window(as_of)
    top = max([n for _, n in themes] + [1])
    return render_template("public_projects/estate.html", estate=place, themes=themes, sources=sources, total=total,
                           top=top, projects=projects, results=results, date_from=start, as_of=as_of,
                           days=PUBLIC_DAYS)
