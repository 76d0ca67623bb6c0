"""The production stack for tests: a scratch PostgreSQL database, one Redis db, gunicorn and an RQ worker.

Only what these helpers create is touched: the scratch database (terminated, dropped) and the one Redis
db number (flushed). Processes run in their own sessions and are killed by process group in finally.
"""
from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Optional
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/13"  # this suite's own db number; flushed before and after
START_TIMEOUT = 60


class Unavailable(Exception):
    """PostgreSQL or Redis is not there: the ops tests skip (fail under CI) with this reason."""


def admin_url() -> str:
    """The maintenance database of the server TEST_DATABASE_URL names (or the local one)."""
    test_url = os.environ.get("TEST_DATABASE_URL")
    if not test_url:
        return os.environ.get("OPS_POSTGRES_URL", DEFAULT_PG)
    parts = urlsplit(test_url.replace("postgresql+psycopg://", "postgresql://"))
    return parts._replace(path="/postgres").geturl()


def pg_connect(url: str, **kwargs):
    import psycopg

    return psycopg.connect(url, connect_timeout=3, autocommit=True, **kwargs)


def check_postgres() -> str:
    url = admin_url()
    try:
        with pg_connect(url) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure to connect means "not available"
        raise Unavailable(f"PostgreSQL is not reachable at {url}: {str(exc).strip()[:200]}")
    return url


def check_redis() -> str:
    from redis import Redis

    url = os.environ.get("OPS_REDIS_URL", DEFAULT_REDIS)
    try:
        Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001
        raise Unavailable(f"Redis is not reachable at {url}: {exc}")
    return url


class ScratchDatabase:
    def __init__(self, admin: str):
        self.admin = admin
        self.name = f"minsheng_ops_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        self.url = urlsplit(admin)._replace(path="/" + self.name).geturl()
        self.sqlalchemy_url = self.url.replace("postgresql://", "postgresql+psycopg://", 1)

    def create(self) -> None:
        with pg_connect(self.admin) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')

    def drop(self) -> None:
        with pg_connect(self.admin) as conn:
            conn.execute(f'ALTER DATABASE "{self.name}" WITH ALLOW_CONNECTIONS true')
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def terminate_connections(self) -> int:
        """pg_terminate_backend on this database's connections only."""
        with pg_connect(self.admin) as conn:
            rows = conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE datname = %s AND pid <> pg_backend_pid()", (self.name,)).fetchall()
        return len(rows)

    def allow_connections(self, allow: bool) -> None:
        with pg_connect(self.admin) as conn:
            conn.execute(f'ALTER DATABASE "{self.name}" WITH ALLOW_CONNECTIONS {"true" if allow else "false"}')

    def scalar(self, sql: str, *params):
        with pg_connect(self.url) as conn:
            return conn.execute(sql, params).fetchone()[0]


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self, sig=signal.SIGKILL) -> None:
        """The whole process group (gunicorn workers, the RQ worker's tagging pool)."""
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, sig)
            except ProcessLookupError:
                pass
        try:
            self.popen.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=15)

    def stop(self) -> None:
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGTERM)
                self.popen.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        self.kill()


