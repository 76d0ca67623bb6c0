"""The project library pages (项目库): list, create, edit, status, Excel import and export. Thin: the
services check scope and rules and record the events."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.accounts.forms import EmptyForm
from portal.areas.models import Estate, Street
from portal.core.errors import ServiceError
from portal.core.scoping import PLACE_EDITORS, get_scoped_or_404, roles_required, scoped
from portal.extensions import db
from portal.projects import exports, importer, services
from portal.projects.forms import ImportForm, ProjectForm, StatusForm
from portal.projects.models import STATUS_ORDER, Project, ProjectCategory, ProjectEstate, ProjectStatus

bp = Blueprint("projects", __name__, url_prefix="/projects")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ACTION_LABELS = {"project.create": "创建项目", "project.update": "修改项目", "project.status": "更改状态",
                 "project.delete": "删除项目"}
FIELD_LABELS = {"name": "名称", "description": "说明", "category": "类别", "cost_wan": "投资估算",
                "households_covered": "覆盖户数", "consent_survey_id": "表决调查", "estate_ids": "小区",
                "themes": "主题"}


def _project(project_id: int) -> Project:
    return get_scoped_or_404(Project, project_id)


def _streets() -> list[Street]:
    return db.session.scalars(scoped(select(Street).order_by(Street.name), Street)).all()


def _estate_choices() -> list[tuple[int, str]]:
    stmt = scoped(select(Estate).join(Street, Estate.street_id == Street.id).order_by(Street.name, Estate.name), Estate)
    estates = db.session.scalars(stmt).all()
    many_streets = len({e.street_id for e in estates}) > 1
    return [(e.id, f"{e.street.name} / {e.name}（{e.household_count} 户）" if many_streets
             else f"{e.name}（{e.household_count} 户）") for e in estates]


def _theme_choices() -> list[tuple[str, str]]:
    from nlp.themes import THEMES

    return [(t.code, t.name) for t in THEMES]


def _survey_choices() -> list[tuple[int, str]]:
    surveys = services.consent_surveys_for(current_user)
    many_streets = len({s.street_id for s in surveys}) > 1
    return [(0, "（不关联）")] + [(s.id, f"{s.street.name} / {s.title}" if many_streets else s.title) for s in surveys]


def _form(**kwargs) -> ProjectForm:
    form = ProjectForm(**kwargs)
    form.estate_ids.choices = _estate_choices()
    form.themes.choices = _theme_choices()
    form.consent_survey_id.choices = _survey_choices()
    return form


def _project_input(form: ProjectForm) -> services.ProjectInput:
    return services.ProjectInput(
        name=form.name.data or "", estate_ids=list(form.estate_ids.data or []), themes=list(form.themes.data or []),
        category=form.category.data or "", cost_wan=form.cost_wan.data, households_covered=form.households_covered.data,
        description=form.description.data or "", consent_survey_id=form.consent_survey_id.data or None)


def _show_error(form: ProjectForm, exc: ServiceError) -> None:
    field = getattr(form, getattr(exc, "field", ""), None) if isinstance(exc, services.ProjectInputError) else None
    if field is not None:
        field.errors = list(field.errors or []) + [exc.message]
        flash("请按提示修改后再保存。", "error")
    else:
        flash(exc.message, "error")


# --- list and export ----------------------------------------------------------------------------

def _filtered(filters: services.ProjectFilters):
    return services.project_query(filters, current_user).options(
        selectinload(Project.estate_links).joinedload(ProjectEstate.estate), selectinload(Project.theme_links),
        selectinload(Project.street))


@bp.get("/")
@roles_required(*PLACE_EDITORS)
def index():
    filters = services.ProjectFilters.from_args(request.args)
    if current_user.street_id:
        filters.street_id = None  # street staff see their street only; the filter is not theirs to set
    page = db.paginate(_filtered(filters), per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("projects/index.html", page=page, filters=filters, args=filters.as_args(),
                           streets=_streets(), categories=list(ProjectCategory), statuses=list(ProjectStatus))


@bp.get("/export.xlsx")
@roles_required(*PLACE_EDITORS)
def export():
    filters = services.ProjectFilters.from_args(request.args)
    if current_user.street_id:
        filters.street_id = None
    projects = db.session.scalars(_filtered(filters).limit(current_app.config["EXPORT_MAX_ROWS"])).all()
    buffer, rows = exports.projects_workbook(projects, current_user)
    services.record_export(current_user, rows, request.query_string.decode(errors="replace"))
    return send_file(buffer, as_attachment=True, download_name=f"项目库-{date.today().isoformat()}.xlsx", mimetype=XLSX)


# --- create, view, edit -------------------------------------------------------------------------

def _prefill(form: ProjectForm) -> None:
    """?estate_id=&theme= (the demand-gap page's "create project"): a project for that pair."""
    from nlp.themes import theme_name

    estate_id = request.args.get("estate_id", "")
    theme = request.args.get("theme", "")
    estate = None
    if estate_id.isdigit() and len(estate_id) < 10:
        estate = db.session.scalar(scoped(select(Estate).where(Estate.id == int(estate_id)), Estate))
    if theme not in dict(form.themes.choices):
        theme = ""
    if estate is not None:
        form.estate_ids.data = [estate.id]
        form.households_covered.data = estate.household_count
    if theme:
        form.themes.data = [theme]
        category = services.category_for_theme(theme)
        if category is not None:
            form.category.data = category.value
    if estate is not None and theme:
        form.name.data = f"{estate.name}{theme_name(theme)}改造"


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*PLACE_EDITORS)
def new():
    form = _form()
    if request.method == "GET":
        _prefill(form)
    if form.validate_on_submit():
        try:
            project = services.create_project(current_user, _project_input(form))
            flash(f"已创建项目「{project.name}」。", "success")
            return redirect(url_for("projects.detail", project_id=project.id))
        except ServiceError as exc:
            db.session.rollback()
            _show_error(form, exc)
    status = 200 if request.method == "GET" else 422
    return render_template("projects/form.html", form=form, title="新建项目", project=None), status


