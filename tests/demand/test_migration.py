"""Migration 0006 on each database: upgrades from empty, backfills local_day and the rollup from the
signals already there (in local time), and downgrades cleanly."""
import os
import uuid
from datetime import date

import pytest
from sqlalchemy import create_engine, inspect, text

from portal.config import normalise_database_url
from portal.extensions import db
from tests.conftest import make_test_app

SIGNALS = [  # occurred_at is naive UTC; 16:30 UTC is 00:30 the next day in Shanghai
    ("hotline", "1", "parking", "2026-11-15 16:30:00", False),
    ("hotline", "2", "parking", "2026-11-15 15:59:00", False),
    ("survey", "3", "parking", "2026-11-15 17:00:00", False),
    ("hotline", "4", "drainage", "2026-11-15 18:00:00", True),
    ("hotline", "5", "drainage", "2026-11-15 19:00:00", True),
]


def _databases():
    yield "sqlite"
    if os.environ.get("TEST_DATABASE_URL"):
        yield "postgresql"


@pytest.fixture(params=list(_databases()))
def fresh_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    base = normalise_database_url(os.environ["TEST_DATABASE_URL"])
    schema = f"mig_{uuid.uuid4().hex[:10]}"  # an empty schema inside the throw-away test database
    engine = create_engine(base)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    joiner = "&" if "?" in base else "?"
    yield f"{base}{joiner}options=-csearch_path%3D{schema}"
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


def test_0006_upgrades_from_empty_backfills_and_downgrades(fresh_url, tmp_path):
    from flask_migrate import downgrade, upgrade

    app = make_test_app(fresh_url, tmp_path)
    with app.app_context():
        upgrade(revision="0005_minutes")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO streets (id, name) VALUES (1, '和平街道')"))
            conn.execute(text("INSERT INTO communities (id, street_id, name) VALUES (1, 1, '桂花社区')"))
            conn.execute(text("INSERT INTO estates (id, community_id, street_id, name, aliases, address_patterns, household_count) "
                              "VALUES (1, 1, 1, '桂花苑', '[]', '[]', 100)"))
            for i, (source, record, theme, at, urgent) in enumerate(SIGNALS, start=1):
                conn.execute(text(
                    "INSERT INTO demand_signals (id, source, record_id, estate_id, street_id, theme, occurred_at, urgent, "
                    "weight, reporter_key, created_at) VALUES (:id, :source, :record, 1, 1, :theme, :at, :urgent, 1.0, 'k', :at)"),
                    {"id": i, "source": source, "record": record, "theme": theme, "at": at, "urgent": urgent})
        upgrade(revision="0006_demand_rollup")
        with db.engine.connect() as conn:
            days = dict(conn.execute(text("SELECT record_id, local_day FROM demand_signals")).all())
            rollup = {(str(d)[:10], t, s, bool(u)): n for d, t, s, u, n in conn.execute(text(
                "SELECT local_day, theme, source, urgent, n FROM demand_daily_counts"))}
        assert {k: str(v)[:10] for k, v in days.items()} == {
            "1": "2026-11-16", "2": "2026-11-15", "3": "2026-11-16", "4": "2026-11-16", "5": "2026-11-16"}
        assert rollup == {("2026-11-16", "parking", "hotline", False): 1, ("2026-11-15", "parking", "hotline", False): 1,
                          ("2026-11-16", "parking", "survey", False): 1, ("2026-11-16", "drainage", "hotline", True): 2}
        indexes = {i["name"] for i in inspect(db.engine).get_indexes("demand_signals")}
        assert {"ix_demand_signals_estate_day", "ix_demand_signals_theme_urgent_time"} <= indexes
        assert {i["name"] for i in inspect(db.engine).get_indexes("demand_daily_counts")} == {
            "ix_demand_daily_counts_day", "ix_demand_daily_counts_street_day", "ix_demand_daily_counts_theme_day"}

        downgrade(revision="0005_minutes")
        assert "demand_daily_counts" not in inspect(db.engine).get_table_names()
        assert "local_day" not in {c["name"] for c in inspect(db.engine).get_columns("demand_signals")}
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()


def test_local_day_default_when_rows_are_written_without_it(app):
    """Rows inserted without local_day (ORM or Core) get it from occurred_at."""
    from datetime import datetime

    from portal.demand.models import DemandSignal, SignalSource
    from tests.helpers import make_community, make_estate, make_street

    street = make_street()
    estate = make_estate(make_community(street))
    signal = DemandSignal(source=SignalSource.hotline, record_id="1", estate_id=estate.id, street_id=street.id,
                          theme="parking", occurred_at=datetime(2026, 11, 15, 16, 30), reporter_key="x")
    db.session.add(signal)
    db.session.commit()
    assert signal.local_day == date(2026, 11, 16)


def test_0009_backfills_the_monthly_and_street_daily_rollups_from_the_daily_one_and_downgrades(fresh_url, tmp_path):
    from flask_migrate import downgrade, upgrade

    app = make_test_app(fresh_url, tmp_path)
    with app.app_context():
        upgrade(revision="0008_projects")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO streets (id, name) VALUES (1, '和平街道')"))
            conn.execute(text("INSERT INTO communities (id, street_id, name) VALUES (1, 1, '桂花社区')"))
            conn.execute(text("INSERT INTO estates (id, community_id, street_id, name, aliases, address_patterns, household_count) "
                              "VALUES (1, 1, 1, '桂花苑', '[]', '[]', 100)"))
            rows = [("2026-10-31", "parking", "hotline", False, 2), ("2026-11-01", "parking", "hotline", True, 1),
                    ("2026-11-20", "parking", "survey", False, 3), ("2026-11-20", "parking", "survey", True, 1)]
            for day, theme, source, urgent, n in rows:
                conn.execute(text("INSERT INTO demand_daily_counts (estate_id, local_day, theme, source, urgent, street_id, n) "
                                  "VALUES (1, :day, :theme, :source, :urgent, 1, :n)"),
                             {"day": day, "theme": theme, "source": source, "urgent": urgent, "n": n})
        upgrade(revision="0009_demand_monthly")
        with db.engine.connect() as conn:
            got = {str(r.month)[:10]: (r.n, r.n_urgent, r.n_hotline, r.n_survey, r.n_urgent_hotline, r.n_urgent_survey)
                   for r in conn.execute(text("SELECT * FROM demand_monthly_counts"))}
            by_day = {str(r.local_day)[:10]: (r.n, r.n_urgent, r.n_survey, r.n_urgent_survey)
                      for r in conn.execute(text("SELECT * FROM demand_street_daily_counts"))}
        assert got == {"2026-10-01": (2, 0, 2, 0, 0, 0), "2026-11-01": (5, 2, 1, 4, 1, 1)}
        assert by_day == {"2026-10-31": (2, 0, 0, 0), "2026-11-01": (1, 1, 0, 0), "2026-11-20": (4, 1, 4, 1)}
        downgrade(revision="0008_projects")
        tables = inspect(db.engine).get_table_names()
        assert "demand_monthly_counts" not in tables and "demand_street_daily_counts" not in tables
        db.engine.dispose()
