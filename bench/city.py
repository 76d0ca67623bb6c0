"""City-scale benchmark: one district with 300 estates, 1,000,000 hotline tickets over two years and
50,000 survey responses, on PostgreSQL.

    .venv/bin/python bench/city.py [--small] [--json PATH] [--keep | --reuse DATABASE]

Creates a scratch database (createdb -h 127.0.0.1 -U postgres minsheng_bench_city_<pid>), builds the
schema by the real migrations and the demo district, then loads with COPY:
- streets, communities and estates up to --estates, with rosters (households) for the added estates;
- --tickets hotline tickets over two years with their themes and demand signals, exactly what the
  importer would write for a placed ticket (one signal per theme, the caller's phone as reporter);
- surveys over about a third of the estates (made through the survey services, so questions are real),
  --responses responses with answers (consent, the renovation checklist, a score, some free text) and the
  survey signals the answers give; a quarter of the surveys are open today;
- --projects projects through the project services (some linked to the surveys as their consent vote);
then rebuilds the rollups (portal.demand.services.rebuild_rollup) and runs VACUUM ANALYZE.

It measures, into one table:
- import: the real importer (portal.tickets.importer.import_tickets) on an --import-rows .xlsx, into
  this big database;
- tagging: Tagger.tag_batch on 1 and on 2 processes (the approach of bench/nlp_speed.py);
- dashboard p50/p95 through the Flask test client, as district_admin and as 和平街道's staff;
- ranking: scoring.rank over every project and plan.annual_plan for a budget of a third of the
  candidates' cost (the first, cold run, and p50 over --runs runs);
- survey submissions with --clients concurrent residents (locust, bench/survey_load.py) against
  gunicorn (--workers workers) on loopback, CSRF on, rate limits off (RATELIMIT_ENABLED=False: 50
  residents from one address would otherwise hit the per-address limits at once). The households
  driven get cheap code hashes (pbkdf2, 1,000 rounds); a second, shorter run (--real-code-flows) uses
  the app's own slow default hash, which is what production pays for every code check.

The machine has 2 cores shared with other work: the load average is printed before and after.
--small (20k tickets, 2k responses) runs in about two minutes; tests/bench/test_city_small.py uses it.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from common import ROOT, bench_app, machine
from demand_dashboard import DEFAULT_TEXTS, PG, TAILS, TEXTS, THEME_WEIGHTS, add_places, copy_rows, percentile, sh

BENCH = Path(__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent
SHARED_DATA = ROOT.parent / "shared" / "data"
CHUNK = 100_000
STATUSES = [("resolved", 60), ("callback", 15), ("in_progress", 8), ("dispatched", 8), ("received", 5),
            ("returned", 4)]
REQUEST_TYPES = [("投诉", 50), ("求助", 20), ("咨询", 15), ("建议", 10), ("举报", 5)]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
BENCH_CODE = "246810"
CHEAP_HASH = "pbkdf2:sha256:1000"  # like tests/surveys/builders.give_code
FULL = {"tickets": 1_000_000, "responses": 50_000, "estates": 300, "projects": 300, "import_rows": 20_000,
        "tag_texts": 4000, "requests": 20, "runs": 5, "flows": 1000, "real_code_flows": 150}
SMALL = {"tickets": 20_000, "responses": 2_000, "estates": 60, "projects": 60, "import_rows": 1_000,
         "tag_texts": 400, "requests": 4, "runs": 3, "flows": 150, "real_code_flows": 0}


def loadavg() -> str:
    try:
        return " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        return "unknown"


# --- the data -------------------------------------------------------------------------------------

def add_households(db, estates, rng: random.Random) -> int:
    """Rosters for the estates that have none (the demo's have theirs), as the roster import stores them:
    walk-up blocks of 6 floors, 2 flats a landing, normalised labels ("3", "2", "301")."""
    from sqlalchemy import func, select

    from portal.areas.models import Household
    from portal.demo import fake_id_number

    have = set(db.session.scalars(select(Household.estate_id).group_by(Household.estate_id)))
    rows = []
    for estate in estates:
        if estate.id in have:
            continue
        per_building = 2 * 12 if estate.household_count < 120 else 3 * 12
        owners: list[str] = []
        for index in range(estate.household_count):
            building = index // per_building + 1
            unit = (index // 12) % (per_building // 12) + 1
            room = f"{(index % 12) // 2 + 1}0{index % 2 + 1}"
            if owners and rng.random() < 0.05:
                owner = rng.choice(owners)  # one owner, several flats
            else:
                owner = fake_id_number(rng) if rng.random() < 0.85 else None
                if owner:
                    owners.append(owner)
            area = Decimal(55 + rng.randint(-8, 30)) + Decimal(rng.randint(0, 99)) / 100
            rows.append((estate.id, str(building), str(unit), room, area,
                         "tenant" if rng.random() < 0.06 else "owner", owner, None))
    copy_rows(db, "households", ["estate_id", "building", "unit", "room", "area_m2", "occupancy",
                                 "owner_id_number", "access_code_hash"], rows)
    return db.session.scalar(select(func.count()).select_from(Household))


def ticket_chunks(estates, n_tickets: int, today: date, rng: random.Random, streets: dict[int, str]):
    """(tickets, ticket_themes, signals) tuples for COPY, CHUNK tickets at a time. A ticket has 1–2 themes;
    1.5% could not be placed (no estate, no signal); a few estates have a burst in the last week."""
    from portal.core.workdays import to_utc_naive
    from portal.demand.models import local_day_of
    from portal.demand.services import reporter_key

    themes, weights = zip(*THEME_WEIGHTS.items())
    statuses, status_weights = zip(*STATUSES)
    kinds, kind_weights = zip(*REQUEST_TYPES)
    from itertools import accumulate

    estate_cum = list(accumulate(e.household_count for e in estates))  # cum_weights: no re-summing per draw
    theme_cum = list(accumulate(weights))
    start = datetime.combine(today - timedelta(days=729), datetime.min.time())
    minutes_span = 730 * 24 * 60 - 1
    bursts = [(rng.choice(estates), rng.choice(themes[:6])) for _ in range(6)]
    callers = [f"13{rng.randint(100000000, 999999999)}" for _ in range(max(1000, n_tickets // 3))]
    keys: dict[str, str] = {}
    now = datetime.utcnow()
    record = 0
    while record < n_tickets:
        tickets, theme_rows, signals = [], [], []
        for _ in range(min(CHUNK, n_tickets - record)):
            record += 1
            burst = bursts[record % len(bursts)] if record <= 6 * 20 else None
            if burst:
                estate, first = burst
                local = (datetime.combine(today, datetime.min.time())
                         - timedelta(minutes=rng.randint(60, 6 * 24 * 60)))
                chosen = [first]
            else:
                estate = rng.choices(estates, cum_weights=estate_cum)[0]
                local = start + timedelta(minutes=int(minutes_span * rng.random() ** 0.8))  # demand grows
                chosen = list(dict.fromkeys(rng.choices(themes, cum_weights=theme_cum, k=1 if rng.random() < 0.7 else 2)))
                if "other" in chosen:
                    chosen = ["other"]
            received = to_utc_naive(local)
            status = "received" if local > datetime.combine(today, datetime.min.time()) - timedelta(days=2) \
                else rng.choices(statuses, status_weights)[0]
            placed = burst is not None or rng.random() >= 0.015
            phone = rng.choice(callers)
            urgent = rng.random() < 0.08
            text = rng.choice(TEXTS.get(chosen[0], DEFAULT_TEXTS)) + rng.choice(TAILS)
            done = status in ("resolved", "callback")
            tickets.append((
                record, f"C{record:09d}", "import", received, rng.choice(SURNAMES) + "先生", phone,
                f"{estate.name}{rng.randint(1, 12)}栋", text[:12], f"来电人反映{estate.name}{text}",
                rng.choices(kinds, kind_weights)[0], streets[estate.street_id], status,
                estate.street_id if placed else None, estate.id if placed else None, 0.92 if placed else None,
                not placed, json.dumps(chosen), json.dumps({chosen[0]: 0.81}), urgent, rng.random() < 0.04,
                False, "bench", None if status == "received" else received + timedelta(hours=2),
                received + timedelta(days=rng.randint(1, 9)) if done else None,
                rng.choice(["满意", "基本满意", "不满意"]) if done else None, now, now))
            theme_rows.extend((record, code, rank) for rank, code in enumerate(chosen))
            if placed:
                reporter = keys.get(phone) or keys.setdefault(phone, reporter_key("phone", phone))
                day = local_day_of(received)
                signals.extend(("hotline", str(record), estate.id, estate.street_id, code, received, day, urgent,
                                1.0, reporter, "bench", now) for code in chosen)
        yield tickets, theme_rows, signals


TICKET_COLUMNS = ["id", "number", "source", "received_at", "caller_name", "caller_phone", "address", "title",
                  "content", "request_type", "handling_unit", "status", "street_id", "estate_id",
                  "estate_confidence", "needs_placement", "themes", "theme_scores", "urgent", "needs_review",
                  "tags_confirmed", "model_version", "dispatched_at", "resolved_at", "satisfaction", "created_at",
                  "updated_at"]
SIGNAL_COLUMNS = ["source", "record_id", "estate_id", "street_id", "theme", "occurred_at", "local_day", "urgent",
                  "weight", "reporter_key", "model_version", "created_at"]


def load_tickets(db, estates, n_tickets: int, today: date, rng: random.Random) -> tuple[int, int]:
    from sqlalchemy import select, text

    from portal.areas.models import Street

    streets = dict(db.session.execute(select(Street.id, Street.name)).all())
    n_signals = 0
    for tickets, theme_rows, signals in ticket_chunks(estates, n_tickets, today, rng, streets):
        copy_rows(db, "tickets", TICKET_COLUMNS, tickets)
        copy_rows(db, "ticket_themes", ["ticket_id", "theme", "rank"], theme_rows)
        copy_rows(db, "demand_signals", SIGNAL_COLUMNS, signals)
        n_signals += len(signals)
    with db.engine.begin() as conn:
        conn.execute(text("SELECT setval('tickets_id_seq', (SELECT max(id) FROM tickets))"))
    return n_tickets, n_signals


def make_surveys(db, admin, estates, target_responses: int, today: date, rng: random.Random):
    """One survey per chosen estate, through the survey services; every fourth is open today.
    Returns [(survey, estate, open, question ids by kind)]."""
    from portal.surveys import services
    from portal.surveys.models import MatterType, QuestionKind, TallyScope

    chosen, expected = [], 0.0
    for estate in rng.sample(estates, len(estates)):
        if expected >= target_responses * 1.1:
            break
        is_open = len(chosen) % 4 == 3
        chosen.append((estate, is_open))
        expected += estate.household_count * (0.45 if is_open else 0.8)
    made = []
    for estate, is_open in chosen:
        if is_open:
            opens, closes = today - timedelta(days=10), today + timedelta(days=20)
        else:
            opens = today - timedelta(days=rng.randint(40, 700))
            closes = opens + timedelta(days=30)
        survey = services.create_survey(admin, services.SurveyInput(
            title=f"{estate.name}改造意愿调查", estate_ids=[estate.id], matter_type=MatterType.major,
            tally_scope=TallyScope.estate, opens_on=opens, closes_on=closes, intro="基准测试调查"))
        services.add_question(admin, survey, services.QuestionInput(
            kind=QuestionKind.consent, text="您是否同意本小区实施老旧小区综合改造？"))
        services.add_preset_question(admin, survey)
        services.add_question(admin, survey, services.QuestionInput(
            kind=QuestionKind.scale, text="您对小区现状的满意程度", scale_low="很不满意", scale_high="很满意"))
        services.add_question(admin, survey, services.QuestionInput(
            kind=QuestionKind.text, text="您还有什么意见和建议？", required=False))
        made.append((survey, estate, is_open))
    return made


def load_responses(db, admin, made, target: int, rng: random.Random) -> tuple[int, int, int]:
    """Responses, answers and survey signals (COPY), consistent with what submit_response writes."""
    from sqlalchemy import select, text

    from portal.areas.models import Household
    from portal.core.time import utcnow
    from portal.core.workdays import to_local, to_utc_naive
    from portal.demand.models import local_day_of
    from portal.demand.services import reporter_key
    from portal.surveys.models import QuestionKind

    themes = list(THEME_WEIGHTS)
    candidates = []
    for survey, estate, is_open in made:
        ids = db.session.scalars(select(Household.id).where(Household.estate_id == estate.id)).all()
        rate = 0.45 if is_open else 0.8
        candidates += [(survey, estate, is_open, hid) for hid in ids if rng.random() < rate]
    rng.shuffle(candidates)
    candidates = candidates[:target]
    next_response = (db.session.scalar(text("SELECT coalesce(max(id), 0) FROM survey_responses")) or 0) + 1
    next_answer = (db.session.scalar(text("SELECT coalesce(max(id), 0) FROM survey_answers")) or 0) + 1
    yes_rate = {survey.id: rng.uniform(0.55, 0.95) for survey, _, _ in made}
    questions = {survey.id: {q.kind: q for q in survey.questions} for survey, _, _ in made}
    now = datetime.utcnow()
    local_now = to_local(utcnow()).replace(tzinfo=None)
    responses, answers, signals = [], [], []
    for survey, estate, is_open, hid in candidates:
        qs = questions[survey.id]
        opened = datetime.combine(survey.opens_on, datetime.min.time())
        span = ((local_now - opened) if is_open else timedelta(days=30)).total_seconds()
        submitted = to_utc_naive(opened + timedelta(seconds=rng.random() * span * 0.98))
        paper = rng.random() < 0.1
        rid = next_response
        next_response += 1
        responses.append((rid, survey.id, hid, estate.id, "paper" if paper else "online", 1, submitted,
                          admin.id if paper else None, submitted))
        reporter = reporter_key("household", hid)
        day = local_day_of(submitted)
        vote = 0 if rng.random() < yes_rate[survey.id] else rng.choice([1, 1, 2])
        answers.append((next_answer, rid, survey.id, qs[QuestionKind.consent].id, json.dumps([vote]), None, None,
                        "[]", False, False, False, None))
        next_answer += 1
        checklist = qs[QuestionKind.multiple]
        picked = sorted(rng.sample(range(len(checklist.options)), rng.randint(1, 4)))
        answers.append((next_answer, rid, survey.id, checklist.id, json.dumps(picked), None, None, "[]", False,
                        False, False, None))
        for code in dict.fromkeys(checklist.options[i]["theme"] for i in picked if checklist.options[i].get("theme")):
            signals.append(("survey", str(next_answer), estate.id, estate.street_id, code, submitted, day, False,
                            1.0, reporter, None, now))
        next_answer += 1
        answers.append((next_answer, rid, survey.id, qs[QuestionKind.scale].id, "[]", rng.randint(1, 5), None, "[]",
                        False, False, False, None))
        next_answer += 1
        if rng.random() < 0.25:
            theme = rng.choice(themes[:6])
            urgent = rng.random() < 0.05
            answers.append((next_answer, rid, survey.id, qs[QuestionKind.text].id, "[]", None,
                            rng.choice(TEXTS[theme]) + rng.choice(TAILS), json.dumps([theme]), urgent,
                            rng.random() < 0.1, False, "bench"))
            signals.append(("survey", str(next_answer), estate.id, estate.street_id, theme, submitted, day, urgent,
                            1.0, reporter, "bench", now))
            next_answer += 1
    copy_rows(db, "survey_responses", ["id", "survey_id", "household_id", "estate_id", "channel", "version",
                                       "submitted_at", "entered_by_id", "created_at"], responses)
    copy_rows(db, "survey_answers", ["id", "response_id", "survey_id", "question_id", "choices", "number", "text",
                                     "themes", "urgent", "needs_review", "tags_confirmed", "model_version"], answers)
    copy_rows(db, "demand_signals", SIGNAL_COLUMNS, signals)
    with db.engine.begin() as conn:
        conn.execute(text("SELECT setval('survey_responses_id_seq', (SELECT max(id) FROM survey_responses))"))
        conn.execute(text("SELECT setval('survey_answers_id_seq', (SELECT max(id) FROM survey_answers))"))
    return len(responses), len(answers), len(signals)


BASIC = {"drainage", "water_supply", "gas", "heating", "power", "building_safety", "lighting", "roads",
         "fire_safety", "security", "sanitation"}
ENHANCE = {"elderly_care", "childcare"}
PROJECT_WORDS = {"parking": "停车设施改造", "drainage": "雨污分流改造", "building_safety": "屋面外墙修缮",
                 "ev_charging": "充电设施建设", "elevator": "加装电梯", "water_supply": "二次供水改造",
                 "lighting": "路灯楼道灯改造", "greening": "绿化和活动场地提升", "elderly_care": "老年助餐点",
                 "fire_safety": "消防设施改造", "sanitation": "垃圾分类设施", "roads": "道路修补"}


def make_projects(db, admin, estates, made, n_projects: int, today: date, rng: random.Random) -> int:
    """Projects through the project services: mostly 储备/入库 (the ranking's candidates), some under way
    or done; about a third of those on a surveyed estate are linked to its survey as the consent vote."""
    from portal.projects import services as projects
    from portal.projects.models import ProjectStatus

    survey_of = {estate.id: survey for survey, estate, is_open in made if not is_open}
    by_community: dict[int, list] = {}
    for estate in estates:
        by_community.setdefault(estate.community_id, []).append(estate)
    themes, weights = zip(*[(t, w) for t, w in THEME_WEIGHTS.items() if t in PROJECT_WORDS])
    for i in range(n_projects):
        first = rng.choice(estates)
        group = [first] + ([rng.choice(by_community[first.community_id])] if rng.random() < 0.2 else [])
        group = list({e.id: e for e in group}.values())
        chosen = list(dict.fromkeys(rng.choices(themes, weights, k=rng.randint(1, 3))))
        category = ("basic" if chosen[0] in BASIC else "enhance" if chosen[0] in ENHANCE else "improve")
        survey = survey_of.get(first.id) if rng.random() < 0.35 else None
        status = rng.choices(["proposed", "approved", "in_progress", "completed"], [45, 25, 15, 15])[0]
        started = completed = None
        if status == "in_progress":
            started = today - timedelta(days=rng.randint(20, 300))
        elif status == "completed":
            started = today - timedelta(days=rng.randint(400, 650))
            completed = started + timedelta(days=rng.randint(60, 200))
        projects.create_project(admin, projects.ProjectInput(
            name=f"{first.name}{PROJECT_WORDS[chosen[0]]}（{i + 1:03d}）", estate_ids=[e.id for e in group],
            themes=chosen, category=category, cost_wan=f"{rng.uniform(15, 600):.2f}",
            households_covered=sum(e.household_count for e in group), description="基准测试项目",
            consent_survey_id=survey.id if survey else None),
            status=ProjectStatus(status), started_on=started, completed_on=completed)
    return n_projects


def load(db, args, today: date, timings: dict) -> dict:
    from sqlalchemy import select, text

    from portal.accounts.models import User
    from portal.areas.models import Estate
    from portal.demand.services import rebuild_rollup

    rng = random.Random(9)
    admin = db.session.scalar(select(User).where(User.username == "admin"))

    def step(name, fn):
        t0 = time.perf_counter()
        result = fn()
        timings[name] = time.perf_counter() - t0
        return result

    step("places", lambda: add_places(db, args.estates, rng))
    estates = db.session.scalars(select(Estate).order_by(Estate.id)).all()
    households = step("households", lambda: add_households(db, estates, rng))
    n_tickets, hotline_signals = step("tickets+signals (COPY)", lambda: load_tickets(db, estates, args.tickets,
                                                                                     today, rng))
    made = step("surveys (services)", lambda: make_surveys(db, admin, estates, args.responses, today, rng))
    n_responses, n_answers, survey_signals = step(
        "responses+answers (COPY)", lambda: load_responses(db, admin, made, args.responses, rng))
    step("projects (services)", lambda: make_projects(db, admin, estates, made, args.projects, today, rng))
    rollup = step("rebuild rollup", rebuild_rollup)
    db.session.commit()

    step("vacuum analyze", lambda: vacuum_analyze(db))
    return {"households": households, "tickets": n_tickets, "hotline_signals": hotline_signals,
            "surveys": len(made), "responses": n_responses, "answers": n_answers, "survey_signals": survey_signals,
            "rollup_rows": rollup}


def counts(db) -> dict:
    from sqlalchemy import text

    tables = {"estates": "estates", "households": "households", "tickets": "tickets", "signals": "demand_signals",
              "surveys": "surveys", "responses": "survey_responses", "answers": "survey_answers",
              "projects": "projects", "daily_rollup": "demand_daily_counts", "monthly_rollup": "demand_monthly_counts"}
    return {k: db.session.scalar(text(f"SELECT count(*) FROM {t}")) for k, t in tables.items()}


# --- the measurements -----------------------------------------------------------------------------

def import_xlsx(path: Path, rows: int, estates, prefix: str, seed: int = 11) -> None:
    """An .xlsx of the last 60 days as the 12345 platform exports it (bench/tickets_import.py's generator)."""
    from tickets_import import generate

    generate(path, rows, estates, seed, prefix=prefix, start=datetime.now() - timedelta(days=60), span_days=59)


def measure_import(db, rows: int) -> dict:
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from portal.areas.models import Estate
    from portal.tickets.importer import import_tickets

    estates = db.session.scalars(select(Estate).options(selectinload(Estate.street))).all()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tickets.xlsx"
        import_xlsx(path, rows, estates, prefix=f"IMP{os.getpid() % 100000:05d}{int(time.time()) % 1000:03d}")
        data = path.read_bytes()
    t0 = time.perf_counter()
    report = import_tickets(None, path.name, data, max_rows=rows + 1)
    seconds = time.perf_counter() - t0
    return {"rows": rows, "seconds": seconds, "tickets_per_s": rows / seconds, "summary": report.summary,
            "imported": report.imported,
            "mb": len(data) / 1e6}


def tag_texts_for(n: int, rng: random.Random) -> tuple[list[str], str]:
    path = SHARED_DATA / "teddy7.csv"
    if path.exists():
        with open(path, encoding="utf-8", newline="") as fh:
            texts = [row["text"] for row in csv.DictReader(fh)]
        return rng.sample(texts, min(n, len(texts))), f"teddy7 ({path.name})"
    pool = [t for group in TEXTS.values() for t in group]
    return [f"来电人反映{rng.choice(pool)}{rng.choice(TAILS)}" for _ in range(n)], "generated complaint texts"


def measure_tagging(n: int) -> dict:
    from nlp.tagger import default_model_path, load_model
    from nlp_speed import cpu_probe

    texts, source = tag_texts_for(n, random.Random(3))
    tagger = load_model(Path(default_model_path()))
    tagger.tag_batch(texts[:100], n_jobs=1)  # warm-up: model, dictionary, caches
    rates: dict[str, list[float]] = {"1": [], "2": []}
    for _ in range(2):
        for jobs in ("1", "2"):
            t0 = time.perf_counter()
            tagger.tag_batch(texts, n_jobs=int(jobs))
            rates[jobs].append(len(texts) / (time.perf_counter() - t0))
    return {"texts": len(texts), "source": source, "per_s_1": max(rates["1"]), "per_s_2": max(rates["2"]),
            "cpu_probe": cpu_probe(2)}


def vacuum_analyze(db) -> None:
    from sqlalchemy import text

    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def measure_dashboard(app, db, requests: int) -> list[dict]:
    from sqlalchemy import select

    from portal.areas.models import Estate, Street

    today = date.today()
    heping = db.session.scalar(select(Street).where(Street.name == "和平街道"))
    biggest = db.session.scalar(select(Estate).where(Estate.street_id == heping.id)
                                .order_by(Estate.household_count.desc()))
    cases = [
        ("default (last 90 days)", {}),
        ("street filter", {"street_id": heping.id}),
        ("estate filter", {"estate_id": biggest.id}),
        ("theme filter", {"theme": "drainage"}),
        ("monthly trend, 1 year", {"granularity": "month", "date_from": (today - timedelta(days=364)).isoformat()}),
    ]
    from portal.core.tagging import warm_up

    warm_up()  # as each gunicorn worker does before its first request
    results = []
    for username, password in (("admin", "minsheng-admin"), ("heping", "minsheng-heping")):
        client = app.test_client()
        response = client.post("/login", data={"username": username, "password": password})
        assert response.status_code in (302, 303), response.status_code
        for label, params in cases:
            app.extensions.pop("demand_keyword_cache", None)  # the first request is cold
            t0 = time.perf_counter()
            response = client.get("/demand/", query_string=params)
            cold = time.perf_counter() - t0
            assert response.status_code == 200, (label, response.status_code)
            samples = []
            for _ in range(requests):
                t0 = time.perf_counter()
                response = client.get("/demand/", query_string=params)
                samples.append(time.perf_counter() - t0)
                assert response.status_code == 200
            results.append({"user": username, "case": label, "cold_ms": cold * 1000,
                            "p50_ms": statistics.median(samples) * 1000, "p95_ms": percentile(samples, 95) * 1000})
    return results


def measure_pages(app, db, requests: int) -> list[dict]:
    """Staff pages whose work grows with the data, as district_admin through the test client: the ticket
    page (with its 并单建议), the ticket list, 三率, the ranking, a score explanation, the annual plan, the
    demand gaps, the outcomes and the biggest survey's results."""
    from sqlalchemy import func, select

    from portal.projects.models import Project, ProjectStatus
    from portal.surveys.models import SurveyResponse
    from portal.tickets.models import Ticket

    newest_ticket = db.session.scalar(select(func.max(Ticket.id)))
    candidate = db.session.scalar(select(func.min(Project.id)).where(Project.status == ProjectStatus.approved))
    biggest_survey = db.session.scalar(select(SurveyResponse.survey_id).group_by(SurveyResponse.survey_id)
                                       .order_by(func.count().desc()).limit(1))
    pages = [("ticket page", f"/tickets/{newest_ticket}"), ("ticket list", "/tickets/"), ("三率", "/tickets/kpi"),
             ("ranking page", "/projects/ranking"), ("score explanation", f"/projects/{candidate}/score"),
             ("annual plan page", "/projects/plan?budget=20000"), ("demand gaps, district", "/projects/gaps"),
             ("outcomes", "/projects/outcomes"), ("survey results, biggest", f"/surveys/{biggest_survey}/results")]
    client = app.test_client()
    response = client.post("/login", data={"username": "admin", "password": "minsheng-admin"})
    assert response.status_code in (302, 303), response.status_code
    results = []
    for label, path in pages:
        samples = []
        for _ in range(requests + 1):  # the first is cold
            t0 = time.perf_counter()
            response = client.get(path)
            samples.append(time.perf_counter() - t0)
            assert response.status_code == 200, (label, path, response.status_code)
        warm = samples[1:]
        results.append({"page": label, "path": path, "cold_ms": samples[0] * 1000, "kb": len(response.data) / 1024,
                        "p50_ms": statistics.median(warm) * 1000, "p95_ms": percentile(warm, 95) * 1000})
    return results


def measure_ranking(db, runs: int) -> dict:
    from sqlalchemy import func, select

    from portal.accounts.models import User
    from portal.projects import plan, scoring
    from portal.projects.models import Project

    admin = db.session.scalar(select(User).where(User.username == "admin"))
    db.session.expire_all()
    t0 = time.perf_counter()
    ranked = scoring.rank(admin)
    rank_cold = time.perf_counter() - t0
    samples = []
    for _ in range(runs):
        db.session.expire_all()
        t0 = time.perf_counter()
        scoring.rank(admin)
        samples.append(time.perf_counter() - t0)
    budget = (sum((r.project.cost_wan for r in ranked), Decimal(0)) / 3).quantize(Decimal("0.01"))
    db.session.expire_all()
    t0 = time.perf_counter()
    result = plan.annual_plan(admin, budget)
    plan_cold = time.perf_counter() - t0
    plan_samples = []
    for _ in range(runs):
        db.session.expire_all()
        t0 = time.perf_counter()
        plan.annual_plan(admin, budget)
        plan_samples.append(time.perf_counter() - t0)
    return {"projects": db.session.scalar(select(func.count()).select_from(Project)), "candidates": len(ranked),
            "linked_surveys": sum(1 for r in ranked if r.project.consent_survey_id),
            "rank_cold_ms": rank_cold * 1000, "rank_p50_ms": statistics.median(samples) * 1000,
            "budget_wan": str(budget), "chosen": len(result.chosen),
            "plan_cold_ms": plan_cold * 1000, "plan_p50_ms": statistics.median(plan_samples) * 1000}


# --- survey submissions against gunicorn ------------------------------------------------------------

def gunicorn_app():
    """The app gunicorn serves for the load test (`city:gunicorn_app()` with --preload): the production
    app with rate limits off; the app is warmed up (model, tokeniser, gc.freeze) before the fork, as the
    production workers do after theirs (deploy/gunicorn.conf.py), so no request pays for it."""
    from portal import create_app
    from portal.core.tagging import warm_up
    from portal.extensions import db

    app = create_app({"RATELIMIT_ENABLED": False, "INSTANCE_PATH": os.environ["CITY_INSTANCE"]})
    with app.app_context():
        warm_up()
        db.engine.dispose()  # no connection may cross the fork
    return app


def load_tasks(db, flows: int, method: str, rng: random.Random) -> list[dict]:
    """Households of the open surveys (about 1 in 5 answered already, so they replace their answers),
    each with a fresh access code hashed by `method`."""
    from sqlalchemy import select
    from werkzeug.security import generate_password_hash

    from portal.areas.models import Household
    from portal.surveys.models import QuestionKind, Survey, SurveyEstate, SurveyResponse
    from portal.surveys.services import local_today

    today = local_today()
    surveys = db.session.scalars(select(Survey).where(Survey.opens_on <= today, Survey.closes_on >= today)
                                 .order_by(Survey.id)).all()
    used = set(db.session.scalars(select(Household.id).where(Household.access_code_hash.is_not(None))))
    fresh, again = [], []
    for survey in surveys:
        answered = set(db.session.scalars(select(SurveyResponse.household_id)
                                          .where(SurveyResponse.survey_id == survey.id)))
        rows = db.session.scalars(select(Household).join(SurveyEstate, SurveyEstate.estate_id == Household.estate_id)
                                  .where(SurveyEstate.survey_id == survey.id)).all()
        for h in rows:
            if h.id not in used:
                (again if h.id in answered else fresh).append((survey, h))
    rng.shuffle(fresh)
    rng.shuffle(again)
    n_again = min(len(again), flows // 5)
    picked = again[:n_again] + fresh[:flows - n_again]
    if len(picked) < flows:
        raise SystemExit(f"only {len(picked)} unused households in open surveys for {flows} flows")
    cached = generate_password_hash(BENCH_CODE, method=method) if method == CHEAP_HASH else None
    tasks = []
    answered_ids = {h.id for _, h in again[:n_again]}
    for survey, h in picked:
        # one hash for every cheap household is enough: each still checks its own stored hash
        h.access_code_hash = cached or generate_password_hash(BENCH_CODE, method=method)
        questions = [{"id": q.id, "kind": q.kind.value, "options": len(q.options or [])} for q in survey.questions]
        tasks.append({"slug": survey.slug, "household_id": h.id, "estate_id": h.estate_id, "building": h.building,
                      "unit": h.unit, "room": h.room, "code": BENCH_CODE, "questions": questions,
                      "replace": h.id in answered_ids})
    db.session.commit()
    rng.shuffle(tasks)
    return tasks


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(base: str, seconds: float = 90) -> None:
    import urllib.request

    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(base + "/login", timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("gunicorn did not come up")


def run_locust(base: str, tasks: list[dict], clients: int, tmp: Path, label: str, cap_s: int) -> dict:
    tasks_path, result_path = tmp / f"{label}-tasks.json", tmp / f"{label}-result.json"
    tasks_path.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    env = {**os.environ, "CITY_LOAD_TASKS": str(tasks_path), "CITY_LOAD_RESULT": str(result_path)}
    cmd = [str(VENV_BIN / "locust"), "-f", str(BENCH / "survey_load.py"), "--headless", "-u", str(clients),
           "-r", str(clients), "-t", f"{cap_s}s", "--host", base, "--only-summary", "--stop-timeout", "30",
           "--loglevel", "WARNING"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=cap_s + 120)
    if not result_path.exists():
        raise SystemExit(f"locust wrote no result (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    record = json.loads(result_path.read_text(encoding="utf-8"))
    flows = record["flows"]
    ok = [ms for ms, good, _ in flows if good]
    wall = (record["finished"] or time.time()) - (record["started"] or time.time())
    steps: dict[str, list[float]] = {}
    failures: dict[str, int] = {}
    for name, ms, error in record["requests"]:
        steps.setdefault(name, []).append(ms)
        if error:
            failures[name] = failures.get(name, 0) + 1
    submit = [ms for name, ms, error in record["requests"] if name.startswith("4 ") and not error]
    return {
        "clients": clients, "households": len(tasks), "flows_ok": len(ok), "flows_failed": len(flows) - len(ok),
        "unfinished": len(tasks) - len(flows), "wall_s": wall, "submissions_per_s": len(ok) / wall if wall else 0.0,
        "flow_p50_ms": statistics.median(ok) if ok else None, "flow_p95_ms": percentile(ok, 95) if ok else None,
        "submit_p50_ms": statistics.median(submit) if submit else None,
        "submit_p95_ms": percentile(submit, 95) if submit else None,
        "steps": {name: {"n": len(v), "failed": failures.get(name, 0), "p50_ms": statistics.median(v),
                         "p95_ms": percentile(v, 95)} for name, v in sorted(steps.items())},
        "errors": (record["errors"] + [f"{n}: {e}" for n, _, e in record["requests"] if e])[:10],
        "locust_exit": proc.returncode,
    }


def measure_submissions(db, url: str, args) -> dict:
    from sqlalchemy import func, select
    from werkzeug.security import check_password_hash, generate_password_hash

    from portal.surveys.models import SurveyResponse, SurveyResponseVersion

    rng = random.Random(5)
    before = (db.session.scalar(select(func.count()).select_from(SurveyResponse)),
              db.session.scalar(select(func.count()).select_from(SurveyResponseVersion)))
    runs = [("cheap codes", args.flows, CHEAP_HASH)]
    if args.real_code_flows:
        runs.append(("app's code hash", args.real_code_flows, None))
    prepared = []
    for label, flows, method in runs:
        t0 = time.perf_counter()
        tasks = load_tasks(db, flows, method or "scrypt", rng)
        prepared.append((label, tasks, time.perf_counter() - t0))
    db.session.remove()
    real_hash = generate_password_hash(BENCH_CODE)
    t0 = time.perf_counter()
    check_password_hash(real_hash, BENCH_CODE)
    check_seconds = time.perf_counter() - t0
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    results = {"workers": args.workers, "rate_limits": "off (RATELIMIT_ENABLED=False)", "csrf": "on",
               "code_check_ms": check_seconds * 1000, "code_hash": real_hash.split("$", 1)[0], "runs": []}
    with tempfile.TemporaryDirectory(prefix="minsheng-city-") as tmp:
        env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench-city", "CITY_INSTANCE": tmp}
        server = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "--chdir", str(BENCH), "--preload", "-w", str(args.workers),
             "-b", f"127.0.0.1:{port}", "--timeout", "120", "--log-level", "warning", "city:gunicorn_app()"],
            env=env, stdout=subprocess.DEVNULL, stderr=open(Path(tmp) / "gunicorn.log", "w"))
        try:
            wait_until_up(base)
            for label, tasks, prepare_s in prepared:
                result = run_locust(base, tasks, args.clients, Path(tmp), label.replace(" ", "-").replace("'", ""),
                                    cap_s=args.load_cap)
                result.update({"label": label, "prepare_s": prepare_s, "loadavg_after": loadavg()})
                results["runs"].append(result)
            log = (Path(tmp) / "gunicorn.log").read_text().splitlines()
            results["server_errors"] = [line for line in log if "ERROR" in line][:10]
            results["server_tracebacks"] = [line for line in log if "Traceback" in line][:10]
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
    after = (db.session.scalar(select(func.count()).select_from(SurveyResponse)),
             db.session.scalar(select(func.count()).select_from(SurveyResponseVersion)))
    results["new_responses"] = after[0] - before[0]
    results["replaced_responses"] = after[1] - before[1]
    expected_new = sum(sum(1 for t in tasks if not t["replace"]) for _, tasks, _ in prepared)
    expected_replaced = sum(sum(1 for t in tasks if t["replace"]) for _, tasks, _ in prepared)
    results["expected"] = {"new": expected_new, "replaced": expected_replaced}
    return results


# --- the report --------------------------------------------------------------------------------------

def table(report: dict) -> list[tuple[str, str]]:
    rows = []
    imp, tag, rank = report["import"], report["tagging"], report["ranking"]
    rows.append(("import (real importer, .xlsx)", f"{imp['rows']:,} tickets in {imp['seconds']:.1f} s = "
                                                   f"{imp['tickets_per_s']:,.0f} tickets/s"))
    rows.append(("tagging, 1 process", f"{tag['per_s_1']:,.0f} texts/s"))
    rows.append(("tagging, 2 processes", f"{tag['per_s_2']:,.0f} texts/s ({tag['per_s_2'] / tag['per_s_1']:.2f}×; "
                                         f"CPU probe {tag['cpu_probe']:.2f} of 2 cores free)"))
    for d in report["dashboard"]:
        rows.append((f"dashboard {d['user']}: {d['case']}",
                     f"p50 {d['p50_ms']:.0f} ms, p95 {d['p95_ms']:.0f} ms (cold {d['cold_ms']:.0f} ms)"))
    rows.append((f"rank {rank['candidates']} candidates of {rank['projects']} projects",
                 f"p50 {rank['rank_p50_ms']:.0f} ms (cold {rank['rank_cold_ms']:.0f} ms)"))
    rows.append((f"annual plan, budget {rank['budget_wan']} 万元",
                 f"p50 {rank['plan_p50_ms']:.0f} ms (cold {rank['plan_cold_ms']:.0f} ms), {rank['chosen']} chosen"))
    for page in report["pages"]:
        rows.append((f"page: {page['page']}", f"p50 {page['p50_ms']:.0f} ms, p95 {page['p95_ms']:.0f} ms "
                                              f"(cold {page['cold_ms']:.0f} ms), {page['kb']:.0f} KB"))
    sub = report["submissions"]
    for run in sub["runs"]:
        rows.append((f"survey submissions, {run['clients']} clients, {sub['workers']} workers ({run['label']})",
                     f"{run['submissions_per_s']:.1f} households/s; submit p50 {run['submit_p50_ms'] or 0:.0f} ms, "
                     f"p95 {run['submit_p95_ms'] or 0:.0f} ms; whole flow p95 {run['flow_p95_ms'] or 0:.0f} ms; "
                     f"{run['flows_ok']}/{run['households']} ok"))
    rows.append(("one access-code check (app's hash)", f"{sub['code_check_ms']:.0f} ms ({sub['code_hash']})"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="20k tickets, 2k responses: about two minutes")
    for key, value in FULL.items():
        parser.add_argument("--" + key.replace("_", "-"), type=int, default=None, help=f"default {value:,}")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--load-cap", type=int, default=600, help="seconds a load run may take at most")
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON")
    parser.add_argument("--keep", action="store_true", help="do not drop the scratch database")
    parser.add_argument("--reuse", metavar="DATABASE", help="measure again on a database an earlier --keep run kept")
    args = parser.parse_args()
    for key, value in (SMALL if args.small else FULL).items():
        if getattr(args, key) is None:
            setattr(args, key, value)

    name = args.reuse or f"minsheng_bench_city_{os.getpid()}"
    if not args.reuse:
        sh("createdb", *PG, name)
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    try:
        report = run(url, args)
    finally:
        if not args.keep and not args.reuse:
            sh("dropdb", *PG, "--force", name)
        else:
            print(f"kept database {name}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str), encoding="utf-8")


def run(url: str, args) -> dict:
    from sqlalchemy import text

    from portal.extensions import db

    today = date.today()
    timings: dict[str, float] = {}
    report: dict = {"machine": machine(), "loadavg_start": loadavg(), "mode": "small" if args.small else "full"}
    t_start = time.perf_counter()
    with bench_app(url, reuse=bool(args.reuse), WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False) as app:
        if not args.reuse:
            report["loaded"] = load(db, args, today, timings)
        else:  # the earlier run's import and submissions left dead rollup rows (and autovacuum may be off)
            t0 = time.perf_counter()
            vacuum_analyze(db)
            timings["vacuum analyze"] = time.perf_counter() - t0
        report["load_s"] = timings
        report["data"] = counts(db)
        report["database"] = f"PostgreSQL {db.session.scalar(text('SHOW server_version'))}"
        print(f"machine: {report['machine']}; load average {report['loadavg_start']}")
        print(f"database: {report['database']}; " + ", ".join(f"{k} {v:,}" for k, v in report["data"].items()))
        if timings:
            print("load: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
        report["dashboard"] = measure_dashboard(app, db, args.requests)
        report["ranking"] = measure_ranking(db, args.runs)
        report["pages"] = measure_pages(app, db, args.runs)
        report["import"] = measure_import(db, args.import_rows)
        report["loadavg_before_tagging"] = loadavg()
        report["tagging"] = measure_tagging(args.tag_texts)
        report["submissions"] = measure_submissions(db, url, args)
    report["loadavg_end"] = loadavg()
    report["total_s"] = time.perf_counter() - t_start
    report["table"] = table(report)

    print()
    width = max(len(k) for k, _ in report["table"])
    for key, value in report["table"]:
        print(f"{key:{width}}  {value}")
    sub = report["submissions"]
    print(f"\nsurvey load: gunicorn {sub['workers']} workers on loopback, CSRF {sub['csrf']}, rate limits "
          f"{sub['rate_limits']}; {sub['new_responses']} new and {sub['replaced_responses']} replaced responses "
          f"stored (expected {sub['expected']['new']} and {sub['expected']['replaced']})")
    for run_ in sub["runs"]:
        for name, s in run_["steps"].items():
            print(f"  {run_['label']:16} {name:34} n={s['n']:5} failed={s['failed']:3} p50 {s['p50_ms']:6.0f} ms "
                  f"p95 {s['p95_ms']:6.0f} ms")
        for error in run_["errors"]:
            print(f"  error: {error}")
    for line in sub.get("server_errors", []):
        print(f"  server: {line}")
    print(f"load average: start {report['loadavg_start']}, before tagging {report['loadavg_before_tagging']}, "
          f"end {report['loadavg_end']}; total {report['total_s']:.0f} s")
    return report


if __name__ == "__main__":
    main()
