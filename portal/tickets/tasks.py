"""Background ticket import: the job runs importer.import_tickets and keeps its report."""
from __future__ import annotations

import uuid
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
