"""The survey-results export over EXPORT_INLINE_MAX_ROWS responses runs as a job: the same five sheets as
the direct download (values, bold titles, widths), masked and scoped as the requesting user, with
progress, its event, a back link to the results page, and 404 for everyone else."""
import pytest
from sqlalchemy import select

from portal.accounts.models import Role
from portal.audit.models import Event
from portal.extensions import db
from portal.jobs import exports
from portal.jobs.models import JobStatus
from portal.jobs.services import run_job
from portal.surveys import exports as survey_exports, tasks
from tests.helpers import login, make_user
from tests.jobs.support import FreshUserClient, export_files, job_of, jobs, xlsx_book
from tests.surveys.builders import answer

pytestmark = pytest.mark.usefixtures("fake_tagger")
SHEETS = ["概况", "题目统计", "法定表决", "答卷明细", "意见建议"]


@pytest.fixture
def app_config():
    return {"EXPORT_INLINE_MAX_ROWS": 2, "EXPORT_PROGRESS_EVERY": 2, "JOBS_INLINE": True}


@pytest.fixture
def world(app, estate_world):
    app.test_client_class = FreshUserClient
    world, h = estate_world, estate_world["households"]
    h["301"].owner_id_number = "110101195001011234"
    db.session.commit()
    survey = world["survey"]
    answer(survey, h["301"], consent=0, items=(1, 2), score=4, text="停车太难，来电人张伟13812345678")
    answer(survey, h["302"], consent=0, items=(1,), score=2, text="楼顶漏水")
    answer(survey, h["501"], consent=1, items=(2,), score=5, text="垃圾没人清")  # the tenant
    world["colleague"] = make_user(Role.street_staff, street=world["heping"], username="colleague")
    world["operator"] = make_user(Role.operator, username="operator")
    return world


def url(world, query: str = "") -> str:
    return f"/surveys/{world['survey'].id}/results.xlsx" + (f"?{query}" if query else "")


def inline_book(app, client, world, query: str = "") -> dict:
    app.config["EXPORT_INLINE_MAX_ROWS"] = 10_000
    try:
        response = client.get(url(world, query))
        assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
        return xlsx_book(response.data)
    finally:
        app.config["EXPORT_INLINE_MAX_ROWS"] = 2


def test_the_count_is_of_responses_in_the_surveys_scope(world):
    assert survey_exports.response_count(world["survey"]) == 3


def test_at_or_under_the_threshold_it_stays_a_direct_download(app, client, world):
    app.config["EXPORT_INLINE_MAX_ROWS"] = 3  # inclusive
    login(client, world["staff"])
    response = client.get(url(world))
    assert response.status_code == 200 and xlsx_book(response.data)["sheets"] == SHEETS and jobs() == []
    [event] = db.session.scalars(select(Event).where(Event.action == "export")).all()
    assert event.note == "意愿调查结果导出：桂花苑改造意愿调查，3 份答卷（不含入户码）"


def test_the_direct_download_keeps_its_bold_titles_and_widths(client, world, app):
    login(client, world["staff"])
    book = inline_book(app, client, world)
    assert book["sheets"] == SHEETS
    assert book["概况 widths"] == {"A": 16, "B": 60}
    titles = [row[0][0] for row in book["题目统计"] if row and row[0][1]]
    assert titles == [f"第 {n} 题 {q.kind.label}：{q.text}" for n, q in enumerate(world["survey"].questions, start=1)]
    assert not any(bold for row in book["答卷明细"] for _, bold in row)


@pytest.mark.parametrize("who, by", [("staff", "building"), ("staff", "unit"), ("admin", "building")])
def test_over_the_threshold_a_job_writes_exactly_the_direct_downloads_workbook(app, client, world, who, by):
    user = world[who]
    login(client, user)
    response = client.get(url(world, f"by={by}"))
    job = job_of(response)
    assert (job.kind, job.status, job.created_by_id) == ("surveys.export", JobStatus.done, user.id), job.message
    assert job.payload["args"] == {"survey_id": world["survey"].id, "by": by}
    assert (job.progress, job.total, job.result["rows"]) == (6, 6, 6)  # 3 responses and 3 free-text answers
    assert job.result["download_name"] == "桂花苑改造意愿调查-调查结果.xlsx"
    download = client.get(f"/jobs/{job.id}/download")
    assert download.status_code == 200 and download.mimetype.endswith("spreadsheetml.sheet")
    assert xlsx_book(download.data) == inline_book(app, client, world, f"by={by}")


def test_the_job_file_is_masked_for_street_staff_and_full_for_district_admin(client, world):
    login(client, world["staff"])
    body = repr(xlsx_book(client.get(f"/jobs/{job_of(client.get(url(world))).id}/download").data))
    for secret in ("13812345678", "张伟", "123456", "654321", "110101195001011234", "pbkdf2"):
        assert secret not in body
    client.post("/logout")
    login(client, world["admin"])
    body = repr(xlsx_book(client.get(f"/jobs/{job_of(client.get(url(world))).id}/download").data))
    assert "13812345678" in body and "110101195001011234" not in body and "654321" not in body  # codes: never


