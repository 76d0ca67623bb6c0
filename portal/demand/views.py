"""The street office's demand dashboard (issue 7)."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user
from sqlalchemy import select

from portal.areas.models import Estate, Street
from portal.core.scoping import ALL_STAFF, roles_required, scoped
from portal.demand import queries
from portal.demand.models import SignalSource
from portal.demand.sources import load_records
from portal.extensions import db

bp = Blueprint("demand", __name__, url_prefix="/demand")
KEYWORD_THEMES = 6
KEYWORD_RECORDS = 100


def _keywords(filters, themes: list[str]) -> dict[str, list[tuple[str, float]]]:
    from nlp.keywords import extract_keywords

    result = {}
    for theme in themes[:KEYWORD_THEMES]:
        refs = load_records(queries.records_for_theme(filters, current_user, theme, KEYWORD_RECORDS), current_user)
        texts = [ref.text for ref in refs.values()]
        result[theme] = extract_keywords(texts, top_k=8) if texts else []
    return result


@bp.get("/")
@roles_required(*ALL_STAFF)
def dashboard():
    from nlp.themes import THEMES, theme_name

    filters = queries.DemandFilters.from_args(request.args)
    granularity = "month" if request.args.get("granularity") == "month" else "week"
    distribution = queries.theme_distribution(filters, current_user)
    trend = queries.trend(filters, current_user, granularity)
    cells = queries.heat_map(filters, current_user)
    hot = queries.hot_spots(filters, current_user)
    top_themes = [theme for theme, _ in distribution]
    examples = {theme: queries.records_for_theme(filters, current_user, theme, 3) for theme in top_themes[:KEYWORD_THEMES]}
    refs = load_records([pair for pairs in examples.values() for pair in pairs], current_user)
    estates_in_map = sorted({(c.estate_name, c.estate_id) for c in cells})
    themes_in_map = top_themes
    chart = {
        "themes": {"names": [theme_name(t) for t, _ in distribution], "counts": [n for _, n in distribution]},
        "trend": {"periods": [p for p, _ in trend], "counts": [n for _, n in trend]},
        "heat": {"estates": [name for name, _ in estates_in_map], "themes": [theme_name(t) for t in themes_in_map],
                 "cells": [[themes_in_map.index(c.theme), [e for _, e in estates_in_map].index(c.estate_id),
                            c.per_100] for c in cells if c.per_100 is not None]},
    }
    heat_rows = {}
    for c in cells:
        heat_rows.setdefault(c.estate_name, {})[c.theme] = c
    return render_template(
        "demand/dashboard.html", filters=filters, granularity=granularity, total=queries.total(filters, current_user),
        distribution=distribution, trend=trend, heat_rows=heat_rows, heat_themes=themes_in_map, hot=hot,
        keywords=_keywords(filters, top_themes), examples=examples, refs=refs, chart=chart,
        streets=db.session.scalars(scoped(select(Street).order_by(Street.name), Street)).all(),
        estates=db.session.scalars(scoped(select(Estate).order_by(Estate.name), Estate)).all(),
        themes=THEMES, sources=list(SignalSource), args=filters.as_args())
