"""Large Excel exports as background jobs (tickets, audit log).

Over EXPORT_INLINE_MAX_ROWS rows the export route queues a job instead of answering with the file. The
job re-reads the rows as the user who asked (same scope, same masking, same row builder as the direct
download), writes instance/exports/<job id>-<random>.xlsx (mode 0600) and records the export event. Only
that user, or a district_admin, may download it; files are deleted EXPORT_KEEP_HOURS after they were made.
"""
from __future__ import annotations

import os
import re
import secrets
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable, Iterable, Optional

from flask import current_app
from openpyxl import Workbook
from sqlalchemy import func, select

from portal.core.time import utcnow
from portal.extensions import db
from portal.jobs.models import Job, JobStatus
from portal.jobs.services import JobFailure, create_job, enqueue, set_progress

TASKS = {
    "tickets.export": "portal.tickets.tasks:export_task",
    "audit.export": "portal.audit.tasks:export_task",
}
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FAILED = "导出失败：生成文件时出错，未生成文件。请稍后重试或联系管理员。"
ACCOUNT_GONE = "发起导出的账号已停用或不存在，未生成文件。"
SCOPE_CHANGED = "发起导出的账号权限已变更，未生成文件，请重新导出。"
_FILE_NAME = re.compile(r"^(\d+)-[0-9a-f]{16}\.xlsx$")


def is_export(job: Job) -> bool:
    return job.kind in TASKS


def export_dir() -> Path:
    path = Path(current_app.instance_path) / "exports"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def count_rows(stmt) -> int:
    """Rows the statement would return (its LIMIT included), counted in the database."""
    return db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))


def over_inline_limit(row_count: int) -> bool:
    return row_count > current_app.config["EXPORT_INLINE_MAX_ROWS"]


def scope_of(user) -> dict:
    return {"role": user.role.value, "street_id": user.street_id}


def start_export(actor, kind: str, payload: dict) -> Job:
    """Queues an export; the same export already waiting or running for this user is returned instead."""
    payload = {**payload, "actor_id": actor.id, "scope": scope_of(actor)}
    waiting = db.session.scalars(select(Job).where(
        Job.kind == kind, Job.created_by_id == actor.id, Job.status.in_([JobStatus.queued, JobStatus.running]))).all()
    for job in waiting:
        if job.payload == payload:
            return job
    job = create_job(actor, kind, payload, street_id=actor.street_id)
    enqueue(job, TASKS[kind])
    return job


def requesting_user(job: Job, roles):
    """The user who asked, as they are now: the rows are read with their scope and masking."""
    from portal.accounts.models import User

    user = db.session.get(User, (job.payload or {}).get("actor_id"))
    if user is None or not user.active:
        raise JobFailure(ACCOUNT_GONE)
    if user.role not in roles or scope_of(user) != job.payload.get("scope"):
        raise JobFailure(SCOPE_CHANGED)
    return user


def _write(job: Job, sheet_title: str, header: list, rows: Iterable[list], total: int) -> tuple[str, int]:
    every = max(1, int(current_app.config["EXPORT_PROGRESS_EVERY"]))
    name = f"{job.id}-{secrets.token_hex(8)}.xlsx"
    path = export_dir() / name
    # 0600 from the start: the file holds callers' data (masked or not, by the requester's role)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    written, sheet = 0, None
    try:
        with os.fdopen(descriptor, "wb") as out:
            workbook = Workbook(write_only=True)
            sheet = workbook.create_sheet(sheet_title)
            sheet.append(header)
            set_progress(job.id, 0, total)
            for row in rows:
                sheet.append(row)
                written += 1
                if written % every == 0:
                    set_progress(job.id, written, max(total, written))
            workbook.save(out)
    except BaseException:
        path.unlink(missing_ok=True)  # no partial file is left for anyone to download
        _discard(sheet)
        raise
    set_progress(job.id, written, max(total, written))
    return name, written


