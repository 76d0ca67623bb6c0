from flask import Blueprint, abort, jsonify
from flask_login import current_user, login_required

from portal.extensions import db
from portal.jobs.models import Job
from portal.jobs.services import progress_of, reap_now_and_then, reap_stale_jobs

bp = Blueprint("jobs", __name__, url_prefix="/jobs")

# Every page may show a job (import progress, "retraining in progress"): one whose worker died is
# failed here, at most every JOB_REAP_INTERVAL seconds per process, so none stays "running" forever.
bp.before_app_request(reap_now_and_then)


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
    return jsonify(id=job.id, kind=job.kind, status=job.status.value, status_label=job.status.label,
                   progress=done, total=total, percent=percent, message=job.message,
                   result=job.result)
