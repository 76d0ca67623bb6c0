"""Review queue, corrections log and theme-model versions. Thin: services do the work."""
from __future__ import annotations

import csv
import io

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.exceptions import Forbidden as HTTPForbidden

from portal.accounts.models import Role
from portal.audit.services import record_event
from portal.core.errors import ServiceError
from portal.core.scoping import ALL_STAFF, roles_required, scoped
from portal.demand.models import SignalSource
from portal.extensions import db
from portal.jobs.models import Job
from portal.review import services
from portal.review.forms import BulkForm, CorrectionForm, DecisionForm, FlagForm
from portal.review.models import ThemeModel, TagCorrection
from portal.review.sources import adapters_for

bp = Blueprint("review", __name__, url_prefix="/review")
ADMIN = (Role.district_admin,)


def _adapter_or_404(source: str):
    try:
        return services.adapter_for(source, current_user)
    except services.Forbidden:
        abort(403)
    except ServiceError:
        abort(404)


def _back_to_queue(source: str):
    return redirect(url_for("review.queue", source=source, page=request.args.get("page", type=int) or None))


@bp.get("/")
@roles_required(*ALL_STAFF)
def queue():
    adapters = adapters_for(current_user)
    source = request.args.get("source") or adapters[0].source.value
    adapter = _adapter_or_404(source)
    counts = {a.source: db.session.scalar(select(func.count()).select_from(a.pending(current_user).subquery()))
              for a in adapters}
    page = db.paginate(adapter.pending(current_user), per_page=current_app.config["PAGE_SIZE"], error_out=False)
    items = [adapter.item(record, current_user) for record in page.items]
    flags = services.open_flags(adapter.source, [i.record_id for i in items])
    for item in items:
        item.flag_reasons = flags.get(item.record_id, [])
    return render_template("review/queue.html", adapters=adapters, adapter=adapter, counts=counts, page=page,
                           items=items, form=BulkForm())


@bp.post("/<source>/bulk")
@roles_required(*ALL_STAFF)
def bulk(source: str):
    adapter = _adapter_or_404(source)
    form = BulkForm()
    if not form.validate_on_submit():
        abort(400)
    one = request.form.get("accept_one")
    ids = [one] if one else request.form.getlist("ids")
    apply_themes = request.form.get("mode") == "set" and not one
    try:
        n = services.bulk_confirm(current_user, adapter.source, ids,
                                  themes=(form.themes.data or []) if apply_themes else None,
                                  urgent=form.urgent.data if apply_themes else None)
        flash(f"已确认 {n} 条记录的主题。", "success")
    except ServiceError as exc:
        flash(exc.message, "error")
    except HTTPForbidden:
        flash("所选记录中有您无权修改的记录，未做任何修改。", "error")
    return _back_to_queue(adapter.source.value)


@bp.route("/<source>/<record_id>", methods=["GET", "POST"])
@roles_required(*ALL_STAFF)
def item(source: str, record_id: str):
    adapter = _adapter_or_404(source)
    record = adapter.get(record_id, current_user)
    if record is None:
        abort(404)
    form = CorrectionForm()
    if request.method == "GET":
        form.themes.data, form.urgent.data = list(record.themes or []), bool(record.urgent)
    elif form.validate_on_submit():
        try:
            services.confirm(current_user, adapter.source, record_id, form.themes.data, form.urgent.data)
            flash("已保存主题。", "success")
            return _back_to_queue(adapter.source.value)
        except ServiceError as exc:
            flash(exc.message, "error")
        except HTTPForbidden:
            abort(403)
    shown = adapter.item(record, current_user)
    shown.flag_reasons = services.open_flags(adapter.source, [shown.record_id]).get(shown.record_id, [])
    history = db.session.scalars(select(TagCorrection).where(
        TagCorrection.source == adapter.source, TagCorrection.record_id == shown.record_id)
        .order_by(TagCorrection.id.desc())).all()
    return render_template("review/item.html", adapter=adapter, item=shown, form=form, history=history,
                           flag_form=FlagForm(source=adapter.source.value, record_id=shown.record_id))


