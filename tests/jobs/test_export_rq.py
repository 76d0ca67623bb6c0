"""With REDIS_URL the export job goes on the RQ queue and a real `flask jobs worker --burst` process
writes the file: same cells as the direct download, progress and the export event recorded; a job
that fails there is marked failed and leaves no file. Redis db 14 is this module's own, flushed before and after."""
import os

import pytest
from sqlalchemy import select

from portal.accounts.models import Role
from portal.audit.models import Event
from portal.extensions import db
from portal.jobs.models import Job, JobStatus
from portal.jobs.services import QUEUE_NAME
from tests.helpers import login, make_community, make_estate, make_street, make_ticket, make_user
from tests.jobs.support import FreshUserClient, export_files, job_of, scratch_redis, work_the_queue, xlsx_rows

REDIS_URL = os.environ.get("EXPORT_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


@pytest.fixture
def redis():
    yield from scratch_redis(REDIS_URL)  # db 14 belongs to this module


@pytest.fixture
def app_config():
    return {"EXPORT_INLINE_MAX_ROWS": 2, "EXPORT_PROGRESS_EVERY": 2, "JOBS_INLINE": False, "REDIS_URL": REDIS_URL}


@pytest.fixture
def world(app, redis):
    app.test_client_class = FreshUserClient
    heping, xinhua = make_street("和平街道"), make_street("新华街道")
    guihua = make_estate(make_community(heping), "桂花苑")
    for i in range(5):
        make_ticket(f"桂花苑{i}栋楼道灯坏了，来电人张伟电话13812345678", estate=guihua, street=heping,
                    caller_name="张伟", caller_phone="13812345678", number=f"HP-{i}")
    make_ticket("新华的工单", street=xinhua, number="XH-0", caller_name="李娜")
    return {"staff": make_user(Role.street_staff, street=heping)}


def test_on_rq_a_burst_worker_writes_the_same_file_as_the_direct_download(app, client, world, redis, database_url):
    from rq import Queue

    login(client, world["staff"])
    job = job_of(client.get("/tickets/export.xlsx"))
    assert job.status == JobStatus.queued
    [queued] = Queue(QUEUE_NAME, connection=redis).jobs
    assert queued.func_name == "portal.jobs.worker.run_in_app"
    assert queued.args == (job.id, "portal.tickets.tasks:export_task")
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "排队中" in page and "/download" not in page

    work_the_queue(app, database_url, REDIS_URL)
    job = db.session.get(Job, job.id)
    assert job.status == JobStatus.done, job.message
    assert (job.progress, job.total, job.result["rows"]) == (5, 5, 5)
    assert job.worker and job.worker.split(":")[1] != str(os.getpid())  # written by the worker process
    [event] = db.session.scalars(select(Event).where(Event.action == "export")).all()
    assert event.note == f"工单导出: 5 行; 筛选 ; 后台任务 #{job.id}" and event.actor_id == world["staff"].id

    from_job = xlsx_rows(client.get(f"/jobs/{job.id}/download").data)
    assert "13812345678" not in repr(from_job) and "XH-0" not in repr(from_job)
    app.config["EXPORT_INLINE_MAX_ROWS"] = 10_000
    assert from_job == xlsx_rows(client.get("/tickets/export.xlsx").data)


def test_on_rq_a_failing_export_leaves_no_file(app, client, world, redis, database_url):
    login(client, world["staff"])
    job = job_of(client.get("/tickets/export.xlsx"))
    # the worker reads the user as it is now: deactivated in between, the job fails and writes nothing
    world["staff"].active = False
    db.session.commit()
    work_the_queue(app, database_url, REDIS_URL)
    job = db.session.get(Job, job.id)
    assert job.status == JobStatus.failed and job.message == "发起导出的账号已停用或不存在，未生成文件。"
    assert export_files(app) == []
