"""Running long work in the background.

Embedded default: a thread in this process. With REDIS_URL set: an RQ queue, worked by
`flask --app wsgi jobs worker` (DESIGN.md §8). Either way the job row carries progress and the result.

A task writes its data in one transaction, so a worker killed mid-task leaves nothing half-written; the
job row names the process running it and, on PostgreSQL, carries a heartbeat, so a job whose worker died
is marked failed with a message for the user (reap_stale_jobs) instead of showing "running" forever.
"""
from __future__ import annotations

import importlib
import os
import socket
import threading
import time
import traceback
from datetime import timedelta
from pathlib import Path
from typing import Any, Optional

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

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
        connection.execute(update(Job).where(Job.id == job_id).values(progress=done, total=total,
                                                                      heartbeat_at=utcnow()))


# --- which process runs a job, and is it still there ------------------------------------------------

INTERRUPTED = {
    "tickets.import": "后台任务中断，未导入任何记录，请重新提交。",
    "retrain": "后台任务中断，未生成新模型，请重新提交。",
    "tickets.export": "后台任务中断，未生成导出文件，请重新导出。",
    "audit.export": "后台任务中断，未生成导出文件，请重新导出。",
    "surveys.export": "后台任务中断，未生成导出文件，请重新导出。",
    "areas.roster.export": "后台任务中断，未生成导出文件，请重新导出。",
}
INTERRUPTED_DEFAULT = "后台任务中断，未写入任何数据，请重新提交。"


def _start_time(pid: int) -> Optional[str]:
    """The process's start time (clock ticks since boot), '?' where /proc is missing; None when it is gone.

    With the pid it identifies the process: a pid reused after a restart (pid 1 in a container) has
    another start time. A zombie counts as gone.
    """
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return None
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return "?"
    return None if fields[0] in ("Z", "X") else fields[19]


def process_identity(pid: Optional[int] = None) -> str:
    pid = pid or os.getpid()
    return f"{socket.gethostname()}:{pid}:{_start_time(pid)}"


def worker_is_gone(worker: Optional[str]) -> bool:
    """True only when the process is known to be dead: same host, and that pid is not the same process."""
    if not worker:
        return False
    parts = worker.rsplit(":", 2)
    if len(parts) != 3:
        return False
    host, pid, started = parts
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another host: only the heartbeat can tell
    return _start_time(int(pid)) != started


def _is_stale(job: Job, now, stale_after: timedelta, heartbeats: bool) -> bool:
    if worker_is_gone(job.worker):
        return True
    last = job.heartbeat_at or job.started_at
    return heartbeats and last is not None and now - last > stale_after


def fail_interrupted(job_id: int, message: Optional[str] = None, *, status: JobStatus = JobStatus.running) -> bool:
    """Marks a job failed (its worker died, or the queue lost it). Only a job still in `status` is touched."""
    job = db.session.get(Job, job_id)
    if job is None or job.status != status:
        return False
    text = message or INTERRUPTED.get(job.kind, INTERRUPTED_DEFAULT)
    kind, worker, upload = job.kind, job.worker, (job.payload or {}).get("path")
    done = db.session.execute(update(Job).where(Job.id == job_id, Job.status == status).values(
        status=JobStatus.failed, message=text, finished_at=utcnow())).rowcount
    db.session.commit()
    db.session.expire_all()
    if done:
        _live_progress.pop(job_id, None)
        _remove_upload(upload)
        if kind.endswith(".export"):  # a half-written export file is not left behind
            from portal.jobs.exports import remove_files_of

            remove_files_of(job_id)
        current_app.logger.warning("job %s (%s) interrupted: worker %s gone", job_id, kind, worker)
    return bool(done)


def _remove_upload(path: Optional[str]) -> None:
    # The uploaded file (callers' names and phones) is not kept once its job cannot run; the user uploads again.
    if path and Path(path).resolve().parent == (Path(current_app.instance_path) / "uploads").resolve():
        Path(path).unlink(missing_ok=True)


def reap_stale_jobs(job_ids: Optional[list[int]] = None) -> list[int]:
    """Fails running jobs whose worker process is gone or whose heartbeat stopped; returns their ids."""
    config = current_app.config
    heartbeats = db.engine.dialect.name != "sqlite"
    query = select(Job).where(Job.status == JobStatus.running)
    if job_ids is not None:
        query = query.where(Job.id.in_(job_ids))
    now, stale_after = utcnow(), timedelta(seconds=config["JOB_STALE_SECONDS"])
    stale = [job.id for job in db.session.scalars(query) if _is_stale(job, now, stale_after, heartbeats)]
    failed = [job_id for job_id in stale if fail_interrupted(job_id)]
    return failed + [job_id for job_id in _lost_from_queue(job_ids) if fail_interrupted(
        job_id, LOST_FROM_QUEUE, status=JobStatus.queued)]


def queue_id_of(job: Job) -> str:
    """The RQ job id of a job: its row id and creation instant, so two databases sharing one Redis (a test
    run beside a benchmark) never take each other's ids."""
    return f"{QUEUE_NAME}-{job.id}-{job.created_at.strftime('%Y%m%d%H%M%S%f')}"


LOST_FROM_QUEUE = "后台任务已从队列中丢失（队列服务重启或被清空），未写入任何数据，请重新提交。"


