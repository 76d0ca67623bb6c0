"""The audit page (/audit): the event log for district_admin, filtered, paged and exported. Read only."""
from __future__ import annotations

import io
import json
from datetime import date
from typing import Any, Optional

from flask import Blueprint, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from openpyxl import Workbook
from sqlalchemy import select
from werkzeug.routing import BuildError

from portal.accounts.models import Role, User
from portal.areas.models import Street
from portal.audit import services
from portal.audit.forms import AuditFilterForm
from portal.audit.models import Event
from portal.core.scoping import roles_required
from portal.core.web import ACTION_LABELS
from portal.core.workdays import to_local
from portal.extensions import db

bp = Blueprint("audit", __name__, url_prefix="/audit")

AUDIT_ACTION_LABELS = {
    "export": "导出", "export.download": "下载导出文件", "backup.create": "数据库备份", "personal_data.view": "查看个人信息",
    "login": "登录", "logout": "退出", "login.failed": "登录失败",
    "user.create": "创建用户", "user.activate": "启用用户", "user.deactivate": "停用用户",
    "tickets.import": "导入工单", "suggestion.tags.correct": "更正建议主题",
    "survey.answer.tags.correct": "更正答卷主题", "meeting.point.tags.correct": "更正纪要主题",
    "api_key.create": "创建 API 密钥", "api_key.revoke": "吊销 API 密钥", "api_key.request": "API 调用",
    "model.retrain": "重新训练模型", "model.promote": "启用模型", "model.discard": "弃用模型",
    "project.weights.update": "修改评分权重",
}

OBJECT_LABELS = {
    "tickets": "工单", "users": "用户", "streets": "街道", "communities": "社区", "estates": "小区",
    "households": "住户", "surveys": "意愿调查", "survey_responses": "问卷答卷", "survey_answers": "答卷题目",
    "meetings": "座谈会", "minutes_points": "纪要要点", "meeting_actions": "会议待办", "suggestions": "网上建议",
    "projects": "项目", "project_plan": "年度计划", "project_weight_sets": "评分权重", "project_scores": "项目评分",
    "demand": "需求分析", "tag_corrections": "人工核对记录", "theme_models": "主题模型", "jobs": "后台任务",
    "api_keys": "API 密钥", "ticket_header_mappings": "表头映射", "events": "审计日志", "database": "数据库",
    "system": "系统",
}

# object type -> (endpoint, argument): where a row's object can be opened
OBJECT_LINKS = {
    "tickets": ("tickets.detail", "ticket_id"), "suggestions": ("suggestions.detail", "suggestion_id"),
    "projects": ("projects.detail", "project_id"), "surveys": ("surveys.detail", "survey_id"),
    "meetings": ("minutes.detail", "meeting_id"), "estates": ("areas.estate", "estate_id"),
}
KIND_CSS = {"export": "kind-export", "correction": "kind-correction", "personal_data": "kind-personal",
            "login": "kind-login", "login_failed": "kind-failed", "other": "kind-other"}
MAX_PAGE = 100000


def action_label(action: str) -> str:
    return AUDIT_ACTION_LABELS.get(action) or ACTION_LABELS.get(action) or action


def object_label(object_type: str) -> str:
    return OBJECT_LABELS.get(object_type, object_type)


def _short(value: Any, limit: int = 80) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def changes(event: Event) -> list[tuple[str, str, str]]:
    """(field, before, after) for what an event changed; one side empty for creations and deletions."""
    before = event.before if isinstance(event.before, dict) else {}
    after = event.after if isinstance(event.after, dict) else {}
    rows = []
    for key in list(dict.fromkeys([*before, *after])):
        old, new = before.get(key), after.get(key)
        if key in before and key in after and old == new:
            continue
        rows.append((str(key), "" if key not in before else _short(old), "" if key not in after else _short(new)))
    return rows


def object_link(event: Event) -> Optional[str]:
    target = OBJECT_LINKS.get(event.object_type)
    if not target or not (event.object_id or "").isdigit():
        return None
    try:
        return url_for(target[0], **{target[1]: int(event.object_id)})
    except BuildError:
        return None


