"""Background ticket jobs: the import (importer.import_tickets, keeping its report) and the large Excel
export (the same rows as the direct download, see portal.jobs.exports)."""
from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

from flask import current_app

from portal.accounts.models import User
from portal.extensions import db
from portal.jobs.services import JobFailure, create_job, enqueue, set_progress
from portal.tickets.importer import ImportFailed, MappingNeeded, import_tickets

TASK = "portal.tickets.tasks:import_task"


def upload_dir() -> Path:
    path = Path(current_app.instance_path) / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def start_import(actor, filename: str, data: bytes, skip_invalid: bool, mapping: dict | None = None,
                 stored_path: str | None = None):
    if stored_path is None:
        suffix = ".xlsx" if filename.lower().endswith(".xlsx") else ".csv"
        stored = upload_dir() / f"tickets-{uuid.uuid4().hex}{suffix}"
        stored.write_bytes(data)
        stored_path = str(stored)
    job = create_job(actor, "tickets.import", {"path": stored_path, "filename": filename,
                                               "skip_invalid": skip_invalid, "mapping": mapping or {},
                                               "actor_id": actor.id})
    enqueue(job, TASK)
    return job


def import_task(job) -> dict:
    payload = job.payload
    actor = db.session.get(User, payload["actor_id"])
    path = Path(payload["path"])
    if not path.exists():
        raise JobFailure("上传的文件已不存在，请重新上传。")
    try:
        report = import_tickets(actor, payload["filename"], path.read_bytes(), mapping=payload.get("mapping"),
                                skip_invalid=payload.get("skip_invalid", False),
                                max_rows=current_app.config["TICKET_IMPORT_MAX_ROWS"],
                                progress=lambda done, total: set_progress(job.id, done, total))
    except MappingNeeded as exc:  # keep the file: the operator maps the headers and retries
        raise JobFailure(exc.message, {"mapping_needed": True, "missing": exc.missing,
                                       "unknown_headers": exc.unknown_headers, "headers": exc.headers})
    except ImportFailed as exc:
        path.unlink(missing_ok=True)
        raise JobFailure(exc.message, exc.report.as_dict())
    path.unlink(missing_ok=True)
    return report.as_dict()


# --- the Excel export ------------------------------------------------------------------------------

EXPORT_HEADER = ["工单编号", "受理时间", "来电人", "联系电话", "诉求地址", "诉求标题", "诉求内容", "诉求类型",
                 "主题", "紧急", "小区", "承办街道", "办理状态", "截止时间", "办结时间", "满意度"]


def export_row(user, t) -> list:
    """One ticket as the export shows it to `user`: the direct download and the export job both use this."""
    from nlp.themes import theme_name

    from portal.core.masking import caller_name_for, caller_phone_for, text_for
    from portal.core.workdays import to_local

    return [t.number, to_local(t.received_at).strftime("%Y-%m-%d %H:%M:%S"),
            caller_name_for(user, t.caller_name), caller_phone_for(user, t.caller_phone),
            t.address, t.title, text_for(user, t.content), t.request_type or "",
            "、".join(theme_name(c) for c in t.themes), "是" if t.urgent else "",
            t.estate.name if t.estate else "", t.street.name if t.street else "", t.status.label,
            to_local(t.due_at).strftime("%Y-%m-%d %H:%M") if t.due_at else "",
            to_local(t.resolved_at).strftime("%Y-%m-%d %H:%M") if t.resolved_at else "",
            t.satisfaction or ""]


def export_note(row_count: int, query_string: str) -> str:
    return f"工单导出: {row_count} 行; 筛选 {query_string[:500]}"


def export_task(job) -> dict:
    from sqlalchemy.orm import joinedload

    from portal.audit.services import record_event
    from portal.core.scoping import ALL_STAFF
    from portal.jobs.exports import count_rows, requesting_user, run_export
    from portal.tickets.models import Ticket
    from portal.tickets.queries import TicketFilters, ticket_query

    actor = requesting_user(job, ALL_STAFF)
    payload = job.payload
    stmt = ticket_query(TicketFilters.from_args(payload["args"]), actor).limit(current_app.config["EXPORT_MAX_ROWS"])
    total = count_rows(stmt)
    # Streamed in batches; estates and streets come with their tickets instead of a query per row.
    tickets = db.session.scalars(stmt.options(joinedload(Ticket.estate), joinedload(Ticket.street))
                                 .execution_options(yield_per=1000))

    def record(row_count: int) -> None:
        record_event(actor, "export", object_type="tickets", street_id=actor.street_id,
                     note=f"{export_note(row_count, payload['query'])}; 后台任务 #{job.id}")

    return run_export(job, sheet_title="工单", header=EXPORT_HEADER, rows=(export_row(actor, t) for t in tickets),
                      total=total, download_name=f"工单-{date.today().isoformat()}.xlsx", record=record)
