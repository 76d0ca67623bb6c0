"""Scores, weights and the annual plan (优先排序与年度计划): the ranking, each score's explanation and the
records behind it, the weights (district_admin edits), the plan and its Excel export. Thin: scoring.py and
plan.py compute, scope and record events."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Optional

from flask import Blueprint, abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import select

from portal.accounts.forms import EmptyForm
from portal.accounts.models import Role
from portal.areas.models import Street
from portal.audit.services import record_event
from portal.core.errors import ServiceError
from portal.core.paging import page_of
from portal.core.scoping import PLACE_EDITORS, get_scoped_or_404, roles_required, scoped, street_limit
from portal.extensions import db
from portal.projects import plan as annual, scoring
from portal.projects.models import FACTORS, Project, ProjectCategory
from portal.projects.priority_forms import WeightsForm

bp = Blueprint("priority", __name__, url_prefix="/projects")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RECORDS_PER_PAGE = 100
SIGNAL_FACTORS = ("demand", "urgency")
FACTOR_CODES = [code for code, _, _ in FACTORS]


@bp.app_context_processor
def _score_helpers() -> dict[str, Any]:
    return {"project_score": project_score}


def project_score(project: Project) -> Optional[scoring.RankedProject]:
    """For the project page's score box (templates/projects/priority/_project_score.html): computed once per
    request; None when the viewer may not see scores."""
    if not current_user.is_authenticated or current_user.role not in PLACE_EDITORS:
        return None
    cache = g.setdefault("project_scores", {})
    if project.id not in cache:
        cache[project.id] = scoring.explain(current_user, project)
    return cache[project.id]


# --- query strings -----------------------------------------------------------------------------------

@dataclass
class RankingFilters:
    street_id: Optional[int] = None
    category: Optional[str] = None
    status: Optional[str] = None

    def as_args(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in (None, "")}


def _int_arg(name: str, label: str) -> Optional[int]:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    if raw.isdigit() and len(raw) < 10:
        return int(raw)
    flash(f"{label}参数“{raw[:20]}”无效，已忽略。", "warning")
    return None


def _filters() -> RankingFilters:
    filters = RankingFilters()
    if street_limit(current_user) is None:
        filters.street_id = _int_arg("street_id", "街道")
        if filters.street_id is not None and db.session.get(Street, filters.street_id) is None:
            flash("没有这个街道，已显示全部街道。", "warning")
            filters.street_id = None
    category = (request.args.get("category") or "").strip()
    if category and category not in {c.value for c in ProjectCategory}:
        flash(f"项目类别“{category[:20]}”无效，已忽略。", "warning")
        category = ""
    status = (request.args.get("status") or "").strip()
    if status and status not in {s.value for s in scoring.CANDIDATE_STATUSES}:
        flash("排序只包括储备和入库项目，状态筛选已忽略。", "warning")
        status = ""
    filters.category, filters.status = category or None, status or None
    return filters


def _streets() -> list[Street]:
    return db.session.scalars(scoped(select(Street).order_by(Street.name), Street)).all()


# --- ranking and explanation ---------------------------------------------------------------------------

@bp.get("/ranking")
@roles_required(*PLACE_EDITORS)
def ranking():
    filters = _filters()
    rows = scoring.rank(current_user, street_id=filters.street_id, category=filters.category, status=filters.status)
    scoring.record_scores(rows)
    return render_template("projects/priority/ranking.html", rows=rows, filters=filters, streets=_streets(),
                           categories=list(ProjectCategory), statuses=list(scoring.CANDIDATE_STATUSES),
                           weight_set=scoring.current_weight_set(), action_form=EmptyForm(),
                           today=scoring.local_today(), urgent_share=scoring.URGENT_BASIC_SHARE)


@bp.post("/ranking/recompute")
@roles_required(*PLACE_EDITORS)
def recompute():
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    changed = scoring.recompute(current_user)
    flash(f"已按当前权重重新计算并保存全部候选项目得分（{changed} 个有变化）。" if changed
          else "已重新计算，得分没有变化。", "success")
    return redirect(url_for("priority.ranking", **{k: v for k, v in request.args.items()
                                                    if k in ("street_id", "category", "status")}))


def _scored(project_id: int) -> scoring.RankedProject:
    project = get_scoped_or_404(Project, project_id)
    return scoring.explain(current_user, project)


@bp.get("/<int:project_id>/score")
@roles_required(*PLACE_EDITORS)
def score(project_id: int):
    result = _scored(project_id)
    scoring.record_scores([result])
    return render_template("projects/priority/score.html", result=result, project=result.project,
                           stored=scoring.stored_score(project_id), weight_set=scoring.current_weight_set())


@bp.get("/<int:project_id>/score/<factor>")
@roles_required(*PLACE_EDITORS)
def factor_records(project_id: int, factor: str):
    from portal.demand.sources import load_records

    if factor not in FACTOR_CODES:
        abort(404)
    result = _scored(project_id)
    project = result.project
    context: dict[str, Any] = {"result": result, "project": project, "factor": result.factor(factor)}
    if factor in SIGNAL_FACTORS:
        urgent_only = factor == "urgency" and request.args.get("urgent") == "1"
        signals = [s for s in result.intensity.signals if s.urgent or not urgent_only]
        page = page_of(signals, request.args.get("page"), RECORDS_PER_PAGE)
        refs = load_records([(s.source, s.record_id) for s in page.items], current_user)
        context.update(page=page, refs=refs, urgent_only=urgent_only, intensity=result.intensity,
                       estate_names={e.id: e.name for e in project.estates})
    return render_template("projects/priority/factor.html", **context)


# --- weights -----------------------------------------------------------------------------------------

@bp.route("/weights", methods=["GET", "POST"])
@roles_required(*PLACE_EDITORS)
def weights():
    current = scoring.current_weight_set()
    editable = current_user.role == Role.district_admin
    form = WeightsForm()
    error = None
    if request.method == "POST":
        if not editable:
            abort(403)
        if form.validate_on_submit():
            try:
                saved = scoring.save_weights(current_user, form.weights(), form.note.data or "")
            except ServiceError as exc:
                db.session.rollback()
                error = exc.message
            else:
                flash(f"已保存权重第 {saved.version} 版，全部候选项目得分已按新权重重新计算。", "success")
                return redirect(url_for("priority.weights"))
        else:
            error = "；".join(e for errors in form.errors.values() for e in errors)
    else:
        for code, _, _ in FACTORS:
            form[code].data = f"{float(current.weights.get(code, 0)):g}"
    status = 422 if request.method == "POST" else 200
    return render_template("projects/priority/weights.html", form=form, editable=editable, error=error,
                           current=current, history=scoring.weight_history(), factors=FACTORS), status


# --- annual plan -------------------------------------------------------------------------------------

def _plan_or_error() -> tuple[Optional[annual.AnnualPlan], Optional[str], Optional[int]]:
    street_id = None
    if street_limit(current_user) is None:
        street_id = _int_arg("street_id", "街道")
    budget = request.args.get("budget")
    if budget is None or not budget.strip():
        return None, None, street_id
    try:
        return annual.annual_plan(current_user, annual.parse_budget(budget), street_id=street_id), None, street_id
    except ServiceError as exc:
        return None, exc.message, street_id


@bp.get("/plan")
@roles_required(*PLACE_EDITORS)
def plan():
    result, error, street_id = _plan_or_error()
    status = 422 if error else 200
    return render_template("projects/priority/plan.html", plan=result, error=error, street_id=street_id,
                           budget=(request.args.get("budget") or "")[:30], streets=_streets(),
                           urgent_share=scoring.URGENT_BASIC_SHARE), status


@bp.get("/plan.xlsx")
@roles_required(*PLACE_EDITORS)
def plan_export():
    result, error, _ = _plan_or_error()
    if result is None:
        flash(error or "请先填写年度预算。", "error")
        return redirect(url_for("priority.plan", **request.args))
    buffer, rows = annual.plan_workbook(result, current_user)
    record_event(current_user, "export", object_type="project_plan", street_id=street_limit(current_user),
                 note=f"年度计划导出: {rows} 行; 预算 {result.budget_wan} 万元; "
                      f"筛选 {request.query_string.decode(errors='replace')[:400]}")
    db.session.commit()
    return send_file(buffer, as_attachment=True, download_name=f"年度计划-{date.today().isoformat()}.xlsx",
                     mimetype=XLSX)
