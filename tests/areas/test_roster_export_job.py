"""The household roster export over EXPORT_INLINE_MAX_ROWS households runs as a job: the same sheet as
the direct download (owner ID numbers masked), scoped as the requesting user, with progress, its event,
a back link to the estate page, and 404 for everyone else."""
import pytest
from sqlalchemy import select

from portal.accounts.models import Role
from portal.areas import tasks
from portal.areas.models import Occupancy
from portal.audit.models import Event
from portal.extensions import db
from portal.jobs import exports
from portal.jobs.models import JobStatus
from portal.jobs.services import run_job
from tests.helpers import login, make_community, make_estate, make_household, make_street, make_user
from tests.jobs.support import FreshUserClient, export_files, job_of, jobs, xlsx_book, xlsx_rows


@pytest.fixture
def app_config():
    return {"EXPORT_INLINE_MAX_ROWS": 3, "EXPORT_PROGRESS_EVERY": 2, "JOBS_INLINE": True}


@pytest.fixture
def world(app):
    app.test_client_class = FreshUserClient
    heping, xinhua = make_street("和平街道"), make_street("新华街道")
    guihua = make_estate(make_community(heping), "桂花苑")
    for i, room in enumerate(["301", "101", "102", "201", "202"]):
        make_household(guihua, "2" if i % 2 else "1", "1", room, area=f"8{i}.50",
                       occupancy=Occupancy.tenant if i == 4 else Occupancy.owner,
                       owner_id_number=f"43010319800101123{i}" if i < 4 else None)
    xinhuali = make_estate(make_community(xinhua), "新华里")
    make_household(xinhuali, "9", "1", "909", owner_id_number="110101195001019999")
    return {"heping": heping, "xinhua": xinhua, "estate": guihua, "theirs": xinhuali,
            "staff": make_user(Role.street_staff, street=heping, username="staff"),
            "colleague": make_user(Role.street_staff, street=heping, username="colleague"),
            "other_staff": make_user(Role.street_staff, street=xinhua, username="other"),
            "operator": make_user(Role.operator, username="operator"),
            "admin": make_user(Role.district_admin, username="admin")}


def url(estate) -> str:
    return f"/areas/estates/{estate.id}/roster.xlsx"


def inline_data(app, client, estate) -> bytes:
    app.config["EXPORT_INLINE_MAX_ROWS"] = 10_000
    try:
        response = client.get(url(estate))
        assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
        return response.data
    finally:
        app.config["EXPORT_INLINE_MAX_ROWS"] = 3


def test_at_or_under_the_threshold_it_stays_a_direct_download(app, client, world):
    small = make_estate(make_community(world["heping"]), "小名册")
    for room in ("101", "102", "103"):
        make_household(small, room=room)
    login(client, world["staff"])
    response = client.get(url(small))
    assert response.status_code == 200 and len(xlsx_rows(response.data)) == 4 and jobs() == []
    assert db.session.scalar(select(Event.note).where(Event.action == "export")) == "住户名册: 3 行"


@pytest.mark.parametrize("who", ["staff", "admin"])
def test_over_the_threshold_a_job_writes_exactly_the_direct_downloads_sheet(app, client, world, who):
    login(client, world[who])
    job = job_of(client.get(url(world["estate"])))
    assert (job.kind, job.status, job.created_by_id) == ("areas.roster.export", JobStatus.done, world[who].id)
    assert (job.progress, job.total, job.result["rows"]) == (5, 5, 5)
    assert job.result["download_name"] == "桂花苑-住户名册.xlsx"
    data = client.get(f"/jobs/{job.id}/download").data
    rows = xlsx_rows(data)
    assert rows[0] == tuple(tasks.ROSTER_HEADER)
    assert [r[:3] for r in rows[1:]] == [("1", "1", "102"), ("1", "1", "202"), ("1", "1", "301"), ("2", "1", "101"),
                                         ("2", "1", "201")]
    assert {r[5] for r in rows[1:]} == {"4301**********1230", "4301**********1231", "4301**********1232",
                                        "4301**********1233", None}  # masked for everyone, district_admin too
    assert "909" not in repr(rows) and "1101" not in repr(rows)
    assert xlsx_book(data) == xlsx_book(inline_data(app, client, world["estate"]))