def actor_label(event: Event) -> str:
    if event.actor is None:
        return "系统 / 未登录"
    return f"{event.actor.display_name}（{event.actor.username}）"


def _filter_form() -> tuple[AuditFilterForm, list[str]]:
    form = AuditFilterForm(formdata=request.args)
    users = db.session.scalars(select(User).order_by(User.username)).all()
    streets = db.session.scalars(select(Street).order_by(Street.name)).all()
    form.set_choices(users, streets, services.object_types(), object_label)
    return form, form.drop_invalid()


def _streets_by_id() -> dict[int, str]:
    return {s.id: s.name for s in db.session.scalars(select(Street))}


@bp.get("/")
@roles_required(Role.district_admin)
def index():
    form, dropped = _filter_form()
    if dropped:
        flash("以下筛选条件无效，已忽略：" + "、".join(dropped) + "。", "warning")
    raw_page = request.args.get("page", "")
    # A huge page number would overflow the database's OFFSET; past the end is an empty page anyway.
    number = min(int(raw_page), MAX_PAGE) if raw_page.isascii() and raw_page.isdigit() and int(raw_page) > 0 else 1
    page = db.paginate(services.event_query(form.filters()), page=number,
                       per_page=current_app.config["PAGE_SIZE"], error_out=False, count=True)
    return render_template("audit/index.html", form=form, page=page, args=form.args(), streets=_streets_by_id(),
                           kind_of=services.kind_of, kinds=services.ACTION_KINDS, kind_css=KIND_CSS,
                           action_label=action_label, object_label=object_label, changes=changes,
                           object_link=object_link, actor_label=actor_label)


def _cell(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula is kept as text (notes carry typed-in names)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


EXPORT_HEADER = ["编号", "时间", "类别", "操作", "操作代码", "操作人", "角色", "街道", "对象类型", "对象编号",
                 "变更前", "变更后", "说明"]


def export_row(e: Event, streets: dict[int, str]) -> list:
    """One event as exported: the direct download and the export job (audit/tasks.py) both use this."""
    return [_cell(v) for v in (
        e.id, to_local(e.created_at).strftime("%Y-%m-%d %H:%M:%S"), services.ACTION_KINDS[services.kind_of(e.action)],
        action_label(e.action), e.action, actor_label(e), e.actor.role.label if e.actor else "",
        streets.get(e.street_id, "") if e.street_id else "", object_label(e.object_type), e.object_id or "",
        json.dumps(e.before, ensure_ascii=False, default=str) if e.before is not None else "",
        json.dumps(e.after, ensure_ascii=False, default=str) if e.after is not None else "",
        e.note or "")]


def export_note(row_count: int, filters: str) -> str:
    return f"审计日志导出：{row_count} 条；筛选 {filters}"


@bp.get("/export.xlsx")
@roles_required(Role.district_admin)
def export():
    from portal.audit.tasks import filters_to_payload
    from portal.jobs import exports

    form, _ = _filter_form()
    limit = current_app.config["EXPORT_MAX_ROWS"]
    query = services.event_query(form.filters()).limit(limit)
    filters = "，".join(f"{k}={v}" for k, v in form.args().items()) or "无"
    row_count = exports.count_rows(query)
    if exports.over_inline_limit(row_count):  # too big for one request: a background job, with progress
        job = exports.start_export(current_user, "audit.export", {
            "filters": filters_to_payload(form.filters()), "args": form.args(), "filter_text": filters})
        flash(f"共 {row_count} 条记录，已转为后台导出；完成后在本页下载。", "success")
        return redirect(url_for("jobs.export_page", job_id=job.id))
    events = db.session.scalars(query).all()
    streets = _streets_by_id()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("审计日志")
    sheet.append(EXPORT_HEADER)
    for e in events:
        sheet.append(export_row(e, streets))
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    services.record_event(current_user, "export", object_type="events",
                          note=export_note(len(events), filters)[:1000])
    db.session.commit()
    return send_file(buffer, as_attachment=True, download_name=f"审计日志-{date.today().isoformat()}.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
