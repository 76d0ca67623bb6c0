"""Helpers for the export-job tests (tickets, audit, jobs)."""
from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

from flask import g
from flask.testing import FlaskClient
from openpyxl import load_workbook

from portal.extensions import db
from portal.jobs.models import Job


class FreshUserClient(FlaskClient):
    """The test's app context outlives each request and Flask-Login caches the user in `g` there:
    forget it so clients of different users do not see each other's login."""

    def open(self, *args, **kwargs):
        g.pop("_login_user", None)
        return super().open(*args, **kwargs)


def xlsx_rows(data: bytes) -> list[tuple]:
    return list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))


def xlsx_book(data: bytes) -> dict:
    """Every sheet of a workbook as it reads back: names in order, each cell's value and boldness, column widths."""
    book = load_workbook(io.BytesIO(data))
    return {"sheets": book.sheetnames,
            **{sheet.title: [[(c.value, bool(c.font.b)) for c in row] for row in sheet.iter_rows()] for sheet in book},
            **{f"{sheet.title} widths": {k: d.width for k, d in sheet.column_dimensions.items() if d.customWidth}
               for sheet in book}}


def export_files(app) -> list[Path]:
    directory = Path(app.instance_path) / "exports"
    return sorted(directory.iterdir()) if directory.is_dir() else []


def job_of(response) -> Job:
    """The job a queued export redirected to."""
    assert response.status_code == 302, response.status_code
    match = re.search(r"/jobs/(\d+)$", response.headers["Location"])
    assert match, response.headers["Location"]
    db.session.expire_all()
    return db.session.get(Job, int(match.group(1)))


def jobs() -> list[Job]:
    db.session.expire_all()
    return db.session.scalars(db.select(Job).order_by(Job.id)).all()


def scratch_redis(url: str):
    """For a fixture: the Redis db `url` names, which the calling test module owns, flushed before and after.
    Skips when Redis is not running, except under CI (which starts one)."""
    import pytest
    from redis import Redis
    from redis.exceptions import ConnectionError as RedisDown

    connection = Redis.from_url(url)
    try:
        connection.ping()
    except RedisDown:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"Redis is not running at {url}")
    connection.flushdb()
    yield connection
    connection.flushdb()


ROOT = Path(__file__).resolve().parents[2]


def work_the_queue(app, database_url: str, redis_url: str) -> subprocess.CompletedProcess:
    """Runs `flask jobs worker --burst` (a real RQ worker process) on the app's database and instance until the
    queue is empty; asserts it exits cleanly."""
    db.session.commit()  # nothing of the test's is left uncommitted for the worker to wait on
    env = {k: v for k, v in os.environ.items() if k not in ("MINSHENG_ENV",)}
    env.update(DATABASE_URL=database_url, REDIS_URL=redis_url, MINSHENG_INSTANCE=app.instance_path,
               SECRET_KEY="burst-worker-test-" + "x" * 32, PYTHONUNBUFFERED="1")
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker", "--burst"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    db.session.expire_all()
    return done
