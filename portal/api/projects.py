"""Project library JSON under /api/v1: the ranking with every factor, the annual plan for a budget, and the
demand gaps. Same keys, limits and error format as the Open311 endpoints (portal.api.views); a key bound
to a street is that street's staff for portal.core.scoping, so it sees that street only."""
from __future__ import annotations

from datetime import date
from typing import Optional

from flask import jsonify, request

from portal.api.open311 import ApiError
from portal.api.views import bp, principal
from portal.core.errors import ServiceError
from portal.projects import gaps as gap_rules, intensity, plan as annual, scoring

EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)


def _street_id() -> Optional[int]:
    raw = (request.args.get("street_id") or "").strip()
    if not raw:
        return None
    if not (raw.isdigit() and 0 < int(raw) < 2**31):
        raise ApiError(400, f"street_id 应为正整数（收到“{raw[:20]}”）。")
    return int(raw)


def _as_of() -> date:
    raw = (request.args.get("as_of") or "").strip()
    if not raw:
        return scoring.local_today()
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, f"as_of 应为日期 YYYY-MM-DD（收到“{raw[:20]}”）。") from None
    if not EARLIEST <= value <= LATEST:
        raise ApiError(400, "as_of 超出范围（2000-01-01 至 2100-12-31）。")
    return value


def _json(document):
    response = jsonify(document)
    response.content_type = "application/json; charset=utf-8"
    return response


@bp.get("/projects/ranking.json")
def projects_ranking():
    caller = principal()
    as_of = _as_of()
    try:
        ranked = scoring.rank(caller, street_id=_street_id(), category=request.args.get("category") or None,
                              status=request.args.get("status") or None, as_of=as_of)
    except ServiceError as exc:
        raise ApiError(400, exc.message) from None
    version = ranked[0].weight_set_version if ranked else scoring.current_weight_set().version
    return _json({"as_of": as_of.isoformat(), "weight_set_version": version, "count": len(ranked),
                  "projects": [item.as_dict() for item in ranked]})


@bp.get("/projects/plan.json")
def projects_plan():
    caller = principal()
    if "budget" not in request.args:
        raise ApiError(400, "缺少 budget 参数：年度预算，单位万元（例如 budget=800）。")
    as_of, street_id = _as_of(), _street_id()
    try:
        budget = annual.parse_budget(request.args.get("budget"))
    except ServiceError as exc:
        raise ApiError(400, f"budget：{exc.message}") from None
    try:
        result = annual.annual_plan(caller, budget, street_id=street_id, as_of=as_of)
    except ServiceError as exc:
        raise ApiError(400, exc.message) from None
    return _json(result.as_dict())


@bp.get("/projects/gaps.json")
def projects_gaps():
    caller = principal()
    as_of, street_id = _as_of(), _street_id()
    theme = (request.args.get("theme") or "").strip() or None
    if theme is not None and theme not in gap_rules.gap_themes():
        raise ApiError(400, f"未知或不适用的 theme：{theme[:64]}（“other”不列入需求缺口）。")
    found = gap_rules.demand_gaps(caller, as_of=as_of, street_id=street_id, theme=theme)
    return _json({"as_of": as_of.isoformat(), "window_days": intensity.WINDOW_DAYS,
                  "min_per_100": gap_rules.GAP_MIN_PER_100, "min_counted": gap_rules.GAP_MIN_COUNTED,
                  "count": len(found), "gaps": [gap.as_dict() for gap in found]})
