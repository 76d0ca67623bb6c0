"""An export job's file: who may download it (404 for everyone else), its mode, its expiry after
EXPORT_KEEP_HOURS, the cleanup (reaper path, download, `flask jobs clean-exports`) and interrupted jobs."""
import os
import stat
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.accounts.models import Role
from portal.audit.models import Event
from portal.extensions import db
from portal.jobs import exports
from portal.jobs.models import Job, JobStatus
from portal.jobs.services import create_job, fail_interrupted, reap_now_and_then
from tests.helpers import login, make_community, make_estate, make_street, make_ticket, make_user
from tests.jobs.support import FreshUserClient, export_files, job_of, xlsx_rows


@pytest.fixture
def app_config():
    return {"EXPORT_INLINE_MAX_ROWS": 1, "JOBS_INLINE": True}


@pytest.fixture
def world(app):
    app.test_client_class = FreshUserClient
    heping, xinhua = make_street("和平街道"), make_street("新华街道")
    guihua = make_estate(make_community(heping), "桂花苑")
    for i in range(3):
        make_ticket(f"楼道灯坏了{i}", estate=guihua, street=heping, caller_name="张伟", caller_phone="13812345678",
                    number=f"HP-{i}")
    return {"heping": heping, "xinhua": xinhua,
            "staff": make_user(Role.street_staff, street=heping, username="staff"),
            "colleague": make_user(Role.street_staff, street=heping, username="colleague"),
            "other_street": make_user(Role.street_staff, street=xinhua, username="other"),
            "operator": make_user(Role.operator, username="operator"),
            "admin": make_user(Role.district_admin, username="admin")}


@pytest.fixture
def finished(app, world):
    client = app.test_client()
    login(client, world["staff"])
    job = job_of(client.get("/tickets/export.xlsx"))
    assert job.status == JobStatus.done
    return job


def test_the_file_is_private_and_named_after_its_job(app, finished):
    [path] = export_files(app)
    assert path.name == finished.result["file"] and path.name.startswith(f"{finished.id}-")
    assert len(path.name.split("-")[1]) == len("0123456789abcdef.xlsx")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert finished.result["size"] == path.stat().st_size


def test_the_requester_downloads_it_uncached(app, world, finished):
    client = app.test_client()
    login(client, world["staff"])
    response = client.get(f"/jobs/{finished.id}/download")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    assert "no-store" in response.headers["Cache-Control"]
    disposition = response.headers["Content-Disposition"]
    assert "attachment" in disposition and ".xlsx" in disposition
    rows = xlsx_rows(response.data)
    assert sorted(r[0] for r in rows[1:]) == ["HP-0", "HP-1", "HP-2"] and {r[2] for r in rows[1:]} == {"张*"}


