"""The audit log's large Excel export as a background job: the same rows as the direct download."""
from __future__ import annotations

from dataclasses import asdict
from datetime import date

from flask import current_app

from portal.audit.services import EventFilters
from portal.extensions import db

EXPORT_TASK = "portal.audit.tasks:export_task"


def filters_to_payload(filters: EventFilters) -> dict:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in asdict(filters).items()}


def filters_from_payload(data: dict) -> EventFilters:
    values = dict(data)
    for name in ("date_from", "date_to"):
        if values.get(name):
            values[name] = date.fromisoformat(values[name])
    return EventFilters(**values)


def export_task(job) -> dict:
    from portal.accounts.models import Role
    from portal.audit import services
    from portal.audit.views import EXPORT_HEADER, _streets_by_id, export_note, export_row
    from portal.jobs.exports import count_rows, requesting_user, run_export

    actor = requesting_user(job, (Role.district_admin,))
    payload = job.payload
    stmt = services.event_query(filters_from_payload(payload["filters"])).limit(current_app.config["EXPORT_MAX_ROWS"])
    total = count_rows(stmt)
    streets = _streets_by_id()
    events = db.session.scalars(stmt.execution_options(yield_per=1000))

    def record(row_count: int) -> None:
        services.record_event(actor, "export", object_type="events",
                              note=f"{export_note(row_count, payload['filter_text'])}；后台任务 #{job.id}"[:1000])

    return run_export(job, sheet_title="审计日志", header=EXPORT_HEADER,
                      rows=(export_row(e, streets) for e in events), total=total,
                      download_name=f"审计日志-{date.today().isoformat()}.xlsx", record=record)
