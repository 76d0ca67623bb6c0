"""Locust file for bench/city.py: residents answering a survey, as a phone's browser does.

    CITY_LOAD_TASKS=tasks.json CITY_LOAD_RESULT=out.json \
        locust -f bench/survey_load.py --headless -u 50 -r 50 -t 300s --host http://127.0.0.1:8000

Each task in CITY_LOAD_TASKS is one household (slug, estate_id, building, unit, room, code, questions).
A simulated resident takes the next task, starts with a fresh cookie jar (a new phone), and walks the
real flow with CSRF on: open the survey link, post the address and access code (入户码), open the
answer page, post the answers, read the thank-you page. Tokens come from each page's hidden
csrf_token field. Every household is used once; when the last one is done, the run stops itself.
Static files (CSS, JS) are not fetched: the browser caches them, and the app does not serve them in
production (the README's reverse proxy does).

The result file has every request's time by step, and one "flow" time per household.
"""
from __future__ import annotations

import json
import os
import random
import re
import time
from collections import deque
from urllib.parse import urlencode

import gevent
from locust import FastHttpUser, events, task
from locust.exception import StopUser

TASKS = json.loads(open(os.environ["CITY_LOAD_TASKS"], encoding="utf-8").read())
QUEUE = deque(TASKS)
LEFT = [len(TASKS)]
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
RECORD: dict = {"requests": [], "flows": [], "errors": [], "started": None, "finished": None}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
TEXTS = ["楼道灯坏了很久，希望尽快修好", "停车位太少，晚上车停到消防通道", "希望加装电梯，老人上下楼困难",
         "下水道经常堵，一下雨门口就积水", "希望增加电动自行车充电桩", "外墙瓷砖脱落，很危险"]


@events.request.add_listener
def _on_request(request_type, name, response_time, response_length, exception=None, **kwargs):
    RECORD["requests"].append((name, response_time, None if exception is None else str(exception)[:200]))


@events.test_stop.add_listener
def _on_stop(environment, **kwargs):
    RECORD["finished"] = RECORD["finished"] or time.time()
    with open(os.environ["CITY_LOAD_RESULT"], "w", encoding="utf-8") as fh:
        json.dump(RECORD, fh)


def token(html: str) -> str:
    match = TOKEN.search(html or "")
    if not match:
        raise ValueError("no csrf_token on the page")
    return match.group(1) or match.group(2)


def answers_for(questions: list[dict], rng: random.Random) -> dict:
    data: dict = {}
    for q in questions:
        name = f"q{q['id']}"
        if q["kind"] == "consent":
            data[name] = str(rng.choices([0, 1, 2], [75, 17, 8])[0])
        elif q["kind"] == "multiple":
            data[name] = [str(i) for i in sorted(rng.sample(range(q["options"]), rng.randint(1, 3)))]
        elif q["kind"] == "single":
            data[name] = str(rng.randrange(q["options"]))
        elif q["kind"] == "scale":
            data[name] = str(rng.randint(1, 5))
        elif q["kind"] == "text" and rng.random() < 0.3:
            data[name] = rng.choice(TEXTS)  # tagged by the theme model inside the request
    return data


class Resident(FastHttpUser):
    # No think time: 50 residents submitting back to back is the worst case, not a day's average.
    def wait_time(self):
        return 0

    @task
    def answer_survey(self):
        if not QUEUE:
            raise StopUser()
        RECORD["started"] = RECORD["started"] or time.time()
        job = QUEUE.popleft()
        self.client.cookiejar.clear()  # the next household, on its own phone
        slug = job["slug"]
        rng = random.Random(job["household_id"])
        t0 = time.perf_counter()
        ok = False
        try:
            ok = self._flow(slug, job, rng)
        except Exception as exc:  # noqa: BLE001 - a broken page is a failed flow, recorded below
            RECORD["errors"].append(f"{job['household_id']}: {exc!r}"[:300])
        finally:
            RECORD["flows"].append(((time.perf_counter() - t0) * 1000, ok, job["replace"]))
            LEFT[0] -= 1
            if LEFT[0] == 0:
                RECORD["finished"] = time.time()
                gevent.spawn(self.environment.runner.quit)

    def _expect(self, response, status: int, what: str, location: str = "") -> bool:
        if response.status_code != status or (location and location not in (response.headers.get("Location") or "")):
            response.failure(f"{what}: HTTP {response.status_code}, expected {status} {location}")
            return False
        response.success()
        return True

    def _flow(self, slug: str, job: dict, rng: random.Random) -> bool:
        base = f"/s/{slug}"
        with self.client.get(base, name="1 GET /s/<slug>", catch_response=True) as r:
            if not self._expect(r, 200, "survey page"):
                return False
            csrf = token(r.text)
        form = {"csrf_token": csrf, "estate_id": str(job["estate_id"]), "building": job["building"],
                "unit": job["unit"], "room": job["room"], "code": job["code"]}
        with self.client.post(base, data=urlencode(form), headers=FORM, name="2 POST /s/<slug> (入户码)",
                              allow_redirects=False, catch_response=True) as r:
            if not self._expect(r, 302, "access code", f"{base}/answer"):
                return False
        with self.client.get(f"{base}/answer", name="3 GET /s/<slug>/answer", catch_response=True) as r:
            if not self._expect(r, 200, "answer page"):
                return False
            csrf = token(r.text)
            missing = [q["id"] for q in job["questions"] if f'name="q{q["id"]}"' not in r.text]
            if missing:
                r.failure(f"answer page lacks questions {missing}")
                return False
        form = {"csrf_token": csrf, **answers_for(job["questions"], rng)}
        with self.client.post(f"{base}/answer", data=urlencode(form, doseq=True), headers=FORM,
                              name="4 POST /s/<slug>/answer (提交)", allow_redirects=False, catch_response=True) as r:
            if not self._expect(r, 302, "submit", f"{base}/thanks"):
                return False
        with self.client.get(f"{base}/thanks", name="5 GET /s/<slug>/thanks", catch_response=True) as r:
            return self._expect(r, 200, "thanks page")
