"""A job queued past JOB_QUEUED_GRACE_SECONDS while no RQ worker is registered on the queue: the export,
import and retraining pages and /jobs/<id>.json say plainly that no background worker is running and to
ask the administrator (make worker); the job stays queued, and a worker started later runs it. Not said
within the grace period, with a worker registered, in in-process mode, when Redis is away, nor for a job
Redis lost (the reaper fails that one). Redis db 12 is this module's own, flushed before and after."""
import os

import pytest
from sqlalchemy import select

from portal.accounts.models import Role
from portal.audit.models import Event
from portal.extensions import db
from portal.jobs import services as jobs
from portal.jobs.models import Job, JobStatus
from tests.helpers import login, make_community, make_estate, make_street, make_ticket, make_user
from tests.jobs.support import FreshUserClient, job_of, scratch_redis, work_the_queue

REDIS_URL = os.environ.get("NO_WORKER_TEST_REDIS_URL", "redis://127.0.0.1:6379/12")
SAID = "后台任务服务没有运行"


@pytest.fixture
def redis():
    yield from scratch_redis(REDIS_URL)  # db 12 belongs to this module


@pytest.fixture
def app_config():
    return {"JOBS_INLINE": False, "REDIS_URL": REDIS_URL, "JOB_QUEUED_GRACE_SECONDS": 0,
            "EXPORT_INLINE_MAX_ROWS": 1}


@pytest.fixture
def world(app, redis):
    app.test_client_class = FreshUserClient
    heping = make_street("和平街道")
    guihua = make_estate(make_community(heping), "桂花苑")
    for i in range(3):
        make_ticket(f"楼道灯坏了{i}", estate=guihua, street=heping, caller_name="张伟", number=f"HP-{i}")
    return {"staff": make_user(Role.street_staff, street=heping, username="staff"),
            "admin": make_user(Role.district_admin, username="admin")}


def registered_worker(redis):
    from rq import Queue, Worker

    worker = Worker([Queue(jobs.QUEUE_NAME, connection=redis)], connection=redis, name="test-worker")
    worker.register_birth()
    return worker


def test_an_export_page_and_its_status_say_no_worker_is_running(client, world, redis):
    login(client, world["staff"])
    job = job_of(client.get("/tickets/export.xlsx"))
    assert job.status == JobStatus.queued and redis.exists(f"rq:job:{jobs.queue_id_of(job)}")
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "排队中" in page and jobs.NO_WORKER in page and "make worker" in page and "联系系统管理员" in page
    status = client.get(f"/jobs/{job.id}.json").get_json()
    assert status["status"] == "queued" and status["no_worker"] is True and status["notice"] == jobs.NO_WORKER
    assert jobs.reap_stale_jobs() == []  # not failed: a worker may start later
    db.session.expire_all()
    assert db.session.get(Job, job.id).status == JobStatus.queued


def test_the_import_and_retraining_pages_say_it_too(client, world):
    importing = jobs.create_job(world["admin"], "tickets.import", {"path": "/nonexistent", "filename": "工单.csv"})
    jobs.enqueue(importing, "portal.tickets.tasks:import_task")
    retraining = jobs.create_job(world["admin"], "retrain", {})
    jobs.enqueue(retraining, "portal.review.tasks:retrain_task")
    login(client, world["admin"])
    for path in (f"/tickets/import/{importing.id}", f"/review/models/jobs/{retraining.id}"):
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        assert "排队中" in html and jobs.NO_WORKER in html, path


def test_a_registered_worker_silences_it_and_one_that_died_does_not(client, world, redis):
    login(client, world["staff"])
    job = job_of(client.get("/tickets/export.xlsx"))
    worker = registered_worker(redis)
    assert jobs.no_worker_notice(job) is None
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert SAID not in page and 'id="job-notice"' in page  # the empty, hidden box job.js fills in
    assert client.get(f"/jobs/{job.id}.json").get_json()["no_worker"] is False
    redis.delete(worker.key)  # killed without unregistering: its key expires, its set entry stays
    assert jobs.no_worker_notice(job) == jobs.NO_WORKER
    worker.register_birth()
    assert jobs.no_worker_notice(job) is None
    worker.register_death()
    assert jobs.no_worker_notice(job) == jobs.NO_WORKER


def test_within_the_grace_period_nothing_is_said(app, client, world):
    app.config["JOB_QUEUED_GRACE_SECONDS"] = 3600
    login(client, world["staff"])
    job = job_of(client.get("/tickets/export.xlsx"))
    assert jobs.no_worker_notice(job) is None
    assert SAID not in client.get(f"/jobs/{job.id}").get_data(as_text=True)


def test_in_process_mode_has_no_worker_to_miss(app, world):
    job = jobs.create_job(world["staff"], "tickets.export", {})  # queued, as a thread about to start it
    app.config["REDIS_URL"] = None
    assert jobs.no_worker_notice(job) is None
    app.config["REDIS_URL"], app.config["JOBS_INLINE"] = REDIS_URL, True
    assert jobs.no_worker_notice(job) is None


def test_redis_away_or_the_job_lost_says_nothing_here(app, client, world, redis):
    login(client, world["staff"])
    job = job_of(client.get("/tickets/export.xlsx"))
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
    assert jobs.no_worker_notice(job) is None
    app.config["REDIS_URL"] = REDIS_URL
    redis.delete(f"rq:job:{jobs.queue_id_of(job)}")
    assert jobs.no_worker_notice(job) is None  # lost: the reaper fails it with its own message
    status = client.get(f"/jobs/{job.id}.json").get_json()
    assert status["status"] == "failed" and status["message"] == jobs.LOST_FROM_QUEUE and not status["no_worker"]


def test_finished_or_running_jobs_say_nothing(world):
    job = jobs.create_job(world["staff"], "tickets.export", {})
    for status in (JobStatus.running, JobStatus.done, JobStatus.failed):
        job.status = status
        assert jobs.no_worker_notice(job) is None


def test_a_worker_started_later_runs_the_job_and_the_notice_goes(app, client, world, database_url):
    login(client, world["staff"])
    job = job_of(client.get("/tickets/export.xlsx"))
    assert jobs.NO_WORKER in client.get(f"/jobs/{job.id}").get_data(as_text=True)
    work_the_queue(app, database_url, REDIS_URL)
    job = db.session.get(Job, job.id)
    assert job.status == JobStatus.done, job.message
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "已完成" in page and SAID not in page and f"/jobs/{job.id}/download" in page
    assert db.session.scalars(select(Event).where(Event.action == "export")).all()


@pytest.mark.browser
def test_in_chromium_the_open_page_says_so_once_the_grace_period_passes(app, page, live_server, world, output_dir):
    from playwright.sync_api import expect

    from tests.helpers import PASSWORD
    from tests.playwright_fixtures import log_in

    app.config["JOB_QUEUED_GRACE_SECONDS"] = 2
    log_in(page, live_server, "staff", PASSWORD)
    page.goto(f"{live_server}/tickets/")
    page.click("text=导出 Excel")
    page.wait_for_url(f"{live_server}/jobs/*")
    expect(page.locator("#job-status")).to_have_text("排队中")
    expect(page.locator("#job-notice")).to_be_hidden()  # just queued: a worker may be about to take it
    expect(page.locator("#job-notice")).to_have_text(jobs.NO_WORKER, timeout=10000)  # job.js, polling
    expect(page.locator("#job-notice")).to_be_visible()
    expect(page.locator("#job-status")).to_have_text("排队中")
    page.screenshot(path=str(output_dir / "job-no-worker.png"), full_page=True)
