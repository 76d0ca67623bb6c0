"""Fixtures for the production-stack tests (marked `ops`).

They need PostgreSQL and Redis on this machine. When either is really unavailable the tests skip with the
reason; under CI (CI=true) they fail instead, so CI cannot pass without having run them.
"""
from __future__ import annotations

import os

import pytest

from tests.ops.stack import ScratchDatabase, Stack, Unavailable, check_postgres, check_redis


def _unavailable(reason: str):
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI must run the ops tests, but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def ops_services():
    try:
        return check_postgres(), check_redis()
    except Unavailable as exc:
        _unavailable(str(exc))


@pytest.fixture(scope="session")
def ops_redis(ops_services):
    from redis import Redis

    redis = Redis.from_url(ops_services[1])
    redis.flushdb()  # only this suite's db number
    yield redis
    redis.flushdb()


def seed(database_url: str, instance: str) -> dict:
    """Places and accounts, written through the test builders (fast password hashes)."""
    from portal import create_app
    from portal.accounts.models import Role
    from portal.extensions import db
    from tests.helpers import PASSWORD, make_community, make_estate, make_street, make_user

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "seed", "INSTANCE_PATH": instance})
    with app.app_context():
        heping = make_street("和平街道")
        make_estate(make_community(heping, "桂花社区"), "桂花苑", address_patterns=["桂花路18-36号"])
        users = {"operator": make_user(Role.operator, username="ops-operator"),
                 "admin": make_user(Role.district_admin, username="ops-admin")}
        names = {key: user.username for key, user in users.items()}
        db.session.remove()
        db.engine.dispose()
    return {"usernames": names, "password": PASSWORD}


@pytest.fixture(scope="session")
def stack(ops_services, ops_redis, tmp_path_factory, theme_model_path):
    """gunicorn (2 workers) and an RQ worker on a scratch PostgreSQL database, migrated by `flask db upgrade`."""
    database = ScratchDatabase(ops_services[0])
    workdir = tmp_path_factory.mktemp("ops")
    database.create()
    running = Stack(database=database, redis_url=ops_services[1], workdir=workdir, model_path=theme_model_path)
    try:
        migrated = running.flask("db", "upgrade")
        assert migrated.returncode == 0, migrated.stderr[-3000:]
        running.accounts = seed(database.sqlalchemy_url, str(workdir / "instance"))
        running.start_web(workers=2)
        running.start_worker()
        yield running
    finally:
        running.stop()
        database.drop()