@bp.get("/<int:project_id>")
@roles_required(*PLACE_EDITORS)
def detail(project_id: int):
    from nlp.themes import theme_name

    project = _project(project_id)
    status_form = StatusForm(prefix="status")
    status_form.status.choices = [(s.value, s.label) for s in services.next_statuses(project)]
    stage = STATUS_ORDER.index(project.status)
    status_form.status.data = STATUS_ORDER[min(stage + 1, len(STATUS_ORDER) - 1)].value if stage + 1 < len(STATUS_ORDER) \
        else STATUS_ORDER[stage - 1].value  # the next step forward, or back one from 已完成
    return render_template("projects/detail.html", project=project,
                           history=[(e, _event_summary(e)) for e in services.history(project)],
                           status_form=status_form, action_form=EmptyForm(), theme_name=theme_name,
                           action_labels=ACTION_LABELS, stages=STATUS_ORDER,
                           stage_index=STATUS_ORDER.index(project.status),
                           deletable=project.status in services.DELETABLE, today=services.local_today())


def _status_label(value) -> str:
    try:
        return ProjectStatus(value).label
    except ValueError:
        return value or "—"


def _event_summary(event) -> str:
    """What an event changed, in a few words: the status step, or the fields an edit touched."""
    before, after = event.before or {}, event.after or {}
    if event.action == "project.status":
        text = f"{_status_label(before.get('status'))} → {_status_label(after.get('status'))}"
        day = after.get("completed_on") if after.get("status") == "completed" else after.get("started_on")
        return f"{text}，{day}" if day and after.get("status") in ("in_progress", "completed") else text
    if event.action == "project.update":
        changed = [label for key, label in FIELD_LABELS.items() if before.get(key) != after.get(key)]
        return "改了" + "、".join(changed) if changed else "没有改动"
    return ""


@bp.route("/<int:project_id>/edit", methods=["GET", "POST"])
@roles_required(*PLACE_EDITORS)
def edit(project_id: int):
    project = _project(project_id)
    form = _form(obj=project if request.method == "GET" else None)
    if request.method == "GET":
        form.estate_ids.data = project.estate_ids
        form.themes.data = project.themes
        form.category.data = project.category.value
        form.cost_wan.data = f"{project.cost_wan:f}"
        form.consent_survey_id.data = project.consent_survey_id or 0
        form.revision.data = str(project.revision)
    conflict = None
    if form.validate_on_submit():
        try:
            services.update_project(current_user, project, _project_input(form), form.revision.data)
            flash("已保存。", "success")
            return redirect(url_for("projects.detail", project_id=project.id))
        except services.RevisionConflict as exc:
            db.session.rollback()
            flash(exc.message, "error")
            conflict = db.session.get(Project, project.id)  # what is saved now, to compare with the input kept
        except ServiceError as exc:
            db.session.rollback()
            _show_error(form, exc)
    status = 200 if request.method == "GET" else (409 if conflict else 422)
    return render_template("projects/form.html", form=form, title=f"修改项目：{project.name}", project=project,
                           conflict=conflict), status


@bp.post("/<int:project_id>/status")
@roles_required(*PLACE_EDITORS)
def status(project_id: int):
    project = _project(project_id)
    form = StatusForm(prefix="status")
    form.status.choices = [(s.value, s.label) for s in ProjectStatus]
    if not form.validate_on_submit():
        if form.on_date.errors:
            flash("日期格式不对，请写成 2026-03-01。", "error")
            return redirect(url_for("projects.detail", project_id=project.id, _anchor="status"))
        abort(400)
    try:
        services.change_status(current_user, project, form.status.data, form.on_date.data)
        flash(f"状态已改为“{project.status.label}”。", "success")
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    return redirect(url_for("projects.detail", project_id=project.id, _anchor="status"))


@bp.post("/<int:project_id>/delete")
@roles_required(*PLACE_EDITORS)
def delete(project_id: int):
    project = _project(project_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    name = project.name
    try:
        services.delete_project(current_user, project)
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("projects.detail", project_id=project_id))
    flash(f"已删除项目「{name}」。", "success")
    return redirect(url_for("projects.index"))


# --- import -------------------------------------------------------------------------------------

@bp.route("/import", methods=["GET", "POST"])
@roles_required(*PLACE_EDITORS)
def import_page():
    form = ImportForm()
    report = None
    if form.validate_on_submit():
        upload = form.file.data
        try:
            summary = importer.import_projects(current_user, upload.filename or "projects.csv", upload.read())
            flash(f"已导入 {summary.created} 个项目。", "success")
            return redirect(url_for("projects.index"))
        except importer.ProjectImportError as exc:
            report = exc.report
            flash(exc.message, "error")
    status = 200 if request.method == "GET" else 422
    return render_template("projects/import.html", form=form, report=report, columns=importer.COLUMNS,
                           required=importer.REQUIRED, max_rows=importer.MAX_ROWS), status


@bp.get("/import/template.xlsx")
@roles_required(*PLACE_EDITORS)
def import_template():
    return send_file(exports.template_workbook(), as_attachment=True, download_name="项目库导入模板.xlsx", mimetype=XLSX)
