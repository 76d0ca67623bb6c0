"""Smoke test of the city-scale benchmark (bench/city.py --small, cut down further): on a scratch
PostgreSQL database it loads the district, measures every row of the table, drives the real resident
flow through gunicorn with locust (CSRF on), and drops the database again.

Needs a PostgreSQL server on 127.0.0.1 (as .ci/run starts) and the theme model; skipped otherwise.
It takes about a minute on the 2-core machine, so it runs only when TEST_DATABASE_URL is set
(the PostgreSQL half of `.ci/run`), not in a SQLite-only `make test`.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from nlp.tagger import default_model_path  # noqa: E402

needs_postgres = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL") or shutil.which("createdb") is None,
    reason="the city benchmark needs PostgreSQL (TEST_DATABASE_URL) and createdb")
needs_model = pytest.mark.skipif(not Path(default_model_path()).exists(),
                                 reason="the shipped theme model is missing (make model)")


def databases() -> set[str]:
    out = subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "SELECT datname FROM pg_database"],
                         capture_output=True, text=True, check=True).stdout
    return {line for line in out.splitlines() if line.startswith("minsheng_bench_city_")}


@needs_postgres
@needs_model
def test_city_benchmark_small(tmp_path):
    before = databases()
    out = tmp_path / "city.json"
    sizes = ["--tickets", "6000", "--responses", "600", "--estates", "40", "--projects", "30", "--import-rows", "300",
             "--tag-texts", "200", "--requests", "2", "--runs", "1", "--flows", "40", "--clients", "20",
             "--workers", "2", "--load-cap", "240"]
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "city.py"), "--small", *sizes, "--json", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    assert databases() == before  # the scratch database is dropped again

    data = report["data"]
    assert data["tickets"] == 6000 and data["estates"] == 40
    assert data["responses"] >= 600 and data["surveys"] > 0 and data["projects"] >= 30
    assert data["signals"] > data["tickets"]  # one signal per theme, 1–2 themes a ticket, plus survey answers
    assert data["daily_rollup"] > 0 and data["monthly_rollup"] > 0

    assert report["import"]["imported"] == 300 and report["import"]["tickets_per_s"] > 0
    assert report["tagging"]["per_s_1"] > 0 and report["tagging"]["per_s_2"] > 0
    assert {(d["user"], d["case"]) for d in report["dashboard"]} >= {("admin", "default (last 90 days)"),
                                                                     ("heping", "street filter")}
    assert all(d["p95_ms"] >= d["p50_ms"] > 0 for d in report["dashboard"])
    ranking = report["ranking"]
    assert ranking["candidates"] > 0 and ranking["rank_p50_ms"] > 0 and ranking["plan_p50_ms"] > 0
    pages = {page["page"]: page for page in report["pages"]}
    assert {"ticket page", "ranking page", "demand gaps, district", "survey results, biggest"} <= set(pages)
    assert all(page["p95_ms"] >= page["p50_ms"] > 0 and page["kb"] > 0 for page in pages.values())

    submissions = report["submissions"]
    assert submissions["csrf"] == "on" and "RATELIMIT_ENABLED=False" in submissions["rate_limits"]
    (run,) = submissions["runs"]
    assert run["households"] == 40 and run["unfinished"] == 0 and run["submissions_per_s"] > 0
    # Every resident's flow reaches the thank-you page (concurrent writers of one estate-day wait on each
    # other's rollup lock instead of failing) and is stored exactly once, new or replacing.
    assert run["errors"] == [] and run["flows_ok"] == 40
    assert submissions["new_responses"] + submissions["replaced_responses"] == run["flows_ok"]
    assert submissions["server_tracebacks"] == []  # no 500s