def _discard(sheet) -> None:
    """A write-only sheet that failed half-way: openpyxl streamed its rows (personal data) into a temp file
    that it would only remove when the process exits, so it is closed and removed now."""
    writer = getattr(sheet, "_writer", None)
    for stream in (getattr(sheet, "_rows", None), getattr(writer, "xf", None)):  # inner first
        if stream is not None:
            try:
                stream.close()
            except Exception:  # noqa: BLE001 - the sheet is being thrown away
                pass
    if writer is not None and isinstance(writer.out, str):
        try:
            writer.cleanup()
        except (OSError, ValueError):
            pass


def run_export(job: Job, *, sheet_title: str, header: list, rows: Iterable[list], total: int,
               download_name: str, record: Callable[[int], None]) -> dict:
    """Writes the file, then `record(rows)` adds the export event, committed here. Any failure: no file."""
    name = None
    try:
        name, written = _write(job, sheet_title, header, rows, total)
        record(written)
        db.session.commit()
    except JobFailure:
        db.session.rollback()
        _unlink(name)
        raise
    except Exception as exc:
        db.session.rollback()
        _unlink(name)
        current_app.logger.exception("export job %s failed", job.id)
        raise JobFailure(FAILED) from exc
    return {"file": name, "download_name": download_name, "rows": written,
            "size": (export_dir() / name).stat().st_size}


def _unlink(name: Optional[str]) -> None:
    if name:
        (export_dir() / name).unlink(missing_ok=True)


# --- download and expiry ---------------------------------------------------------------------------

def keep_for() -> timedelta:
    return timedelta(hours=current_app.config["EXPORT_KEEP_HOURS"])


def expires_at(job: Job) -> Optional[datetime]:
    return job.finished_at + keep_for() if job.finished_at else None


def file_of(job: Job) -> Optional[Path]:
    """The finished export's file, or None when there is none (not done, failed, expired, deleted)."""
    name = (job.result or {}).get("file") or ""
    match = _FILE_NAME.match(name)
    if job.status != JobStatus.done or not match or int(match.group(1)) != job.id:
        return None
    path = export_dir() / name
    expiry = expires_at(job)
    if expiry is None or expiry <= utcnow():
        path.unlink(missing_ok=True)
        return None
    return path if path.is_file() else None


def was_made(job: Job) -> bool:
    """The job finished with a file (which may since have expired)."""
    return job.status == JobStatus.done and bool((job.result or {}).get("file"))


def remove_files_of(job_id: int) -> None:
    """A job that was interrupted may have left a partial file."""
    directory = Path(current_app.instance_path) / "exports"
    for path in directory.glob(f"{int(job_id)}-*.xlsx"):
        path.unlink(missing_ok=True)


def clean_exports(now: Optional[datetime] = None) -> list[str]:
    """Deletes export files older than EXPORT_KEEP_HOURS, and any whose job failed, is gone or kept another.

    A file being written (its job queued or running) is left alone until it too is past the age.
    Returns the names deleted.
    """
    directory = Path(current_app.instance_path) / "exports"
    if not directory.is_dir():
        return []
    cutoff = (now or datetime.now()).timestamp() - keep_for().total_seconds()
    files = [(path, _FILE_NAME.match(path.name)) for path in directory.iterdir() if path.is_file()]
    ids = {int(match.group(1)) for _, match in files if match}
    jobs = {job.id: job for job in db.session.scalars(select(Job).where(Job.id.in_(ids)))} if ids else {}
    deleted = []
    for path, match in files:
        try:
            old = path.stat().st_mtime < cutoff
        except FileNotFoundError:
            continue
        job = jobs.get(int(match.group(1))) if match else None
        if match and job is not None and job.status in (JobStatus.queued, JobStatus.running) and not old:
            continue
        kept = (job is not None and job.status == JobStatus.done and (job.result or {}).get("file") == path.name
                and not old)
        if not kept:
            path.unlink(missing_ok=True)
            deleted.append(path.name)
    return deleted
