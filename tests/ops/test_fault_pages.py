"""Faults answered in-process, on SQLite and PostgreSQL: every upload form over the limit, the database
away (503, not 500), a job whose worker died, and two staff saving the same project through the forms."""
from __future__ import annotations

import os
import re
import subprocess
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from portal.accounts.models import Role
from portal.areas.models import Household
from portal.core.time import utcnow
from portal.extensions import db
from portal.jobs import services as jobs
from portal.jobs.models import Job, JobStatus
from portal.minutes.models import Meeting
from portal.projects.models import Project
from portal.tickets.models import Ticket
from tests.helpers import login, make_community, make_estate, make_street, make_user
from tests.projects.builders import make_project

LIMIT = 64 * 1024


@pytest.fixture
def app_config():
    return {"MAX_CONTENT_LENGTH": LIMIT}


@pytest.fixture
def place(app):
    heping = make_street("和平街道")
    estate = make_estate(make_community(heping, "桂花社区"), "桂花苑", household_count=248)
    return {"street": heping, "estate": estate, "admin": make_user(Role.district_admin, username="admin"),
            "operator": make_user(Role.operator, username="operator"),
            "staff": make_user(Role.street_staff, street=heping, username="heping"),
            "staff2": make_user(Role.street_staff, street=heping, username="heping2")}


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


UPLOAD_FORMS = [  # (who, url, file field, other fields, the table that must stay empty)
    ("operator", "/tickets/import", "file", {}, Ticket),
    ("staff", "/areas/estates/{estate}/roster", "file", {}, Household),
    ("staff", "/meetings/new", "minutes_file", {"title": "座谈会", "kind": "residents"}, Meeting),
    ("staff", "/projects/import", "file", {}, Project),
]


@pytest.mark.parametrize("who, url, field, fields, model", UPLOAD_FORMS, ids=lambda v: v if isinstance(v, str) and
                         v.startswith("/") else None)
def test_every_upload_form_refuses_a_file_over_the_limit_and_writes_nothing(client, app, place, who, url, field,
                                                                             fields, model):
    import io

    login(client, place[who])
    url = url.format(estate=place["estate"].id)
    assert client.get(url).status_code == 200
    name = "big.docx" if field == "minutes_file" else "big.csv"
    data = {**fields, field: (io.BytesIO(b"a" * (LIMIT + 1)), name)}
    response = client.post(url, data=data, content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "文件太大" in html and "64 KB" in html and "未保存任何内容" in html
    db.session.expire_all()
    assert count(model) == 0 and count(Job) == 0
    uploads = os.path.join(app.instance_path, "uploads")
    assert not os.path.isdir(uploads) or not os.listdir(uploads)


def test_the_database_away_gives_a_chinese_503_not_a_500(client, app, place, monkeypatch):
    login(client, place["operator"])

    def down(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("terminating connection due to administrator command"))

    monkeypatch.setattr("portal.tickets.views.ticket_query", down)  # the list's query
    response = client.get("/tickets/")
    html = response.get_data(as_text=True)
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert "系统暂时不可用" in html and "数据库暂时无法连接" in html
    assert "administrator command" not in html and "Traceback" not in html
    monkeypatch.undo()
    login(client, place["operator"])  # (the test app keeps one app context, so g, across requests)
    assert client.get("/tickets/").status_code == 200  # and the next request is served as usual


def _running_job(place, worker: str, started_ago: float = 0) -> Job:
    started = utcnow() - timedelta(seconds=started_ago)
    job = Job(kind="tickets.import", status=JobStatus.running, payload={"filename": "a.csv"}, worker=worker,
              created_by_id=place["operator"].id, started_at=started, heartbeat_at=started)
    db.session.add(job)
    db.session.commit()
    return job


def test_a_job_whose_worker_process_died_is_failed_with_a_message(client, app, place):
    gone = subprocess.Popen(["true"])
    gone.wait()
    dead = _running_job(place, jobs.process_identity(gone.pid))
    alive = _running_job(place, jobs.process_identity())  # this very process: still running
    login(client, place["operator"])
    status = client.get(f"/jobs/{dead.id}.json").get_json()
    assert status["status"] == "failed" and status["status_label"] == "失败"
    assert status["message"] == "后台任务中断，未导入任何记录，请重新提交。"
    assert client.get(f"/jobs/{alive.id}.json").get_json()["status"] == "running"
    db.session.expire_all()
    assert db.session.get(Job, dead.id).finished_at is not None


def test_a_reused_pid_is_not_taken_for_the_dead_worker(app, place):
    host, pid, _ = jobs.process_identity().split(":")
    job = _running_job(place, f"{host}:{pid}:1")  # our pid, but a process that started at another time
    assert jobs.reap_stale_jobs() == [job.id]


def test_a_job_on_another_host_is_failed_when_its_heartbeat_stops(app, place):
    quiet = _running_job(place, "other-host:4242:99", started_ago=app.config["JOB_STALE_SECONDS"] + 5)
    beating = _running_job(place, "other-host:4343:99", started_ago=5)
    reaped = jobs.reap_stale_jobs()
    if db.engine.dialect.name == "sqlite":  # no heartbeats there (one writer): jobs run in the web process
        assert reaped == []
    else:
        assert reaped == [quiet.id]
        assert db.session.get(Job, beating.id).status == JobStatus.running


def test_two_staff_editing_one_project_through_the_forms_the_second_is_told(app, place):
    project = make_project([place["estate"]], ["drainage"], name="桂花苑排水防涝改造")
    first, second = app.test_client(), app.test_client()
    login(first, place["staff"])
    login(second, place["staff2"])
    pages = [c.get(f"/projects/{project.id}/edit").get_data(as_text=True) for c in (first, second)]
    revisions = [re.search(r'name="revision" type="hidden" value="(\d+)"', page).group(1) for page in pages]
    assert revisions == ["1", "1"]  # both opened the same version

    def form(**changes):
        data = {"name": "桂花苑排水防涝改造", "estate_ids": [str(place["estate"].id)], "themes": ["drainage"],
                "category": "basic", "cost_wan": "180.5", "households_covered": "248", "consent_survey_id": "0",
                "description": "雨污分流", "revision": revisions[0]}
        data.update(changes)
        return data

    assert first.post(f"/projects/{project.id}/edit", data=form(cost_wan="150")).status_code == 302
    response = second.post(f"/projects/{project.id}/edit", data=form(cost_wan="222", description="第二个人的说明"))
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "该项目已被" in html and "您看到的是旧版本，请刷新后重新修改" in html
    assert "第二个人的说明" in html and 'value="222"' in html  # their input is kept to redo
    db.session.expire_all()
    saved = db.session.get(Project, project.id)
    assert saved.cost_wan == 150 and saved.revision == 2  # the first save stands, the second wrote nothing
