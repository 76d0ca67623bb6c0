"""Large Excel exports as background jobs (tickets, audit log, survey results, household rosters).

Over EXPORT_INLINE_MAX_ROWS rows the export route queues a job instead of answering with the file. The
job re-reads the rows as the user who asked (same scope, same masking, same row builder as the direct
download), writes instance/exports/<job id>-<random>.xlsx (mode 0600) and records the export event. Only
that user, or a district_admin, may download it; files are deleted EXPORT_KEEP_HOURS after they were made.
"""
from __future__ import annotations

import io
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
    "surveys.export": "portal.surveys.tasks:export_task",
    "areas.roster.export": "portal.areas.tasks:roster_export_task",
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


def scoped_or_fail(model, object_id, user, what: str):
    """The job's object as the requester may see it now; gone or out of their scope: the job fails."""
    from portal.core.scoping import scoped

    found = db.session.execute(scoped(select(model).where(model.id == object_id), model, user)).scalar_one_or_none()
    if found is None:
        raise JobFailure(f"要导出的{what}已不存在或不在发起人的权限范围内，未生成文件。")
    return found


def requesting_user(job: Job, roles):
    """The user who asked, as they are now: the rows are read with their scope and masking."""
    from portal.accounts.models import User

    user = db.session.get(User, (job.payload or {}).get("actor_id"))
    if user is None or not user.active:
        raise JobFailure(ACCOUNT_GONE)
    if user.role not in roles or scope_of(user) != job.payload.get("scope"):
        raise JobFailure(SCOPE_CHANGED)
    return user


# A writer builds the workbook: it creates its sheets in the write-only workbook it is given, appends
# their rows and calls row_written() after each data row (the job's progress counts those).
Writer = Callable[[Workbook, Callable[[], None]], None]


def one_sheet(sheet_title: str, header: list, rows: Iterable[list]) -> Writer:
    """The writer of a one-sheet export: a header, then the rows."""
    def write(workbook: Workbook, row_written: Callable[[], None]) -> None:
        sheet = workbook.create_sheet(sheet_title)
        sheet.append(header)
        for row in rows:
            sheet.append(row)
            row_written()
    return write


class _Progress:
    """Counts the rows a writer reports; the job's row hears of it every EXPORT_PROGRESS_EVERY rows."""

    def __init__(self, job_id: int, total: int):
        self.job_id, self.total, self.written = job_id, total, 0
        self.every = max(1, int(current_app.config["EXPORT_PROGRESS_EVERY"]))
        set_progress(job_id, 0, total)

    def __call__(self) -> None:
        self.written += 1
        if self.written % self.every == 0:
            self.report()

    def report(self) -> None:
        set_progress(self.job_id, self.written, max(self.total, self.written))


def _write(job: Job, write: Writer, total: int) -> tuple[str, int]:
    name = f"{job.id}-{secrets.token_hex(8)}.xlsx"
    path = export_dir() / name
    # 0600 from the start: the file holds callers' data (masked or not, by the requester's role)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    workbook = None
    try:
        with os.fdopen(descriptor, "wb") as out:
            workbook = Workbook(write_only=True)
            progress = _Progress(job.id, total)
            write(workbook, progress)
            workbook.save(out)
    except BaseException:
        path.unlink(missing_ok=True)  # no partial file is left for anyone to download
        discard(workbook)
        raise
    progress.report()
    return name, progress.written


def in_memory(write: Writer) -> io.BytesIO:
    """The same workbook for a direct download: built by the same writer, into memory."""
    workbook = Workbook(write_only=True)
    buffer = io.BytesIO()
    try:
        write(workbook, lambda: None)
        workbook.save(buffer)
    except BaseException:
        discard(workbook)
        raise
    buffer.seek(0)
    return buffer


def discard(workbook: Optional[Workbook]) -> None:
    """A write-only workbook that failed half-way: openpyxl streamed each sheet's rows (personal data) into
    a temp file that it would only remove when the process exits, so they are closed and removed now."""
    for sheet in list(getattr(workbook, "_sheets", None) or []):
        _discard(sheet)


def _discard(sheet) -> None:
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


def run_export(job: Job, *, total: int, download_name: str, record: Callable[[int], None],
               write: Optional[Writer] = None, sheet_title: str = "", header: Optional[list] = None,
               rows: Optional[Iterable[list]] = None) -> dict:
    """Writes the file with `write` (or one sheet of `header` and `rows`), then `record(rows)` adds the
    export event, committed here. Any failure: no file."""
    write = write or one_sheet(sheet_title, header or [], rows or ())
    name = None
    try:
        name, written = _write(job, write, total)
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