def _lost_from_queue(job_ids: Optional[list[int]] = None) -> list[int]:
    """Queued jobs (older than JOB_QUEUED_GRACE_SECONDS) whose RQ job Redis no longer has: no worker will
    ever run them, so without this they would show 排队中 forever. Redis away: nothing can be told."""
    redis_url = current_app.config.get("REDIS_URL")
    if not redis_url:
        return []
    from redis import Redis
    from redis.exceptions import RedisError
    from rq.exceptions import NoSuchJobError
    from rq.job import Job as QueueJob

    grace = timedelta(seconds=current_app.config["JOB_QUEUED_GRACE_SECONDS"])
    query = select(Job).where(Job.status == JobStatus.queued, Job.created_at < utcnow() - grace)
    if job_ids is not None:
        query = query.where(Job.id.in_(job_ids))
    connection = Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=2)  # never hold a request up
    lost = []
    for job in db.session.scalars(query):
        try:
            QueueJob.fetch(queue_id_of(job), connection=connection)
        except NoSuchJobError:
            lost.append(job.id)
        except RedisError:
            return []
    return lost


NO_WORKER = ("后台任务服务没有运行：任务已在队列中等候，但没有后台进程（worker）来执行它。"
             "请联系系统管理员启动后台任务服务（make worker）；启动后任务会自动开始，无需重新提交。")


def no_worker_notice(job: Job) -> Optional[str]:
    """NO_WORKER for a job queued longer than JOB_QUEUED_GRACE_SECONDS whose RQ job is still in Redis while
    no RQ worker is registered on the queue; otherwise None. The job is not failed: a worker started
    later runs it. In-process mode (no Redis, or JOBS_INLINE) has no worker to miss; Redis away: None."""
    config = current_app.config
    redis_url = config.get("REDIS_URL")
    if job.status != JobStatus.queued or not redis_url or config.get("JOBS_INLINE"):
        return None
    if job.created_at >= utcnow() - timedelta(seconds=config["JOB_QUEUED_GRACE_SECONDS"]):
        return None
    from redis import Redis
    from redis.exceptions import RedisError
    from rq import Queue, Worker
    from rq.job import Job as QueueJob

    connection = Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=2)  # never hold a request up
    try:
        if not connection.exists(QueueJob.key_for(queue_id_of(job))):
            return None  # lost from the queue: the reaper fails it with its own message
        # Worker.all skips workers whose key expired (killed without unregistering), unlike Worker.count
        if Worker.all(queue=Queue(QUEUE_NAME, connection=connection)):
            return None
    except RedisError:
        return None
    finally:
        connection.close()  # the status is polled every second: no socket is left behind per poll
    return NO_WORKER


_last_reap = [float("-inf")]


def reap_now_and_then() -> None:
    """Called before requests: at most every JOB_REAP_INTERVAL seconds per process; never fails a request."""
    if time.monotonic() - _last_reap[0] < current_app.config["JOB_REAP_INTERVAL"]:
        return
    _last_reap[0] = time.monotonic()
    try:
        reap_stale_jobs()
        from portal.jobs.exports import clean_exports

        clean_exports()  # export files past EXPORT_KEEP_HOURS are deleted even if nobody opens their page
    except SQLAlchemyError:  # the database is away: the request itself will say so
        db.session.rollback()
    except OSError as exc:
        current_app.logger.warning("cleaning export files failed: %s", exc)


def _heartbeat(engine, job_id: int, interval: float, stop: threading.Event) -> None:
    while not stop.wait(interval):
        try:
            with engine.begin() as connection:
                connection.execute(update(Job).where(Job.id == job_id, Job.status == JobStatus.running)
                                   .values(heartbeat_at=utcnow()))
        except SQLAlchemyError:
            pass  # the database is briefly away; the next beat tries again


def _start_heartbeat(job_id: int) -> threading.Event:
    stop = threading.Event()
    # SQLite has one writer and the task's transaction holds it; there jobs run in the web process itself.
    if db.engine.dialect.name != "sqlite":
        threading.Thread(target=_heartbeat, name=f"job-{job_id}-heartbeat", daemon=True, args=(
            db.engine, job_id, current_app.config["JOB_HEARTBEAT_SECONDS"], stop)).start()
    return stop


def progress_of(job: Job) -> tuple[int, int]:
    return _live_progress.get(job.id, (job.progress, job.total))


def run_job(job_id: int, task_path: str) -> None:
    """Runs a task `module:function(job)` in the current app context and records how it ended."""
    job = db.session.get(Job, job_id)
    if job is None or job.status not in (JobStatus.queued, JobStatus.running):
        return
    job.status, job.started_at = JobStatus.running, utcnow()
    job.worker, job.heartbeat_at = process_identity(), job.started_at
    db.session.commit()
    module_name, function_name = task_path.split(":")
    task = getattr(importlib.import_module(module_name), function_name)
    stop_heartbeat = _start_heartbeat(job_id)
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
    finally:
        stop_heartbeat.set()


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
            retry=None, description=f"{job.kind} #{job.id}", job_id=queue_id_of(job))
        return

    def work():
        with app.app_context():
            run_job(job.id, task_path)
            db.session.remove()

    threading.Thread(target=work, name=f"job-{job.id}", daemon=True).start()
