"""A queued job whose RQ job Redis lost (restarted without persistence, flushed) is marked failed with a
message instead of showing 排队中 forever; one still on the queue is left alone, and so is every queued job
when Redis is away or not configured. Redis db 15 is this module's own, flushed before and after."""
import os

import pytest

from portal.extensions import db
from portal.jobs import services as jobs
from portal.jobs.models import Job, JobStatus
from tests.helpers import make_user
from tests.jobs.support import scratch_redis

REDIS_URL = os.environ.get("LOST_JOB_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
TASK = "portal.review.tasks:retrain_task"  # never runs here: no worker works this queue


@pytest.fixture
def redis():
    yield from scratch_redis(REDIS_URL)  # db 15 belongs to this module


@pytest.fixture
def app_config():
    return {"JOBS_INLINE": False, "REDIS_URL": REDIS_URL, "JOB_QUEUED_GRACE_SECONDS": 0}


def _queued_job() -> Job:
    job = jobs.create_job(make_user(), "retrain", {})
    jobs.enqueue(job, TASK)
    return job


def test_a_job_still_on_the_queue_is_left_queued(app, redis):
    job = _queued_job()
    assert redis.exists(f"rq:job:{jobs.queue_id_of(job)}")
    assert jobs.reap_stale_jobs() == []
    assert db.session.get(Job, job.id).status == JobStatus.queued


def test_a_job_redis_lost_is_failed_with_a_message(app, redis):
    job, other = _queued_job(), _queued_job()
    redis.delete(f"rq:job:{jobs.queue_id_of(job)}")  # as after a Redis restart that kept nothing
    assert jobs.reap_stale_jobs() == [job.id]
    db.session.expire_all()
    lost = db.session.get(Job, job.id)
    assert lost.status == JobStatus.failed and lost.message == jobs.LOST_FROM_QUEUE and lost.finished_at
    assert db.session.get(Job, other.id).status == JobStatus.queued


def test_within_the_grace_period_nothing_is_judged(app, redis):
    app.config["JOB_QUEUED_GRACE_SECONDS"] = 3600
    job = _queued_job()
    redis.delete(f"rq:job:{jobs.queue_id_of(job)}")
    assert jobs.reap_stale_jobs() == []
    assert db.session.get(Job, job.id).status == JobStatus.queued


def test_redis_away_or_not_configured_fails_nothing(app, redis):
    job = _queued_job()
    redis.delete(f"rq:job:{jobs.queue_id_of(job)}")
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
    assert jobs.reap_stale_jobs() == []
    app.config["REDIS_URL"] = None
    assert jobs.reap_stale_jobs() == []
    assert db.session.get(Job, job.id).status == JobStatus.queued
