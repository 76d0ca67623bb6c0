"""The street office's demand dashboard, its Excel export and the printable estate brief (issue 7)."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, render_template, request, send_file
from flask_login import current_user
from sqlalchemy import select

from portal.areas.models import Estate, Street
from portal.core.scoping import ALL_STAFF, get_scoped_or_404, roles_required, scoped
from portal.demand import exports, queries, services, summary
from portal.demand.models import SignalSource
from portal.extensions import db

bp = Blueprint("demand", __name__, url_prefix="/demand")
HEAT_MAP_ESTATES = 40  # on screen; the export has every estate


def _filters() -> queries.DemandFilters:
    filters = queries.DemandFilters.from_args(request.args).for_user(current_user)
    for message in filters.warnings:
        flash(message, "warning")
    return filters


def _granularity() -> str:
    return "month" if request.args.get("granularity") == "month" else "week"


def _chart(data: summary.Dashboard) -> dict:
    from nlp.themes import theme_name

    heat = data.heat
    theme_index = {t: i for i, t in enumerate(heat.themes)}
    estate_index = {e[0]: i for i, e in enumerate(heat.estates)}
    return {
        "themes": {"names": [theme_name(t) for t, _ in data.distribution], "counts": [n for _, n in data.distribution]},
        "trend": {"periods": [p for p, _ in data.trend], "counts": [n for _, n in data.trend]},
        "heat": {"estates": [name for _, name, _ in heat.estates], "themes": [theme_name(t) for t in heat.themes],
                 "cells": [[theme_index[t], estate_index[e], c.per_100] for (e, t), c in heat.cells.items()
                           if e in estate_index and c.per_100 is not None]},
    }


@bp.get("/")
@roles_required(*ALL_STAFF)
def dashboard():
    from nlp.themes import THEMES

    filters = _filters()
    data = summary.build(filters, current_user, _granularity(), heat_limit=HEAT_MAP_ESTATES)
    return render_template(
        "demand/dashboard.html", data=data, filters=filters, granularity=data.granularity, chart=_chart(data),
        streets=db.session.scalars(scoped(select(Street).order_by(Street.name), Street)).all(),
        estates=db.session.execute(scoped(select(Estate.id, Estate.name, Estate.street_id).order_by(Estate.name),
                                          Estate)).all(),
        themes=THEMES, sources=list(SignalSource), args=filters.as_args(),
        export_args=dict(filters.as_args(), granularity=data.granularity),
        brief_args={k: v for k, v in filters.as_args().items() if k in ("date_from", "date_to", "source", "urgent")})


@bp.get("/export.xlsx")
@roles_required(*ALL_STAFF)
def export():
    filters = queries.DemandFilters.from_args(request.args).for_user(current_user)
    data = summary.build(filters, current_user, _granularity(), with_text=False)
    buffer, rows = exports.dashboard_workbook(data, current_user)
    services.record_export(current_user, "需求分析导出", request.query_string.decode(errors="replace"), rows)
    return send_file(buffer, as_attachment=True, download_name=f"需求分析-{date.today().isoformat()}.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.get("/brief/<int:estate_id>")
@roles_required(*ALL_STAFF)
def brief(estate_id: int):
    from nlp.mask import mask_text

    estate = get_scoped_or_404(Estate, estate_id)
    args = {k: v for k, v in request.args.items() if k not in ("estate_id", "street_id")}
    filters = queries.DemandFilters.from_args(args)
    filters.estate_id = estate.id
    filters = filters.for_user(current_user)
    if filters.estate_id != estate.id:  # cannot happen for a scoped estate; never show a wider brief
        abort(404)
    for message in filters.warnings:
        flash(message, "warning")
    data = summary.build(filters, current_user, "month" if (filters.date_to - filters.date_from).days > 120 else "week",
                         keyword_themes=5)
    urgent = summary.urgent_items(filters, current_user, limit=5)
    services.record_export(current_user, f"小区需求简报：{estate.name}", request.query_string.decode(errors="replace"),
                           data.total)
    return render_template("demand/brief.html", estate=estate, data=data, filters=filters, urgent=urgent,
                           mask=mask_text, trend_svg=trend_bars(data.trend), today=date.today(),
                           args=filters.as_args())


def trend_bars(trend: list[tuple[str, int]], width: int = 640, height: int = 110) -> dict:
    """Bars for an inline SVG (attributes only: the page's CSP allows no inline styles)."""
    top = max([n for _, n in trend] + [1])
    step = width / max(len(trend), 1)
    bars = []
    for i, (period, n) in enumerate(trend):
        h = round(n / top * (height - 20), 1)
        bars.append({"x": round(i * step + 1, 1), "y": round(height - 14 - h, 1), "w": round(max(step - 2, 1), 1),
                     "h": h, "label": period, "n": n})
    return {"width": width, "height": height, "bars": bars, "top": top}
