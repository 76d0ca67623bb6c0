"""Hotline tickets: operator intake and import, street handling, 三率. Thin: services do the work."""
from __future__ import annotations

import io
from datetime import date, datetime, timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from openpyxl import Workbook
from sqlalchemy import select

from portal.accounts.models import Role
from portal.areas.models import Estate, Street
from portal.audit.services import record_event
from portal.core.errors import ServiceError
from portal.core.masking import caller_name_for, caller_phone_for, text_for
from portal.core.scoping import ALL_STAFF, get_scoped_or_404, roles_required, scoped
from portal.core.workdays import to_utc_naive
from portal.extensions import db
from portal.jobs.models import Job
from portal.tickets import importer, services, tasks
from portal.tickets.forms import (
    CallbackForm, DispatchForm, ImportForm, MergeForm, PlaceForm, ReasonForm, ResolveForm, TagForm, TicketForm,
)
from portal.tickets.models import STATUS_LABELS, Ticket, TicketStatus
from portal.tickets.queries import TicketFilters, three_rates, ticket_query

bp = Blueprint("tickets", __name__, url_prefix="/tickets")
OPERATORS = (Role.operator, Role.district_admin)


def theme_choices():
    from nlp.themes import THEMES

    return [(t.code, t.name) for t in THEMES]


def _streets():
    return db.session.scalars(scoped(select(Street).order_by(Street.name), Street)).all()


def _estates():
    return db.session.scalars(scoped(select(Estate).order_by(Estate.name), Estate)).all()


@bp.get("/")
@roles_required(*ALL_STAFF)
def index():
    filters = TicketFilters.from_args(request.args)
    page = db.paginate(ticket_query(filters, current_user), per_page=current_app.config["PAGE_SIZE"], error_out=False)
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("tickets/index.html", page=page, filters=filters, args=args, streets=_streets(),
                           estates=_estates(), themes=theme_choices(), statuses=STATUS_LABELS,
                           now=datetime.utcnow())


