"""The ticket export over EXPORT_INLINE_MAX_ROWS runs as a job: the same cells as the direct download,
scoped and masked as the requesting user, with progress, its event, and no file left when it fails."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.accounts.models import Role
from portal.audit.models import Event
from portal.core.time import utcnow
from portal.extensions import db
from portal.jobs import exports
from portal.jobs.models import JobStatus
from portal.jobs.services import run_job
from portal.tickets.models import TicketStatus as S
from tests.helpers import login, make_community, make_estate, make_street, make_ticket, make_user
from tests.jobs.support import FreshUserClient, export_files, job_of, jobs, xlsx_rows


@pytest.fixture
def app_config():
    return {"EXPORT_INLINE_MAX_ROWS": 3, "EXPORT_PROGRESS_EVERY": 2, "JOBS_INLINE": True}


@pytest.fixture
def world(app):
    app.test_client_class = FreshUserClient
    heping, xinhua = make_street("和平街道"), make_street("新华街道")
    guihua = make_estate(make_community(heping), "桂花苑")
    xinhuali = make_estate(make_community(xinhua), "新华里小区")
    now = utcnow()
    mine = [
        make_ticket(f"桂花苑{i}栋楼道灯坏了，来电人张伟电话1381234567{i}", estate=guihua, street=heping,
                    status=S.dispatched if i % 2 else S.resolved, caller_name="张伟", caller_phone=f"1381234567{i}",
                    number=f"HP-{i}", themes=("lighting",) if i < 4 else ("lighting", "parking"), urgent=i == 2,
                    address=f"桂花苑{i}栋", title=f"楼道灯{i}", request_type="投诉", received_at=now - timedelta(hours=i),
                    due_at=now + timedelta(days=i), resolved_at=None if i % 2 else now,
                    satisfaction="满意" if i == 0 else None)
        for i in range(5)
    ]
    theirs = [make_ticket(f"新华里小区下水道堵了{i}", estate=xinhuali, street=xinhua, status=S.dispatched,
                          caller_name="李娜", caller_phone="13900001111", number=f"XH-{i}", themes=("lighting",),
                          received_at=now - timedelta(minutes=i)) for i in range(2)]
    return {"heping": heping, "xinhua": xinhua, "mine": mine, "theirs": theirs,
            "staff": make_user(Role.street_staff, street=heping), "operator": make_user(Role.operator),
            "admin": make_user(Role.district_admin)}


def inline_rows(app, client, query: str) -> list[tuple]:
    app.config["EXPORT_INLINE_MAX_ROWS"] = 10_000
    try:
        response = client.get("/tickets/export.xlsx?" + query)
        assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
        return xlsx_rows(response.data)
    finally:
        app.config["EXPORT_INLINE_MAX_ROWS"] = 3


def test_under_the_threshold_the_export_stays_a_direct_download(client, world):
    login(client, world["staff"])
    response = client.get("/tickets/export.xlsx?urgent=1")  # one ticket
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    assert [r[0] for r in xlsx_rows(response.data)[1:]] == ["HP-2"]
    assert jobs() == []
    response = client.get("/tickets/export.xlsx?status=resolved")  # three: still direct, the limit is inclusive
    assert response.status_code == 200 and len(xlsx_rows(response.data)) == 4 and jobs() == []


@pytest.mark.parametrize("who, query, numbers", [
    ("staff", "theme=lighting", [f"HP-{i}" for i in range(5)]),             # their street only
    ("operator", "theme=lighting", [f"HP-{i}" for i in range(5)] + ["XH-0", "XH-1"]),
    ("staff", f"theme=lighting&street_id={{xinhua}}", None),               # another street's filter: under
])
def test_over_the_threshold_a_job_writes_exactly_the_cells_of_the_direct_download(app, client, world, who, query,
                                                                                   numbers):
    user = world[who]
    query = query.format(xinhua=world["xinhua"].id)
    login(client, user)
    response = client.get("/tickets/export.xlsx?" + query)
    if numbers is None:  # scoped first, then counted: zero rows, a direct download with the header only
        assert response.status_code == 200 and len(xlsx_rows(response.data)) == 1 and jobs() == []
        return
    job = job_of(response)
    assert (job.kind, job.status, job.created_by_id) == ("tickets.export", JobStatus.done, user.id)
    assert (job.progress, job.total, job.result["rows"]) == (len(numbers), len(numbers), len(numbers))
    download = client.get(f"/jobs/{job.id}/download")
    assert download.status_code == 200 and download.mimetype.endswith("spreadsheetml.sheet")
    from_job = xlsx_rows(download.data)
    assert sorted(r[0] for r in from_job[1:]) == sorted(numbers)
    assert from_job == inline_rows(app, client, query)  # same header, same rows, same order, same cells


def test_the_job_file_is_masked_for_street_staff_and_full_for_operators(client, world):
    login(client, world["staff"])
    rows = xlsx_rows(client.get(f"/jobs/{job_of(client.get('/tickets/export.xlsx')).id}/download").data)
    body = repr(rows)
    assert "张伟" not in body and "13812345670" not in body and "李娜" not in body and "XH-" not in body
    assert {r[2] for r in rows[1:]} == {"张*"} and {r[3] for r in rows[1:]} == {f"138****567{i}" for i in range(5)}
    client.post("/logout")
    login(client, world["operator"])
    rows = xlsx_rows(client.get(f"/jobs/{job_of(client.get('/tickets/export.xlsx')).id}/download").data)
    assert "13812345670" in repr(rows) and "李娜" in repr(rows)


def test_the_job_reports_progress_every_n_rows(client, world, monkeypatch):
    calls = []
    real = exports.set_progress
    monkeypatch.setattr(exports, "set_progress", lambda job_id, done, total: (calls.append((done, total)),
                                                                             real(job_id, done, total)))
    login(client, world["operator"])
    job = job_of(client.get("/tickets/export.xlsx"))
    assert calls == [(0, 7), (2, 7), (4, 7), (6, 7), (7, 7)]
    assert (job.progress, job.total, job.percent) == (7, 7, 100)
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "已完成" in page and "7 / 7" in page and f"/jobs/{job.id}/download" in page


def test_the_job_records_the_export_event_and_each_download(client, world):
    login(client, world["staff"])
    job = job_of(client.get("/tickets/export.xlsx?theme=lighting"))
    [event] = db.session.scalars(select(Event).where(Event.action == "export")).all()
    assert (event.actor_id, event.object_type, event.street_id) == (world["staff"].id, "tickets", world["heping"].id)
    assert event.note == f"工单导出: 5 行; 筛选 theme=lighting; 后台任务 #{job.id}"
    for _ in range(2):
        assert client.get(f"/jobs/{job.id}/download").status_code == 200
    downloads = db.session.scalars(select(Event).where(Event.action == "export.download")).all()
    assert len(downloads) == 2
    assert all(d.actor_id == world["staff"].id and d.object_id == str(job.id) for d in downloads)
    assert "5 行" in downloads[0].note
    assert db.session.scalars(select(Event).where(Event.action == "export")).all() == [event]  # page views log nothing


def test_the_same_export_clicked_twice_while_queued_is_one_job(client, world, monkeypatch):
    monkeypatch.setattr(exports, "enqueue", lambda job, task: None)  # stays queued
    login(client, world["staff"])
    first = job_of(client.get("/tickets/export.xlsx?theme=lighting"))
    assert job_of(client.get("/tickets/export.xlsx?theme=lighting")).id == first.id
    other = job_of(client.get("/tickets/export.xlsx"))  # other filters: another export
    assert other.id != first.id and first.status == JobStatus.queued
    page = client.get(f"/jobs/{first.id}").get_data(as_text=True)
    assert "排队中" in page and "download" not in page
    response = client.get(f"/jobs/{first.id}/download", follow_redirects=True)
    assert "文件尚未生成" in response.get_data(as_text=True)


def test_the_task_reads_with_the_requesting_users_scope_not_the_filters(app, world, monkeypatch):
    monkeypatch.setattr(exports, "enqueue", lambda job, task: None)
    staff = world["staff"]
    job = exports.start_export(staff, "tickets.export", {"args": {"street_id": str(world["xinhua"].id)},
                                                          "query": f"street_id={world['xinhua'].id}"})
    run_job(job.id, exports.TASKS["tickets.export"])
    [job] = jobs()
    assert job.status == JobStatus.done and job.result["rows"] == 0  # another street's tickets: none


@pytest.mark.parametrize("change", ["street", "role", "deactivated"])
def test_a_user_whose_scope_changed_before_the_job_ran_gets_no_file(app, world, monkeypatch, change):
    monkeypatch.setattr(exports, "enqueue", lambda job, task: None)
    staff = world["staff"]
    job = exports.start_export(staff, "tickets.export", {"args": {}, "query": ""})
    if change == "street":
        staff.street_id = world["xinhua"].id
    elif change == "role":
        staff.role, staff.street_id = Role.operator, None
    else:
        staff.active = False
    db.session.commit()
    run_job(job.id, exports.TASKS["tickets.export"])
    [job] = jobs()
    assert job.status == JobStatus.failed and job.message == (
        exports.ACCOUNT_GONE if change == "deactivated" else exports.SCOPE_CHANGED)
    assert export_files(app) == [] and not db.session.scalars(select(Event).where(Event.action == "export")).all()


@pytest.mark.parametrize("where", ["a row", "the event"])
def test_a_failure_marks_the_job_failed_in_chinese_and_removes_the_partial_file(app, client, world, monkeypatch,
                                                                                where):
    from portal.audit import services as audit_services
    from portal.tickets import tasks

    seen = []
    if where == "a row":
        real_row = tasks.export_row

        def export_row(user, ticket):
            if ticket.number == "HP-2":
                seen.extend(export_files(app))  # the file is there, being written
                raise ValueError("boom")
            return real_row(user, ticket)

        monkeypatch.setattr(tasks, "export_row", export_row)
    else:
        def record_event(*args, **kwargs):
            seen.extend(export_files(app))  # complete by now
            raise RuntimeError("database away")

        monkeypatch.setattr(audit_services, "record_event", record_event)
    from openpyxl.worksheet._writer import ALL_TEMP_FILES

    temp_files = list(ALL_TEMP_FILES)
    login(client, world["staff"])
    job = job_of(client.get("/tickets/export.xlsx"))
    assert len(seen) == 1 and seen[0].name.startswith(f"{job.id}-")
    assert ALL_TEMP_FILES == temp_files  # openpyxl's streamed rows are not left in /tmp either
    assert job.status == JobStatus.failed and job.message == exports.FAILED
    assert "导出失败" in job.message and export_files(app) == []
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "导出失败" in page and "失败" in page and "/download" not in page
    assert client.get(f"/jobs/{job.id}/download").status_code == 302


def test_only_the_filters_travel_to_the_job_and_its_back_link(client, world):
    login(client, world["operator"])
    job = job_of(client.get("/tickets/export.xlsx?theme=lighting&page=3&_scheme=javascript&_external=1&x=<b>"))
    assert job.payload["args"] == {"theme": "lighting"}
    assert job.payload["query"] == "theme=lighting&page=3&_scheme=javascript&_external=1&x=<b>"  # noted as asked
    page = client.get(f"/jobs/{job.id}")
    assert page.status_code == 200 and 'href="/tickets/?theme=lighting"' in page.get_data(as_text=True)
