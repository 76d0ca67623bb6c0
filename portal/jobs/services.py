"""Running long work in the background.

Embedded default: a thread in this process. With REDIS_URL set: an RQ queue, worked by
`flask --app wsgi jobs worker` (DESIGN.md §8). Either way the job row carries progress and the result.
"""
from __future__ import annotations

import importlib
import threading
import traceback
from typing import Any, Optional

from flask import current_app
from sqlalchemy import update

from portal.core.time import utcnow
from portal.extensions import db
from portal.jobs.models import Job, JobStatus

QUEUE_NAME = "minsheng"

# Progress of jobs running in this process. SQLite allows one writer, and a task's own write transaction
# holds it, so there progress lives here (embedded mode runs its jobs in-process anyway).
_live_progress: dict[int, tuple[int, int]] = {}


class JobFailure(Exception):
    """Raised by a task to fail its job with a message (and details) for the user."""

    def __init__(self, message: str, result: Optional[dict] = None):
        super().__init__(message)
        self.result = result


def create_job(actor, kind: str, payload: dict[str, Any], street_id: Optional[int] = None) -> Job:
    job = Job(kind=kind, payload=payload, created_by_id=getattr(actor, "id", None), street_id=street_id)
    db.session.add(job)
    db.session.commit()
    return job


def set_progress(job_id: int, done: int, total: int) -> None:
    """Written in its own short transaction so the page sees it while the task's transaction is open."""
    _live_progress[job_id] = (done, total)
    if db.engine.dialect.name == "sqlite":
        return
    with db.engine.begin() as connection:
        connection.execute(update(Job).where(Job.id == job_id).values(progress=done, total=total))


def progress_of(job: Job) -> tuple[int, int]:
    return _live_progress.get(job.id, (job.progress, job.total))


def run_job(job_id: int, task_path: str) -> None:
    """Runs a task `module:function(job)` in the current app context and records how it ended."""
    job = db.session.get(Job, job_id)
    if job is None or job.status not in (JobStatus.queued, JobStatus.running):
        return
    job.status, job.started_at = JobStatus.running, utcnow()
    db.session.commit()
    module_name, function_name = task_path.split(":")
    task = getattr(importlib.import_module(module_name), function_name)
    try:
        result = task(job)
    except JobFailure as exc:
        db.session.rollback()
        _finish(job_id, JobStatus.failed, str(exc), exc.result)
    except Exception:
        db.session.rollback()
        current_app.logger.error("job %s failed:\n%s", job_id, traceback.format_exc())
        _finish(job_id, JobStatus.failed, "任务执行出错，未写入任何数据。请稍后重试或联系管理员。", None)
    else:
        _finish(job_id, JobStatus.done, None, result)


def _finish(job_id: int, status: JobStatus, message: Optional[str], result: Optional[dict]) -> None:
    job = db.session.get(Job, job_id)
    job.progress, job.total = _live_progress.pop(job_id, (job.progress, job.total))
    job.status, job.message, job.result, job.finished_at = status, message, result, utcnow()
    db.session.commit()


def enqueue(job: Job, task_path: str) -> None:
    app = current_app._get_current_object()
    redis_url = app.config.get("REDIS_URL")
    if app.config.get("JOBS_INLINE"):  # tests: run now, in this thread
        run_job(job.id, task_path)
        return
    if redis_url:
        from redis import Redis
        from rq import Queue

        Queue(QUEUE_NAME, connection=Redis.from_url(redis_url)).enqueue(
            "portal.jobs.worker.run_in_app", job.id, task_path, job_timeout=3600,
            retry=None, description=f"{job.kind} #{job.id}")
        return

    def work():
        with app.app_context():
            run_job(job.id, task_path)
            db.session.remove()

    threading.Thread(target=work, name=f"job-{job.id}", daemon=True).start()
