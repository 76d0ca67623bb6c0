"""Shared set-up for benchmarks: a throw-away app on SQLite (default) or a given PostgreSQL URL."""
from __future__ import annotations

import os
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


@contextmanager
def bench_app(database_url: str | None = None, *, reuse: bool = False, **config):
    """An app with the schema built by the real migrations and the demo district loaded. With `reuse`, the
    database named is kept as it is (only migrated up), for re-measuring data an earlier run kept."""
    from flask_migrate import upgrade

    from portal import create_app
    from portal.demo import build_demo
    from portal.extensions import db

    with tempfile.TemporaryDirectory(prefix="minsheng-bench-") as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "INSTANCE_PATH": tmp, **config})
        with app.app_context():
            if reuse:
                upgrade()
                yield app
                db.session.remove()
                db.engine.dispose()
                return
            if database_url:  # start from an empty schema in the database named
                db.drop_all()
                with db.engine.begin() as conn:
                    conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
            upgrade()
            build_demo()
            yield app
            db.session.remove()
            db.engine.dispose()


def machine() -> str:
    import platform

    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.node() or 'host'}: {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"