def test_the_job_records_the_export_event_and_its_page_links_back_to_the_estate(client, world):
    login(client, world["staff"])
    response = client.get(url(world["estate"]))
    job = job_of(response)
    [event] = db.session.scalars(select(Event).where(Event.action == "export")).all()
    assert (event.actor_id, event.object_type, event.object_id, event.street_id) == (
        world["staff"].id, "estates", str(world["estate"].id), world["heping"].id)
    assert event.note == f"住户名册: 5 行; 后台任务 #{job.id}"
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "住户名册导出（后台任务" in page and "5 / 5" in page and "已完成" in page
    assert f'href="/areas/estates/{world["estate"].id}"' in page and "← 返回小区页面" in page
    flashed = client.get(url(world["estate"]), follow_redirects=True).get_data(as_text=True)
    assert "共 5 户，已转为后台导出" in flashed


def test_the_job_reports_progress_every_n_rows(client, world, monkeypatch):
    calls = []
    real = exports.set_progress
    monkeypatch.setattr(exports, "set_progress", lambda job_id, done, total: (calls.append((done, total)),
                                                                             real(job_id, done, total)))
    login(client, world["staff"])
    job_of(client.get(url(world["estate"])))
    assert calls == [(0, 5), (2, 5), (4, 5), (5, 5)]


@pytest.mark.parametrize("who", ["colleague", "other_staff", "operator"])
def test_anyone_else_gets_404_for_the_job_page_status_and_file(app, world, who):
    client = app.test_client()
    login(client, world["staff"])
    job = job_of(client.get(url(world["estate"])))
    other = app.test_client()
    login(other, world[who])
    for path in (f"/jobs/{job.id}", f"/jobs/{job.id}.json", f"/jobs/{job.id}/download"):
        response = other.get(path)
        assert response.status_code == 404, path
        assert "4301" not in response.get_data(as_text=True)
    if who != "colleague":
        assert other.get(url(world["estate"])).status_code == {"other_staff": 404, "operator": 403}[who]
    assert not db.session.scalars(select(Event).where(Event.action == "export.download")).all()


def test_district_admin_may_download_it(app, world):
    client = app.test_client()
    login(client, world["staff"])
    job = job_of(client.get(url(world["estate"])))
    admin = app.test_client()
    login(admin, world["admin"])
    assert admin.get(f"/jobs/{job.id}/download").status_code == 200
    [event] = db.session.scalars(select(Event).where(Event.action == "export.download")).all()
    assert event.actor_id == world["admin"].id and "住户名册导出 5 行" in event.note


@pytest.mark.parametrize("change", ["user moved", "estate of another street"])
def test_a_scope_change_before_the_job_ran_fails_it_and_writes_nothing(app, world, monkeypatch, change):
    monkeypatch.setattr(exports, "enqueue", lambda job, task: None)
    job = exports.start_export(world["staff"], tasks.ROSTER_EXPORT_KIND, {"args": {"estate_id": world["estate"].id}})
    if change == "user moved":
        world["staff"].street_id = world["xinhua"].id
    else:  # a payload naming another street's estate (never made by the route) reads nothing
        job.payload = {**job.payload, "args": {"estate_id": world["theirs"].id}}
    db.session.commit()
    run_job(job.id, exports.TASKS[tasks.ROSTER_EXPORT_KIND])
    [job] = jobs()
    assert job.status == JobStatus.failed
    assert job.message == (exports.SCOPE_CHANGED if change == "user moved"
                           else "要导出的小区已不存在或不在发起人的权限范围内，未生成文件。")
    assert export_files(app) == [] and not db.session.scalars(select(Event).where(Event.action == "export")).all()


def test_a_failure_half_way_leaves_no_file_nor_openpyxl_temp_files(app, client, world, monkeypatch):
    from openpyxl.worksheet._writer import ALL_TEMP_FILES

    real = tasks.mask_id_number

    def mask(value):
        if value and value.endswith("2"):
            raise ValueError("boom")
        return real(value)

    monkeypatch.setattr(tasks, "mask_id_number", mask)
    temp_files = list(ALL_TEMP_FILES)
    login(client, world["staff"])
    job = job_of(client.get(url(world["estate"])))
    assert job.status == JobStatus.failed and job.message == exports.FAILED
    assert export_files(app) == [] and ALL_TEMP_FILES == temp_files
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "导出失败" in page and "/download" not in page