@bp.post("/flag")
@roles_required(*ALL_STAFF)
def flag():
    form = FlagForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return redirect(request.referrer or url_for("review.queue"))
    try:
        services.flag_for_review(current_user, form.source.data, form.record_id.data, form.reason.data)
        flash("已加入待复核队列。", "success")
    except ServiceError as exc:
        flash(exc.message, "error")
    return redirect(request.referrer or url_for("review.queue", source=form.source.data))


@bp.get("/corrections")
@roles_required(*ALL_STAFF)
def corrections():
    stmt = scoped(select(TagCorrection), TagCorrection).order_by(TagCorrection.id.desc())
    if request.args.get("changed") == "1":
        stmt = stmt.where(TagCorrection.changed.is_(True))
    page = db.paginate(stmt, per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("review/corrections.html", page=page, sources={s: s.label for s in SignalSource})


@bp.get("/corrections.csv")
@roles_required(*ADMIN)
def corrections_csv():
    """Corrections in the labelled-data exchange format (text,themes,urgent), e.g. for `python -m nlp train`."""
    rows = services.corrections_for_training()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["text", "themes", "urgent", "source", "record_id"])
    for c in rows:
        writer.writerow([c.text, "|".join(c.themes), int(c.urgent), c.source.value, c.record_id])
    record_event(current_user, "export", object_type="tag_corrections", note=f"人工核对记录导出：{len(rows)} 条")
    db.session.commit()
    return send_file(io.BytesIO(out.getvalue().encode("utf-8-sig")), mimetype="text/csv", as_attachment=True,
                     download_name="tag-corrections.csv")


# --- theme models (district_admin) -------------------------------------------------------------

@bp.get("/models")
@roles_required(*ADMIN)
def models():
    from portal.core.tagging import get_tagger

    try:
        current = get_tagger()
    except RuntimeError:
        current = None
    rows = db.session.scalars(select(ThemeModel).order_by(ThemeModel.id.desc())).all()
    n_corrections = services.count_corrected_texts()
    return render_template("review/models.html", current=current, active=services.active_model(), rows=rows,
                           running=services.running_retrain(), n_corrections=n_corrections, form=DecisionForm())


@bp.post("/models/retrain")
@roles_required(*ADMIN)
def retrain():
    if not DecisionForm().validate_on_submit():
        abort(400)
    try:
        job = services.start_retraining(current_user)
    except ServiceError as exc:
        flash(exc.message, "error")
        return redirect(url_for("review.models"))
    return redirect(url_for("review.retrain_job", job_id=job.id))


@bp.get("/models/jobs/<int:job_id>")
@roles_required(*ADMIN)
def retrain_job(job_id: int):
    job = db.session.get(Job, job_id)
    if job is None or job.kind != "retrain":
        abort(404)
    model = db.session.scalars(select(ThemeModel).where(ThemeModel.job_id == job.id)).first()
    if model is not None:
        return redirect(url_for("review.model", model_id=model.id))
    return render_template("review/retrain_job.html", job=job)


@bp.get("/models/<int:model_id>")
@roles_required(*ADMIN)
def model(model_id: int):
    row = db.session.get(ThemeModel, model_id) or abort(404)
    return render_template("review/model.html", model=row, form=DecisionForm())


@bp.post("/models/<int:model_id>/<any(promote, discard):decision>")
@roles_required(*ADMIN)
def decide(model_id: int, decision: str):
    row = db.session.get(ThemeModel, model_id) or abort(404)
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        if decision == "promote":
            services.promote(current_user, row, form.note.data or None)
            flash(f"已启用模型 {row.version}，新记录将由它识别主题。", "success")
        else:
            services.discard(current_user, row, form.note.data or None)
            flash(f"已放弃模型 {row.version}。", "success")
    except ServiceError as exc:
        flash(exc.message, "error")
    return redirect(url_for("review.model", model_id=row.id))


@bp.post("/models/default")
@roles_required(*ADMIN)
def use_default():
    if not DecisionForm().validate_on_submit():
        abort(400)
    try:
        services.retire_to_default(current_user)
        flash("已恢复使用内置默认模型。", "success")
    except ServiceError as exc:
        flash(exc.message, "error")
    return redirect(url_for("review.models"))