def wait_for(predicate, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    # members may be zombies awaiting their new parent: those are gone for our purposes
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            return True
    return False


@dataclass
class Stack:
    database: ScratchDatabase
    redis_url: str
    workdir: Path
    model_path: str
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))
    web: Optional[Process] = None
    worker: Optional[Process] = None
    base_url: str = ""
    accounts: dict = field(default_factory=dict)

    @property
    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GUNICORN_", "WEB_CONCURRENCY"))}
        env.update(DATABASE_URL=self.database.url, REDIS_URL=self.redis_url, SECRET_KEY=self.secret_key,
                   MINSHENG_ENV="production", MINSHENG_INSTANCE=str(self.workdir / "instance"),
                   MINSHENG_MODEL=self.model_path, PYTHONUNBUFFERED="1")
        return env

    @property
    def uploads(self) -> Path:
        return self.workdir / "instance" / "uploads"

    def _spawn(self, name: str, argv: list[str]) -> Process:
        log = self.workdir / f"{name}-{int(time.time() * 1000)}.log"
        with open(log, "wb") as out:
            popen = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        return Process(name, popen, log)

    def flask(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([str(BIN / "python"), "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=timeout)

    def start_web(self, workers: int = 2) -> None:
        # Port 0: the kernel picks a free loopback port, read back from gunicorn's log (no race).
        self.web = self._spawn("gunicorn", [str(BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py",
                                            "--bind", "127.0.0.1:0", "--workers", str(workers)])
        found = wait_for(lambda: re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", self.web.output())
                         or (not self.web.alive() and "exited"), START_TIMEOUT, "gunicorn to listen")
        if found == "exited":
            raise AssertionError("gunicorn exited:\n" + self.web.output()[-3000:])
        self.base_url = found.group(1)
        wait_for(lambda: len(self.web_worker_pids()) == workers and self._healthy(), START_TIMEOUT,
                 f"{workers} gunicorn workers to answer /healthz")

    def _healthy(self) -> bool:
        try:
            return Client(self.base_url).get("/healthz").status == 200
        except OSError:
            return False

    def web_worker_pids(self) -> set[int]:
        out = subprocess.run(["pgrep", "-P", str(self.web.popen.pid)], capture_output=True, text=True).stdout
        return {int(pid) for pid in out.split()}

    def start_worker(self) -> None:
        from redis import Redis

        self.worker = self._spawn("rq-worker", [str(BIN / "python"), "-m", "flask", "--app", "wsgi", "jobs", "worker"])
        redis = Redis.from_url(self.redis_url)
        wait_for(lambda: redis.scard("rq:workers:minsheng") >= 1 or not self.worker.alive(), START_TIMEOUT,
                 "the RQ worker to register")
        if not self.worker.alive():
            raise AssertionError("RQ worker exited:\n" + self.worker.output()[-3000:])

    def reset_rate_limits(self) -> None:
        from redis import Redis

        redis = Redis.from_url(self.redis_url)
        keys = list(redis.scan_iter("LIMITS*"))
        if keys:
            redis.delete(*keys)

    def login(self, username: str, password: str) -> "Client":
        self.reset_rate_limits()  # logins from 127.0.0.1 across tests share one per-address limit
        client = Client(self.base_url)
        token = client.csrf_token("/login")
        response = client.post("/login", {"csrf_token": token, "username": username, "password": password})
        assert response.status == 302, (response.status, response.text[:500])
        return client

    def stop(self) -> None:
        for process in (self.worker, self.web):
            if process is not None:
                process.stop()


@dataclass
class Response:
    status: int
    headers: dict
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self):
        return json.loads(self.body)


class Client:
    """A tiny HTTP client with a cookie jar (stdlib only): one connection per request, like browsers'
    fresh connections, so consecutive requests may land on different gunicorn workers."""

    def __init__(self, base_url: str, timeout: float = 30):
        parts = urlsplit(base_url)
        self.host, self.port, self.timeout = parts.hostname, parts.port, timeout
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes = b"", headers: Optional[dict] = None) -> Response:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            headers = dict(headers or {})
            if self.cookies:
                headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            connection.request(method, path, body=body or None, headers=headers)
            raw = connection.getresponse()
            data = raw.read()
            for value in raw.headers.get_all("Set-Cookie") or []:
                cookie = SimpleCookie(value)
                for key, morsel in cookie.items():
                    self.cookies[key] = morsel.value
            return Response(raw.status, {k.lower(): v for k, v in raw.getheaders()}, data)
        finally:
            connection.close()

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post(self, path: str, form: dict) -> Response:
        return self.request("POST", path, urlencode(form).encode(),
                            {"Content-Type": "application/x-www-form-urlencoded"})

    def post_file(self, path: str, form: dict, field_name: str, filename: str, data: bytes,
                  content_type: str = "text/csv") -> Response:
        boundary = "----minsheng" + uuid.uuid4().hex
        parts = []
        for key, value in form.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode())
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{field_name}"; filename="{filename}"\r\n'
                     f"Content-Type: {content_type}\r\n\r\n".encode() + data + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        return self.request("POST", path, b"".join(parts),
                            {"Content-Type": f"multipart/form-data; boundary={boundary}"})

    def csrf_token(self, path: str) -> str:
        page = self.get(path)
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text) or re.search(
            r'value="([^"]+)"[^>]*name="csrf_token"', page.text)
        assert match, f"no CSRF token on {path} ({page.status})"
        return match.group(1)