@bp.get("/export.xlsx")
@roles_required(*ALL_STAFF)
def export():
    from portal.jobs import exports

    filters = TicketFilters.from_args(request.args)
    query = ticket_query(filters, current_user).limit(current_app.config["EXPORT_MAX_ROWS"])
    query_string = request.query_string.decode()
    row_count = exports.count_rows(query)
    if exports.over_inline_limit(row_count):  # too big for one request: a background job, with progress
        fields = TicketFilters.__dataclass_fields__  # only the filters travel to the job (and its back link)
        args = {k: v for k, v in request.args.to_dict().items() if k in fields}
        job = exports.start_export(current_user, "tickets.export", {"args": args, "query": query_string})
        flash(f"共 {row_count} 条工单，已转为后台导出；完成后在本页下载。", "success")
        return redirect(url_for("jobs.export_page", job_id=job.id))
    tickets = db.session.scalars(query).all()

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("工单")
    sheet.append(tasks.EXPORT_HEADER)
    for t in tickets:
        sheet.append(tasks.export_row(current_user, t))
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    record_event(current_user, "export", object_type="tickets", street_id=current_user.street_id,
                 note=tasks.export_note(len(tickets), query_string))
    db.session.commit()
    return send_file(buffer, as_attachment=True, download_name=f"工单-{date.today().isoformat()}.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*OPERATORS)
def new():
    form = TicketForm()
    if form.validate_on_submit():
        try:
            ticket = services.create_ticket(current_user, services.TicketInput(
                content=form.content.data, title=form.title.data or "", address=form.address.data or "",
                caller_name=form.caller_name.data, caller_phone=form.caller_phone.data,
                request_type=form.request_type.data or None))
            flash(f"已登记工单 {ticket.number}，请核对自动识别的主题和小区。", "success")
            return redirect(url_for("tickets.detail", ticket_id=ticket.id))
        except ServiceError as exc:
            flash(exc.message, "error")
    return render_template("tickets/new.html", form=form)


def _action_forms(ticket: Ticket):
    tag_form = TagForm(prefix="tags")
    tag_form.themes.choices = theme_choices()
    tag_form.themes.data = list(ticket.themes)
    tag_form.urgent.data = ticket.urgent
    place_form = PlaceForm(prefix="place")
    place_form.estate_id.choices = [(e.id, f"{e.name}（{e.street.name}）") for e in _estates()]
    place_form.estate_id.data = ticket.estate_id
    dispatch_form = DispatchForm(prefix="dispatch")
    dispatch_form.street_id.choices = [(s.id, s.name) for s in _streets()]
    if ticket.estate:
        dispatch_form.street_id.data = ticket.estate.street_id
    return {"tag_form": tag_form, "place_form": place_form, "dispatch_form": dispatch_form,
            "reason_form": ReasonForm(prefix="return"), "resolve_form": ResolveForm(prefix="resolve"),
            "callback_form": CallbackForm(prefix="callback"), "merge_form": MergeForm(prefix="merge")}


def _duplicates(ticket: Ticket):
    from nlp.dedup import NearDuplicateFinder

    candidates = services.duplicate_candidates(ticket)
    if not candidates:
        return []
    finder = NearDuplicateFinder()
    finder.fit(candidates)
    hits = finder.similar(services.tag_text_of(ticket), limit=5)
    by_id = {t.id: t for t in db.session.scalars(scoped(select(Ticket).where(Ticket.id.in_([i for i, _ in hits])), Ticket))}
    return [(by_id[i], score) for i, score in hits if i in by_id]


@bp.get("/<int:ticket_id>")
@roles_required(*ALL_STAFF)
def detail(ticket_id: int):
    ticket = get_scoped_or_404(Ticket, ticket_id)
    from portal.audit.models import Event
    from nlp.themes import theme_name

    from portal.audit.services import PERSONAL_DATA_VIEW, record_personal_data_view

    shown = [label for label, value in (("来电人", ticket.caller_name), ("联系电话", ticket.caller_phone)) if value]
    if shown and current_user.sees_personal_data:
        record_personal_data_view(current_user, ticket, shown)  # the audit page lists who saw them unmasked
    history = db.session.scalars(select(Event).where(Event.object_type == "tickets", Event.object_id == str(ticket.id),
                                                     Event.action != PERSONAL_DATA_VIEW)
                                 .order_by(Event.created_at, Event.id)).all()
    return render_template("tickets/detail.html", ticket=ticket, history=history, theme_name=theme_name,
                           actions=services.allowed_actions(current_user, ticket), duplicates=_duplicates(ticket),
                           caller_name=caller_name_for(current_user, ticket.caller_name),
                           caller_phone=caller_phone_for(current_user, ticket.caller_phone),
                           content=text_for(current_user, ticket.content), **_action_forms(ticket))


def _act(ticket_id: int, handler):
    ticket = get_scoped_or_404(Ticket, ticket_id)
    try:
        message = handler(ticket)
        flash(message, "success")
    except ServiceError as exc:
        flash(exc.message, "error")
    return redirect(url_for("tickets.detail", ticket_id=ticket.id))


@bp.post("/<int:ticket_id>/tags")
@roles_required(*ALL_STAFF)
def tags(ticket_id: int):
    form = TagForm(prefix="tags")
    form.themes.choices = theme_choices()
    if not form.validate_on_submit():
        abort(400)
    return _act(ticket_id, lambda t: (services.confirm_tags(current_user, t, form.themes.data, form.urgent.data),
                                      "已保存主题。")[1])


@bp.post("/<int:ticket_id>/place")
@roles_required(*ALL_STAFF)
def place(ticket_id: int):
    estate_id = request.form.get("place-estate_id", type=int)
    if not estate_id:
        abort(400)
    return _act(ticket_id, lambda t: (services.place(current_user, t, estate_id), "已确定小区。")[1])


@bp.post("/<int:ticket_id>/dispatch")
@roles_required(*OPERATORS)
def dispatch(ticket_id: int):
    street_id = request.form.get("dispatch-street_id", type=int)
    note = request.form.get("dispatch-note", "")[:500]
    if not street_id:
        abort(400)
    return _act(ticket_id, lambda t: (services.dispatch(current_user, t, street_id, note), "已派单。")[1])


@bp.post("/<int:ticket_id>/accept")
@roles_required(Role.street_staff, Role.district_admin)
def accept(ticket_id: int):
    return _act(ticket_id, lambda t: (services.accept(current_user, t), "已签收，开始办理。")[1])


@bp.post("/<int:ticket_id>/return")
@roles_required(Role.street_staff, Role.district_admin)
def return_ticket(ticket_id: int):
    reason = request.form.get("return-reason", "")
    return _act(ticket_id, lambda t: (services.return_ticket(current_user, t, reason), "已退单，等待重新派单。")[1])


@bp.post("/<int:ticket_id>/resolve")
@roles_required(Role.street_staff, Role.district_admin)
def resolve(ticket_id: int):
    resolution = request.form.get("resolve-resolution", "")
    return _act(ticket_id, lambda t: (services.resolve(current_user, t, resolution), "已办结。")[1])


@bp.post("/<int:ticket_id>/callback")
@roles_required(*OPERATORS)
def callback(ticket_id: int):
    satisfaction = request.form.get("callback-satisfaction", "")
    note = request.form.get("callback-note", "")[:2000]
    return _act(ticket_id, lambda t: (services.record_callback(current_user, t, satisfaction, note), "已记录回访。")[1])


@bp.post("/<int:ticket_id>/merge")
@roles_required(*OPERATORS)
def merge(ticket_id: int):
    number = request.form.get("merge-target_number", "").strip()
    target = db.session.scalar(scoped(select(Ticket).where(Ticket.number == number), Ticket))

    def handler(ticket):
        if target is None:
            raise ServiceError(f"找不到工单 {number or '（空）'}。")
        services.merge(current_user, ticket, target)
        return f"已并入工单 {target.number}。"

    return _act(ticket_id, handler)


@bp.get("/placement")
@roles_required(*ALL_STAFF)
def placement():
    filters = TicketFilters(needs_placement=True)
    page = db.paginate(ticket_query(filters, current_user), per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("tickets/placement.html", page=page, estates=_estates())


@bp.route("/import", methods=["GET", "POST"])
@roles_required(*OPERATORS)
def import_page():
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        job = tasks.start_import(current_user, upload.filename or "tickets.csv", upload.read(), form.skip_invalid.data)
        return redirect(url_for("tickets.import_job", job_id=job.id))
    return render_template("tickets/import.html", form=form)


def _own_job(job_id: int) -> Job:
    job = db.session.get(Job, job_id)
    if job is None or job.kind != "tickets.import" or (job.created_by_id != current_user.id and not current_user.is_admin):
        abort(404)
    return job


@bp.get("/import/<int:job_id>")
@roles_required(*OPERATORS)
def import_job(job_id: int):
    job = _own_job(job_id)
    return render_template("tickets/import_job.html", job=job, standard_columns=importer.STANDARD_COLUMNS)


@bp.post("/import/<int:job_id>/mapping")
@roles_required(*OPERATORS)
def import_mapping(job_id: int):
    job = _own_job(job_id)
    if not (job.result or {}).get("mapping_needed"):
        abort(400)
    mapping = {header: request.form.get(f"map-{i}", "") for i, header in enumerate(job.result["unknown_headers"])}
    mapping = {k: v for k, v in mapping.items() if v in importer.STANDARD_COLUMNS}
    if not mapping:
        flash("请至少为一列指定对应的标准列。", "error")
        return redirect(url_for("tickets.import_job", job_id=job.id))
    importer.save_mappings(current_user, mapping)
    retry = tasks.start_import(current_user, job.payload["filename"], b"", job.payload["skip_invalid"],
                               mapping=mapping, stored_path=job.payload["path"])  # also the headers too long to save
    return redirect(url_for("tickets.import_job", job_id=retry.id))


def _period():
    today = date.today()
    try:
        start = date.fromisoformat(request.args.get("start", "")) if request.args.get("start") else today.replace(day=1)
        end = date.fromisoformat(request.args.get("end", "")) if request.args.get("end") else today
    except ValueError:
        start, end = today.replace(day=1), today
    if end < start:
        start, end = end, start
    return start, end


def _rates():
    start, end = _period()
    utc_start = to_utc_naive(datetime.combine(start, datetime.min.time()))
    utc_end = to_utc_naive(datetime.combine(end + timedelta(days=1), datetime.min.time()))
    return start, end, three_rates(current_user, utc_start, utc_end)


@bp.get("/kpi")
@roles_required(*ALL_STAFF)
def kpi():
    start, end, rows = _rates()
    chart = {"streets": [r.street_name for r in rows],
             "series": [{"name": name, "data": [None if getattr(r, key) is None else round(getattr(r, key) * 100, 1)
                                                 for r in rows]}
                        for name, key in (("响应率", "response_rate"), ("办结率", "resolution_rate"),
                                          ("满意率", "satisfaction_rate"))]}
    return render_template("tickets/kpi.html", rows=rows, start=start, end=end, chart=chart)


@bp.get("/kpi.xlsx")
@roles_required(*ALL_STAFF)
def kpi_export():
    start, end, rows = _rates()
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "三率"
    sheet.append([f"统计期：{start.isoformat()} 至 {end.isoformat()}（按派单时间）"])
    sheet.append(["街道", "派单数", "24小时内签收", "响应率", "办结数", "办结率", "回访数", "满意和基本满意", "满意率"])
    for r in rows:
        sheet.append([r.street_name, r.dispatched, r.responded, r.response_rate, r.resolved, r.resolution_rate,
                      r.callbacks, r.satisfied, r.satisfaction_rate])
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    record_event(current_user, "export", object_type="tickets", street_id=current_user.street_id,
                 note=f"三率导出: {start}–{end}")
    db.session.commit()
    return send_file(buffer, as_attachment=True, download_name=f"三率-{start}-{end}.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