@pytest.mark.parametrize("who", ["colleague", "other_street", "operator"])
def test_anyone_else_gets_404_on_the_page_the_status_and_the_file(app, world, finished, who):
    client = app.test_client()
    login(client, world[who])
    for path in (f"/jobs/{finished.id}", f"/jobs/{finished.id}.json", f"/jobs/{finished.id}/download"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "张伟" not in response.get_data(as_text=True)
    assert not db.session.scalars(select(Event).where(Event.action == "export.download")).all()


def test_district_admin_may_download_anyones_export_and_it_is_logged_as_theirs(app, world, finished):
    client = app.test_client()
    login(client, world["admin"])
    assert client.get(f"/jobs/{finished.id}").status_code == 200
    assert client.get(f"/jobs/{finished.id}/download").status_code == 200
    [event] = db.session.scalars(select(Event).where(Event.action == "export.download")).all()
    assert event.actor_id == world["admin"].id and event.object_type == "jobs" and event.object_id == str(finished.id)
    html = client.get("/audit/?kind=export").get_data(as_text=True)
    assert "下载导出文件" in html  # listed with the exports on the audit page


def test_not_logged_in_is_sent_to_the_login_page(app, finished):
    response = app.test_client().get(f"/jobs/{finished.id}/download")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_requester_moved_to_another_street_no_longer_sees_the_file(app, world, finished):
    staff = world["staff"]
    staff.street_id = world["xinhua"].id
    db.session.commit()
    client = app.test_client()
    login(client, staff)
    assert client.get(f"/jobs/{finished.id}/download").status_code == 404
    assert client.get(f"/jobs/{finished.id}").status_code == 404


def test_only_export_jobs_have_a_page(app, world):
    job = create_job(world["admin"], "tickets.import", {"path": "/nonexistent"})
    client = app.test_client()
    login(client, world["admin"])
    assert client.get(f"/jobs/{job.id}").status_code == 404
    assert client.get(f"/jobs/{job.id}/download").status_code == 404
    assert client.get("/jobs/999999/download").status_code == 404


def test_after_24_hours_the_file_is_deleted_and_the_page_says_so(app, world, finished):
    [path] = export_files(app)
    finished.finished_at -= timedelta(hours=24, seconds=1)
    db.session.commit()
    client = app.test_client()
    login(client, world["staff"])
    response = client.get(f"/jobs/{finished.id}/download")
    assert response.status_code == 410
    html = response.get_data(as_text=True)
    assert "导出文件已超过 24 小时，已自动删除。请返回列表重新导出。" in html and "/download" not in html
    assert not path.exists()
    assert "已超过 24 小时" in client.get(f"/jobs/{finished.id}").get_data(as_text=True)
    assert not db.session.scalars(select(Event).where(Event.action == "export.download")).all()


def test_just_under_24_hours_it_is_still_there(app, world, finished):
    finished.finished_at -= timedelta(hours=23, minutes=59)
    db.session.commit()
    client = app.test_client()
    login(client, world["staff"])
    page = client.get(f"/jobs/{finished.id}").get_data(as_text=True)
    assert "保留 24 小时" in page and "后自动删除" in page
    assert client.get(f"/jobs/{finished.id}/download").status_code == 200


def _age(path, hours: float) -> None:
    then = time.time() - hours * 3600
    os.utime(path, (then, then))


def test_cleanup_deletes_old_failed_and_stray_files_and_keeps_fresh_and_running_ones(app, world, finished):
    directory = exports.export_dir()
    [fresh] = export_files(app)
    old_job = create_job(world["staff"], "tickets.export", {})
    old_job.status, old_job.result = JobStatus.done, {"file": f"{old_job.id}-{'a' * 16}.xlsx"}
    failed = create_job(world["staff"], "tickets.export", {})
    failed.status = JobStatus.failed
    running = create_job(world["staff"], "tickets.export", {})
    running.status = JobStatus.running
    db.session.commit()
    old = directory / old_job.result["file"]
    partial = directory / f"{failed.id}-{'b' * 16}.xlsx"
    writing = directory / f"{running.id}-{'c' * 16}.xlsx"
    orphan = directory / f"999999-{'d' * 16}.xlsx"
    stray = directory / "notes.txt"
    for path in (old, partial, writing, orphan, stray):
        path.write_bytes(b"x")
    _age(old, 25)
    _age(writing, 1)

    result = app.test_cli_runner().invoke(args=["jobs", "clean-exports"])
    assert result.exit_code == 0, result.output
    assert "deleted 4 export file(s)" in result.output
    assert sorted(p.name for p in export_files(app)) == sorted([fresh.name, writing.name])
    _age(writing, 25)  # a job "running" for a day is not writing any more
    assert exports.clean_exports() == [writing.name]
    assert export_files(app) == [fresh]


def test_the_reaper_path_cleans_without_anyone_opening_a_page(app, world, finished, monkeypatch):
    from portal.jobs import services

    [path] = export_files(app)
    _age(path, 25)
    monkeypatch.setattr(services, "_last_reap", [float("-inf")])
    reap_now_and_then()
    assert not path.exists()


def test_an_interrupted_export_leaves_no_partial_file(app, world):
    job = create_job(world["staff"], "tickets.export", {"args": {}})
    job.status = JobStatus.running
    db.session.commit()
    partial = exports.export_dir() / f"{job.id}-{'e' * 16}.xlsx"
    partial.write_bytes(b"PK half")
    assert fail_interrupted(job.id)
    job = db.session.get(Job, job.id)
    assert job.status == JobStatus.failed and job.message == "后台任务中断，未生成导出文件，请重新导出。"
    assert not partial.exists()
