"""Faults on the running stack: a worker killed mid-import, the database going away under load, a huge upload."""
from __future__ import annotations

import os
import re
import signal
import threading
import time

import pytest

from tests.ops.stack import group_alive, wait_for
from tests.ops.test_production import poll_job, start_import, tickets_csv

pytestmark = [pytest.mark.ops, pytest.mark.tagging]

INTERRUPTED = "后台任务中断，未导入任何记录，请重新提交。"


def _job_row(stack, job_id: int):
    return stack.database.scalar("SELECT row_to_json(j) FROM jobs j WHERE id = %s", job_id)


def _kill_mid_import(stack, client, prefix: str, n: int, whole_worker: bool):
    """Starts an import of n tickets and SIGKILLs once some rows are written but not committed."""
    job_id = start_import(client, "big.csv", tickets_csv(prefix, n))
    poll_job(client, job_id, lambda s: s["status"] == "running" and 0 < s["progress"] < s["total"] or
             s["status"] in ("done", "failed"), timeout=240)
    row = _job_row(stack, job_id)
    assert row["status"] == "running" and 0 < row["progress"] < n, row  # killed half-way, not after
    horse = int(row["worker"].split(":")[1])
    os.killpg(horse, signal.SIGKILL)  # the work horse and its tagging pool (its own process group)
    if whole_worker:
        stack.worker.kill()  # and the worker that forked it: nobody is left to report anything
    wait_for(lambda: not group_alive(horse), 30, "the killed work horse to be gone")
    return job_id


def test_worker_killed_during_an_import_leaves_nothing_and_the_job_says_so(stack):
    accounts = stack.accounts
    client = stack.login(accounts["usernames"]["operator"], accounts["password"])
    try:
        job_id = _kill_mid_import(stack, client, "KIL", 10000, whole_worker=True)
        # no half import: the rows written before the kill were never committed
        assert stack.database.scalar("SELECT count(*) FROM tickets WHERE number LIKE 'KIL%%'") == 0
        assert stack.database.scalar("SELECT count(*) FROM events WHERE note = 'big.csv'") == 0
        # the job page (polling /jobs/<id>.json) learns the worker is gone, at once, not in minutes
        status = client.get(f"/jobs/{job_id}.json").json()
        assert status["status"] == "failed" and status["message"] == INTERRUPTED, status
        page = client.get(f"/tickets/import/{job_id}").text
        assert INTERRUPTED in page and "失败" in page
        assert not any(stack.uploads.glob("tickets-*"))  # the uploaded file (callers' phones) is not kept
    finally:
        if not stack.worker.alive():
            stack.start_worker()
    # resubmitted, the same file imports completely
    job_id = start_import(client, "big.csv", tickets_csv("KIL", 10000))
    final = poll_job(client, job_id, lambda s: s["status"] in ("done", "failed"), timeout=240)[-1]
    assert final["status"] == "done", final
    assert stack.database.scalar("SELECT count(*) FROM tickets WHERE number LIKE 'KIL%%'") == 10000


def test_work_horse_killed_the_worker_marks_the_job_failed_and_carries_on(stack):
    accounts = stack.accounts
    client = stack.login(accounts["usernames"]["operator"], accounts["password"])
    worker_pid = stack.worker.popen.pid
    job_id = _kill_mid_import(stack, client, "HRS", 6000, whole_worker=False)
    # the RQ worker saw its work horse die and failed the job itself (no page needed to notice)
    wait_for(lambda: _job_row(stack, job_id)["status"] == "failed", 30, "the worker to fail the job")
    assert _job_row(stack, job_id)["message"] == INTERRUPTED
    assert stack.database.scalar("SELECT count(*) FROM tickets WHERE number LIKE 'HRS%%'") == 0
    assert stack.worker.alive() and stack.worker.popen.pid == worker_pid
    job_id = start_import(client, "small.csv", tickets_csv("HRS", 50))  # and it takes the next job
    assert poll_job(client, job_id, lambda s: s["status"] in ("done", "failed"))[-1]["status"] == "done"


def test_the_database_going_away_under_load_gives_503_then_recovers(stack):
    accounts = stack.accounts
    client = stack.login(accounts["usernames"]["operator"], accounts["password"])
    assert client.get("/tickets/").status == 200
    workers_before = stack.web_worker_pids()
    results: list[tuple[float, int, str]] = []
    stop = threading.Event()

    def load():
        while not stop.is_set():
            response = client.get("/tickets/")
            results.append((time.monotonic(), response.status, response.text))

    threads = [threading.Thread(target=load, daemon=True) for _ in range(4)]
    try:
        for thread in threads:
            thread.start()
        time.sleep(1.5)
        # "the database restarted": connections cut mid-request, then no connections for a while
        stack.database.allow_connections(False)
        cut = stack.database.terminate_connections()
        outage_started = time.monotonic()
        time.sleep(3)
        stack.database.allow_connections(True)
        back = time.monotonic()
        time.sleep(3)
    finally:
        stop.set()
        stack.database.allow_connections(True)
        for thread in threads:
            thread.join(timeout=30)
    assert cut >= 1
    statuses = [status for _, status, _ in results]
    log = stack.web.output()
    errors = log[log.find("Traceback"):][:4000] if "Traceback" in log else ""
    assert set(statuses) <= {200, 503}, (sorted(set(statuses)), errors)  # never a 500 or a traceback
    during = [(status, text) for at, status, text in results if outage_started + 0.5 < at < back]
    assert during and all(status == 503 for status, _ in during)
    failed = next(text for status, text in during if status == 503)
    assert "系统暂时不可用" in failed and "数据库暂时无法连接" in failed and "Traceback" not in failed
    recovered = [status for at, status, _ in results if at > back + 1.5]
    assert recovered and set(recovered) == {200}  # recovered by itself: no restart of the app
    assert stack.web_worker_pids() == workers_before
    assert "Traceback" not in stack.web.output()


def test_an_upload_over_the_limit_gets_the_413_page_through_gunicorn(stack):
    accounts = stack.accounts
    client = stack.login(accounts["usernames"]["operator"], accounts["password"])
    before = stack.database.scalar("SELECT count(*) FROM jobs")
    token = client.csrf_token("/tickets/import")
    response = client.post_file("/tickets/import", {"csrf_token": token}, "file", "huge.csv",
                                b"x" * (21 * 1024 * 1024))
    assert response.status == 413
    assert "文件太大" in response.text and "20 MB" in response.text and "未保存任何内容" in response.text
    assert stack.database.scalar("SELECT count(*) FROM jobs") == before
    assert not any(stack.uploads.glob("tickets-*"))