def test_the_job_records_the_export_event_and_its_page_links_back_to_the_results(client, world):
    login(client, world["staff"])
    response = client.get(url(world, "by=unit&page=3&_external=1"))
    job = job_of(response)
    [event] = db.session.scalars(select(Event).where(Event.action == "export")).all()
    assert (event.actor_id, event.object_type, event.object_id, event.street_id) == (
        world["staff"].id, "surveys", str(world["survey"].id), world["heping"].id)
    assert event.note == f"意愿调查结果导出：桂花苑改造意愿调查，3 份答卷（不含入户码）；后台任务 #{job.id}"
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "意愿调查结果导出（后台任务" in page and "6 / 6" in page and "已完成" in page
    assert "导出完成：共 6 行（3 份答卷、3 条意见建议）。" in page
    assert f'href="/surveys/{world["survey"].id}/results?by=unit"' in page and "← 返回调查结果" in page
    assert f"/jobs/{job.id}/download" in page
    flashed = client.get(url(world), follow_redirects=True).get_data(as_text=True)
    assert "共 3 份答卷，已转为后台导出" in flashed


def test_a_bad_breakdown_travels_as_building(client, world):
    login(client, world["staff"])
    assert job_of(client.get(url(world, "by=<script>"))).payload["args"]["by"] == "building"


def test_the_job_reports_progress_every_n_rows(client, world, monkeypatch):
    calls = []
    real = exports.set_progress
    monkeypatch.setattr(exports, "set_progress", lambda job_id, done, total: (calls.append((done, total)),
                                                                             real(job_id, done, total)))
    login(client, world["staff"])
    job_of(client.get(url(world)))
    assert calls == [(0, 6), (2, 6), (4, 6), (6, 6), (6, 6)]


@pytest.mark.parametrize("who", ["colleague", "other_staff", "operator"])
def test_anyone_else_gets_404_for_the_job_page_status_and_file(app, world, who):
    client = app.test_client()
    login(client, world["staff"])
    job = job_of(client.get(url(world)))
    other = app.test_client()
    login(other, world[who])
    for path in (f"/jobs/{job.id}", f"/jobs/{job.id}.json", f"/jobs/{job.id}/download"):
        response = other.get(path)
        assert response.status_code == 404, path
        assert "桂花苑" not in response.get_data(as_text=True)
    if who != "colleague":  # a colleague may export it for themselves; the others cannot
        assert other.get(url(world)).status_code == {"other_staff": 404, "operator": 403}[who]
    assert not db.session.scalars(select(Event).where(Event.action == "export.download")).all()


def test_district_admin_may_download_it(app, world):
    client = app.test_client()
    login(client, world["staff"])
    job = job_of(client.get(url(world)))
    admin = app.test_client()
    login(admin, world["admin"])
    assert admin.get(f"/jobs/{job.id}/download").status_code == 200
    [event] = db.session.scalars(select(Event).where(Event.action == "export.download")).all()
    assert event.actor_id == world["admin"].id and "意愿调查结果导出 6 行" in event.note


def test_another_streets_survey_is_404_and_queues_nothing(client, world):
    login(client, world["other_staff"])
    assert client.get(url(world)).status_code == 404 and jobs() == []


@pytest.mark.parametrize("change", ["user moved", "survey moved", "survey gone"])
def test_a_change_before_the_job_ran_fails_it_and_writes_nothing(app, world, monkeypatch, change):
    from portal.surveys.models import Survey

    monkeypatch.setattr(exports, "enqueue", lambda job, task: None)
    job = exports.start_export(world["staff"], tasks.EXPORT_KIND, tasks.export_payload(world["survey"], "building"))
    if change == "user moved":
        world["staff"].street_id = world["xinhua"].id
    elif change == "survey moved":
        world["survey"].street_id = world["xinhua"].id
    else:
        job.payload = {**job.payload, "args": {"survey_id": 999999, "by": "building"}}
    db.session.commit()
    run_job(job.id, exports.TASKS[tasks.EXPORT_KIND])
    [job] = jobs()
    assert job.status == JobStatus.failed
    assert job.message == (exports.SCOPE_CHANGED if change == "user moved"
                           else "要导出的意愿调查已不存在或不在发起人的权限范围内，未生成文件。")
    assert export_files(app) == [] and not db.session.scalars(select(Event).where(Event.action == "export")).all()


def test_a_failure_half_way_leaves_no_file_nor_openpyxl_temp_files(app, client, world, monkeypatch):
    from openpyxl.worksheet._writer import ALL_TEMP_FILES

    real = survey_exports.text_for
    seen = []

    def text_for(user, text):
        if text == "楼顶漏水":
            seen.extend(export_files(app))  # four sheets are being written by now
            raise ValueError("boom")
        return real(user, text)

    monkeypatch.setattr(survey_exports, "text_for", text_for)
    temp_files = list(ALL_TEMP_FILES)
    login(client, world["staff"])
    job = job_of(client.get(url(world)))
    assert len(seen) == 1 and seen[0].name.startswith(f"{job.id}-")
    assert job.status == JobStatus.failed and job.message == exports.FAILED
    assert export_files(app) == [] and ALL_TEMP_FILES == temp_files
    assert not db.session.scalars(select(Event).where(Event.action == "export")).all()
