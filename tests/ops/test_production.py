"""The production configuration, run for real: gunicorn with 2 workers, an RQ worker, PostgreSQL, Redis."""
from __future__ import annotations

import re
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from portal import create_app
from portal.config import ConfigError
from tests.helpers import csv_bytes
from tests.ops.stack import BIN, ROOT, Client, wait_for

pytestmark = [pytest.mark.ops, pytest.mark.tagging]

HEADER = ["工单编号", "受理时间", "来电人", "联系电话", "诉求地址", "诉求标题", "诉求内容", "诉求类型", "承办单位", "办理状态"]
CONTENTS = ["小区车位太少，晚上回来没地方停车", "楼道顶上漏水，下雨天家里滴水", "电梯老是坏，老人上下楼困难",
            "垃圾桶满了没人清运，味道很大", "路灯坏了好几天，晚上很黑不安全"]


def tickets_csv(prefix: str, n: int) -> bytes:
    rows = [[f"{prefix}{i:06d}", "2024-03-05 09:12", "张先生", "13812345678", f"桂花路{20 + i % 10}号桂花苑",
             "", CONTENTS[i % len(CONTENTS)] + f"（第{i}号）", "投诉", "和平街道", "已受理"] for i in range(n)]
    return csv_bytes([HEADER, *rows])


def start_import(client: Client, filename: str, data: bytes) -> int:
    token = client.csrf_token("/tickets/import")
    response = client.post_file("/tickets/import", {"csrf_token": token}, "file", filename, data)
    assert response.status == 302, (response.status, response.text[:500])
    return int(re.search(r"/tickets/import/(\d+)$", response.headers["location"]).group(1))


def poll_job(client: Client, job_id: int, until, timeout: float = 180) -> list[dict]:
    seen = []

    def check():
        status = client.get(f"/jobs/{job_id}.json").json()
        seen.append(status)
        return until(status)

    wait_for(check, timeout, f"job {job_id}", interval=0.1)
    return seen


# --- configuration ------------------------------------------------------------------------------------

def test_production_refuses_to_start_without_a_secret_key(tmp_path, monkeypatch):
    monkeypatch.setenv("MINSHENG_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="必须设置 SECRET_KEY"):
        create_app({"INSTANCE_PATH": str(tmp_path)})
    monkeypatch.setenv("SECRET_KEY", "too-short")
    with pytest.raises(ConfigError, match="至少 32 个字符"):
        create_app({"INSTANCE_PATH": str(tmp_path)})
    assert not (tmp_path / "secret_key").exists()  # never falls back to a per-process generated key
    monkeypatch.setenv("SECRET_KEY", "k" * 32)
    assert create_app({"INSTANCE_PATH": str(tmp_path)}).config["SECRET_KEY"] == "k" * 32


def test_gunicorn_refuses_to_start_without_a_secret_key(tmp_path):
    env = {"PATH": str(BIN) + ":/usr/bin:/bin", "MINSHENG_INSTANCE": str(tmp_path), "HOME": str(tmp_path)}
    result = subprocess.run([str(BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "--bind", "127.0.0.1:0"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "民声无法启动" in result.stderr and "SECRET_KEY" in result.stderr
    assert "Booting worker" not in result.stderr  # refused in the master, before any fork


def test_engine_options_for_postgresql_fail_fast_and_ping(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db:5432/minsheng")
    options = create_app({"INSTANCE_PATH": str(tmp_path)}).config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["pool_pre_ping"] is True and options["connect_args"] == {"connect_timeout": 5}
    monkeypatch.delenv("DATABASE_URL")
    assert create_app({"INSTANCE_PATH": str(tmp_path)}).config["SQLALCHEMY_ENGINE_OPTIONS"] == {"pool_pre_ping": True}


# --- the running stack --------------------------------------------------------------------------------

def test_background_import_through_gunicorn_and_the_rq_worker(stack):
    accounts = stack.accounts
    client = stack.login(accounts["usernames"]["operator"], accounts["password"])
    job_id = start_import(client, "hotline.csv", tickets_csv("OPS", 2500))
    seen = poll_job(client, job_id, lambda s: s["status"] in ("done", "failed"))
    final = seen[-1]
    assert final["status"] == "done", final
    assert final["percent"] == 100 and final["progress"] == final["total"] == 2500
    assert final["result"]["imported"] == 2500
    assert {s["status"] for s in seen} <= {"queued", "running", "done"}
    page = client.get(f"/tickets/import/{job_id}").text
    assert "导入完成：新增 2500 件" in page
    assert stack.database.scalar("SELECT count(*) FROM tickets WHERE number LIKE 'OPS%%'") == 2500
    # the RQ worker ran it (another process than gunicorn's), and the upload is gone afterwards
    worker = stack.database.scalar("SELECT worker FROM jobs WHERE id = %s", job_id)
    assert int(worker.split(":")[1]) not in stack.web_worker_pids() | {stack.web.popen.pid}
    assert not any(stack.uploads.glob("tickets-*"))
    # a session made by one worker is good on the other: the same SECRET_KEY everywhere
    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(lambda _: client.get(f"/jobs/{job_id}.json").status, range(12)))
    assert statuses == [200] * 12
    served = [line for line in stack.web.output().splitlines() if f'"GET /jobs/{job_id}.json HTTP/1.1" 200' in line]
    assert len({re.search(r"pid=<(\d+)>", line).group(1) for line in served[-12:]}) == 2


def test_the_login_rate_limit_is_shared_by_all_gunicorn_workers(stack, ops_redis):
    stack.reset_rate_limits()
    client = Client(stack.base_url)
    token = client.csrf_token("/login")
    started = time.time()
    form = {"csrf_token": token, "username": "nobody-here", "password": "wrong"}
    with ThreadPoolExecutor(max_workers=8) as pool:  # concurrent, so both sync workers take some
        statuses = list(pool.map(lambda _: client.post("/login", form).status, range(16)))
    # each worker counting alone would let up to 2 x 10 through; shared in Redis, exactly 10 pass
    assert statuses.count(429) == 6 and statuses.count(200) == 10, statuses
    assert any(ops_redis.scan_iter("LIMITS*"))
    served = [line for line in stack.web.output().splitlines() if '"POST /login HTTP/1.1" 200' in line]
    pids = {re.search(r"pid=<(\d+)>", line).group(1) for line in served[-10:]}
    assert len(pids) == 2, f"all 10 accepted attempts went to one worker ({pids}); the test proves nothing"
    assert time.time() - started < 60  # all within the one-minute window
