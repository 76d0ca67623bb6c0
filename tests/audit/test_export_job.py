"""The audit log's export over EXPORT_INLINE_MAX_ROWS runs as a job: the same cells as the direct
download for the same filters, district_admin only, logged when it finishes and on each download."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from portal.accounts.models import Role
from portal.audit.models import Event
from portal.audit.services import record_event
from portal.core.time import utcnow
from portal.extensions import db
from portal.jobs import exports
from portal.jobs.models import JobStatus
from portal.jobs.services import run_job
from tests.helpers import login, make_street, make_user
from tests.jobs.support import FreshUserClient, export_files, job_of, jobs, xlsx_rows


@pytest.fixture
def app_config():
    return {"EXPORT_INLINE_MAX_ROWS": 3, "EXPORT_PROGRESS_EVERY": 2, "JOBS_INLINE": True}


@pytest.fixture
def log(app):
    app.test_client_class = FreshUserClient
    heping = make_street("和平街道")
    admin = make_user(Role.district_admin, username="admin")
    staff = make_user(Role.street_staff, street=heping, username="heping")
    now = utcnow()
    for i in range(6):
        event = record_event(None, "login.failed", object_type="users", note=f"=HYPERLINK(\"x{i}\") 登录失败")
        event.created_at = now - timedelta(days=i)
    for i in range(2):
        record_event(staff, "ticket.accept", object_type="tickets", object_id=i + 1, street_id=heping.id,
                     before={"status": "dispatched"}, after={"status": "in_progress"})
    db.session.commit()
    return {"admin": admin, "staff": staff, "heping": heping, "now": now}


def inline_rows(app, client, query: str) -> list[tuple]:
    app.config["EXPORT_INLINE_MAX_ROWS"] = 10_000
    try:
        response = client.get("/audit/export.xlsx?" + query)
        assert response.status_code == 200
        return xlsx_rows(response.data)
    finally:
        app.config["EXPORT_INLINE_MAX_ROWS"] = 3


def test_few_events_are_still_a_direct_download(client, log):
    login(client, log["admin"])
    response = client.get("/audit/export.xlsx?kind=other")  # the two ticket.accept events
    assert response.status_code == 200 and len(xlsx_rows(response.data)) == 3 and jobs() == []


@pytest.mark.parametrize("query", ["kind=login_failed", "q=HYPERLINK&date_from={from_}&date_to={to}"])
def test_many_events_become_a_job_with_the_same_cells(app, client, log, query):
    day = lambda n: (log["now"] - timedelta(days=n)).date().isoformat()  # noqa: E731
    query = query.format(from_=day(4), to=day(1))
    login(client, log["admin"])
    job = job_of(client.get("/audit/export.xlsx?" + query))
    assert (job.kind, job.status) == ("audit.export", JobStatus.done)
    from_job = xlsx_rows(client.get(f"/jobs/{job.id}/download").data)
    assert {r[4] for r in from_job[1:]} == {"login.failed"}
    assert len(from_job) - 1 == job.result["rows"] == job.total == job.progress
    assert from_job == inline_rows(app, client, query)
    assert all(r[12].startswith("'=HYPERLINK") for r in from_job[1:])  # kept as text, never a formula


def test_the_job_logs_the_export_like_the_direct_download(client, log):
    login(client, log["admin"])
    job = job_of(client.get("/audit/export.xlsx?kind=login_failed"))
    [event] = db.session.scalars(select(Event).where(Event.action == "export")).all()
    assert event.actor_id == log["admin"].id and event.object_type == "events"
    assert event.note == f"审计日志导出：6 条；筛选 kind=login_failed；后台任务 #{job.id}"
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "审计日志导出" in page and "已完成" in page and "kind=login_failed" in page  # back link keeps filters


def test_the_export_route_and_its_job_are_district_admin_only(app, client, log, monkeypatch):
    login(client, log["staff"])
    assert client.get("/audit/export.xlsx?kind=login_failed").status_code == 403
    assert jobs() == []
    monkeypatch.setattr(exports, "enqueue", lambda job, task: None)
    admin = log["admin"]
    job = exports.start_export(admin, "audit.export", {"filters": {}, "args": {}, "filter_text": "无"})
    admin.role = Role.operator  # demoted before the job ran
    db.session.commit()
    run_job(job.id, exports.TASKS["audit.export"])
    [job] = jobs()
    assert job.status == JobStatus.failed and job.message == exports.SCOPE_CHANGED and export_files(app) == []


def test_filters_survive_the_trip_through_the_job_payload():
    from portal.audit.services import EventFilters
    from portal.audit.tasks import filters_from_payload, filters_to_payload

    filters = EventFilters(kind="export", actor_id=3, no_actor=False, street_id=2, object_type="tickets",
                           date_from=datetime(2024, 2, 1).date(), date_to=datetime(2024, 3, 1).date(), q="工单")
    import json

    assert filters_from_payload(json.loads(json.dumps(filters_to_payload(filters)))) == filters
    assert filters_from_payload(filters_to_payload(EventFilters())) == EventFilters()
