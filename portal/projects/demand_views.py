"""Demand gaps and the after-completion check: read-only pages over portal.projects.gaps and .outcomes."""
from __future__ import annotations

from datetime import timedelta
from typing import Optional

from flask import Blueprint, flash, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.routing import BuildError

from portal.accounts.models import Role
from portal.areas.models import Street
from portal.core.paging import page_of
from portal.core.scoping import roles_required, scoped, street_limit
from portal.extensions import db
from portal.projects import gaps as gap_rules, intensity, outcomes as outcome_rules

bp = Blueprint("project_demand", __name__, url_prefix="/projects")
VIEWERS = (Role.street_staff, Role.district_admin)
GAPS_PER_PAGE = 100  # a dense district has thousands of gaps, most intense first


def _street_arg() -> Optional[int]:
    """?street_id= for district users; a street user always sees their own street (and is told so)."""
    raw = (request.args.get("street_id") or "").strip()
    limit = street_limit(current_user)
    if not raw:
        return limit
    if not (raw.isdigit() and 0 < int(raw) < 2**31):
        flash(f"参数 street_id=“{raw[:20]}”无效，已忽略。", "warning")
        return limit
    street_id = int(raw)
    if limit is not None and street_id != limit:
        flash("只能查看本街道的数据，已显示本街道。", "warning")
        return limit
    if db.session.get(Street, street_id) is None:
        flash("找不到该街道，已显示全部街道。", "warning")
        return None
    return street_id


def _theme_arg() -> Optional[str]:
    theme = (request.args.get("theme") or "").strip()
    if not theme:
        return None
    if theme not in gap_rules.gap_themes():
        flash("主题无效，已显示全部主题。", "warning")
        return None
    return theme


def _optional_url(endpoint: str, **values) -> Optional[str]:
    """A link to another helper's page, or None while that page does not exist yet."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def _streets():
    return db.session.scalars(scoped(select(Street).order_by(Street.name), Street)).all()


@bp.get("/gaps")
@roles_required(*VIEWERS)
def gaps():
    from nlp.themes import THEMES

    street_id, theme = _street_arg(), _theme_arg()
    as_of = gap_rules.local_today()
    found = gap_rules.demand_gaps(current_user, as_of=as_of, street_id=street_id, theme=theme)
    window = {"date_from": (as_of - timedelta(days=intensity.WINDOW_DAYS - 1)).isoformat(),
              "date_to": as_of.isoformat()}
    page = page_of(found, request.args.get("page"), GAPS_PER_PAGE)
    rows = [{"gap": gap,
             "records_url": url_for("demand.dashboard", estate_id=gap.estate.id, theme=gap.theme, **window),
             "new_url": _optional_url("projects.new", estate_id=gap.estate.id, theme=gap.theme)}
            for gap in page.items]
    top = max([gap.per_100 for gap in found] + [gap_rules.GAP_MIN_PER_100])  # one scale on every page
    return render_template("projects/demand/gaps.html", rows=rows, page=page, top=top, street_id=street_id, theme=theme,
                           streets=_streets(), themes=[t for t in THEMES if t.code in gap_rules.gap_themes()],
                           as_of=as_of, window=window, min_per_100=gap_rules.GAP_MIN_PER_100,
                           min_counted=gap_rules.GAP_MIN_COUNTED, window_days=intensity.WINDOW_DAYS,
                           half_life=intensity.HALF_LIFE_DAYS, repeat_days=intensity.REPEAT_DAYS)


@bp.get("/outcomes")
@roles_required(*VIEWERS)
def outcomes():
    street_id = _street_arg()
    as_of = gap_rules.local_today()
    found = outcome_rules.project_outcomes(current_user, as_of=as_of, street_id=street_id)
    links = {o.project.id: _optional_url("projects.detail", project_id=o.project.id) for o in found}
    return render_template("projects/demand/outcomes.html", outcomes=found, links=links, street_id=street_id,
                           streets=_streets(), as_of=as_of, by_category=outcome_rules.by_category(found),
                           by_theme=outcome_rules.by_theme(found), counts=outcome_rules.summary_counts(found),
                           window_days=outcome_rules.WINDOW_DAYS, min_days=outcome_rules.MIN_DAYS)


@bp.app_template_global("project_outcome")
def project_outcome(project):
    """For templates/projects/demand/_project_outcome.html, included by the project page (already scoped)."""
    return outcome_rules.outcome_of(project)
