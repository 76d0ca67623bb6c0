from typing import Optional

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, send_file, url_for
from flask_login import current_user, login_required

from portal.audit.services import record_event
from portal.core.workdays import to_local
from portal.extensions import db
from portal.jobs import exports
from portal.jobs.models import Job, JobStatus
from portal.jobs.services import no_worker_notice, progress_of, reap_now_and_then, reap_stale_jobs

bp = Blueprint("jobs", __name__, url_prefix="/jobs")

# Every page may show a job (import progress, "retraining in progress"): one whose worker died is
# failed here, at most every JOB_REAP_INTERVAL seconds per process, so none stays "running" forever.
bp.before_app_request(reap_now_and_then)

# export kind -> (title, the page it was exported from, what the back link calls that page)
EXPORT_PAGES = {"tickets.export": ("工单导出", "tickets.index", "列表"),
                "audit.export": ("审计日志导出", "audit.index", "列表"),
                "surveys.export": ("意愿调查结果导出", "surveys.results", "调查结果"),
                "areas.roster.export": ("住户名册导出", "areas.estate", "小区页面")}


@bp.app_template_global("job_notice")
def job_notice(job: Job) -> Optional[str]:
    """What a job's progress page says besides its status: that no worker is running (import, retraining
    and export pages all show it)."""
    return no_worker_notice(job)


@bp.get("/<int:job_id>.json")
@login_required
def status(job_id: int):
    job = db.session.get(Job, job_id)
    if job is None or (job.created_by_id != current_user.id and not current_user.is_admin):
        abort(404)
    if reap_stale_jobs([job.id]):  # the page polling this learns at once that the worker died
        job = db.session.get(Job, job_id)
    done, total = progress_of(job)
    percent = int(100 * done / total) if total else job.percent
    notice = no_worker_notice(job)
    return jsonify(id=job.id, kind=job.kind, status=job.status.value, status_label=job.status.label,
                   progress=done, total=total, percent=percent, message=job.message,
                   result=job.result, no_worker=notice is not None, notice=notice)


def _export_job(job_id: int) -> Job:
    """An export job of the current user (any user's for district_admin); 404 for anything else."""
    job = db.session.get(Job, job_id)
    if job is None or not exports.is_export(job):
        abort(404)
    if job.created_by_id != current_user.id and not current_user.is_admin:
        abort(404)
    if not current_user.is_admin and exports.scope_of(current_user) != (job.payload or {}).get("scope"):
        abort(404)  # the user's role or street changed since: the file is not theirs to see any more
    return job


def _render_export(job: Job, status_code: int = 200):
    title, list_endpoint, back_label = EXPORT_PAGES[job.kind]
    done, total = progress_of(job)
    available = exports.file_of(job) is not None
    expires = exports.expires_at(job) if available else None
    percent = int(100 * done / total) if total else job.percent
    return render_template("jobs/export.html", job=job, title=title, done=done, total=total, percent=percent,
                           available=available, expired=exports.was_made(job) and not available,
                           expires_at=to_local(expires) if expires else None,
                           keep_hours=current_app.config["EXPORT_KEEP_HOURS"], back_label=back_label,
                           back_url=url_for(list_endpoint, **_filter_args(job))), status_code


def _filter_args(job: Job) -> dict:
    # url_for treats "_external", "_scheme"... as its own options: those never come from a query string
    return {k: v for k, v in ((job.payload or {}).get("args") or {}).items() if not k.startswith("_")}


@bp.get("/<int:job_id>")
@login_required
def export_page(job_id: int):
    job = _export_job(job_id)
    if reap_stale_jobs([job.id]):
        job = db.session.get(Job, job_id)
    return _render_export(job)


@bp.get("/<int:job_id>/download")
@login_required
def download(job_id: int):
    job = _export_job(job_id)
    exports.clean_exports()
    if job.status != JobStatus.done:
        flash("文件尚未生成，请等待导出完成。", "warning")
        return redirect(url_for("jobs.export_page", job_id=job.id))
    path = exports.file_of(job)
    if path is None:
        return _render_export(job, 410)  # the page says the file expired and how to export again
    result = job.result
    record_event(current_user, "export.download", object_type="jobs", object_id=job.id,
                 street_id=current_user.street_id,
                 note=f"下载导出文件：{EXPORT_PAGES[job.kind][0]} {result.get('rows')} 行（后台任务 #{job.id}）")
    db.session.commit()
    response = send_file(path, as_attachment=True, download_name=result.get("download_name") or path.name,
                         mimetype=exports.XLSX_MIMETYPE, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"  # personal data: not kept by caches
    return response
