"""Configuration from the environment (DESIGN.md §8)."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Uploads waiting for a job and the generated key live here; web and job workers must share it.
DEFAULT_INSTANCE = Path(os.environ.get("MINSHENG_INSTANCE") or PROJECT_ROOT / "instance")


MIN_SECRET_KEY_LENGTH = 32


class ConfigError(RuntimeError):
    """The environment is not fit to start in; the message says what to set."""


def is_production() -> bool:
    return os.environ.get("MINSHENG_ENV", "").strip().lower() == "production"


def _secret_key(instance_path: Path) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in instance/.

    In production the key must come from the environment: several gunicorn workers (or hosts) racing to
    generate instance/secret_key would each sign sessions with a different key.
    """
    from_env = os.environ.get("SECRET_KEY", "").strip()
    if is_production() and len(from_env) < MIN_SECRET_KEY_LENGTH:
        raise ConfigError(
            f"生产环境（MINSHENG_ENV=production）必须设置 SECRET_KEY 环境变量，至少 {MIN_SECRET_KEY_LENGTH} 个字符，"
            "所有 web 与后台任务进程使用同一个值；可用 python3 -c 'import secrets; print(secrets.token_hex(32))' 生成。"
            f" / SECRET_KEY must be set (>= {MIN_SECRET_KEY_LENGTH} characters, the same for every process) "
            "when MINSHENG_ENV=production.")
    if from_env:
        return from_env
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def check_environment(instance_path: Path = DEFAULT_INSTANCE) -> None:
    """Raises ConfigError when this environment must not start (production without a SECRET_KEY)."""
    _secret_key(instance_path)


def normalise_database_url(url: str) -> str:
    # Heroku-style postgres:// and bare postgresql:// both mean psycopg 3 here.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def engine_options(url: str) -> dict:
    # pre_ping: a connection the database dropped (restart, pg_terminate_backend) is replaced on checkout
    # instead of failing the request; recycle: firewalls and poolers silently drop idle connections.
    options: dict = {"pool_pre_ping": True}
    if url.startswith("postgresql"):
        options.update(pool_recycle=1800, connect_args={"connect_timeout": 5})  # a down server fails fast
    return options


def from_environment(instance_path: Path) -> dict:
    database_url = normalise_database_url(os.environ.get("DATABASE_URL") or f"sqlite:///{instance_path / 'minsheng.db'}")
    redis_url = os.environ.get("REDIS_URL") or None
    return {
        "SECRET_KEY": _secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(database_url),
        "REDIS_URL": redis_url,
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "SESSION_COOKIE_SECURE": os.environ.get("SESSION_COOKIE_SECURE", "0") == "1",
        "PROXY_HOPS": _proxy_hops(),
    }


def _proxy_hops() -> int:
    """How many reverse proxies (nginx, a load balancer) sit in front of gunicorn. Their X-Forwarded-For /
    -Proto / -Host are trusted for that many hops, so rate limits and logs see the resident's address.
    0 (the default): the headers are ignored, since anyone can send them."""
    raw = os.environ.get("PROXY_HOPS", "0").strip() or "0"
    if not raw.isdigit() or int(raw) > 5:
        raise ConfigError(f"PROXY_HOPS 应为 0–5 的整数（前置代理的层数），现为“{raw[:20]}”。 / PROXY_HOPS must be 0–5.")
    return int(raw)


class Defaults:
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = 8 * 3600
    MAX_CONTENT_LENGTH = 20 * 1024 * 1024  # uploads: rosters, ticket exports, minutes
    WTF_CSRF_TIME_LIMIT = 8 * 3600
    WTF_I18N_ENABLED = False  # messages come from the Chinese table in portal/core/forms.py
    RATELIMIT_HEADERS_ENABLED = True
    # Redis down: count in this process rather than answer every login with an error.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    LOGIN_RATE_LIMIT = "10 per minute"
    ROSTER_MAX_ROWS = 20000
    PAGE_SIZE = 50
    EXPORT_MAX_ROWS = 200000
    EXPORT_INLINE_MAX_ROWS = 5000  # more rows than this: ticket, audit, survey-result and roster exports run as jobs
    EXPORT_PROGRESS_EVERY = 500  # an export job reports its progress every this many rows
    EXPORT_KEEP_HOURS = 24  # an export job's file is deleted this long after it was made
    TICKET_IMPORT_MAX_ROWS = 200000
    TICKET_URGENT_HOURS = 24
    TICKET_DUE_WORKING_DAYS = 5
    HOLIDAYS: list = []  # datetime.date values of public holidays, for due dates
    EXTRA_WORKDAYS: list = []  # weekend days made working days (调休)
    JOBS_INLINE = False  # tests run background jobs in the request thread
    JOB_HEARTBEAT_SECONDS = 10  # a running job stamps jobs.heartbeat_at this often (not on SQLite)
    JOB_STALE_SECONDS = 120  # no heartbeat for this long: its worker is gone, the job is marked failed
    JOB_REAP_INTERVAL = 30  # each web process looks for such jobs at most this often
    JOB_QUEUED_GRACE_SECONDS = 60  # a queued job older than this whose RQ job Redis lost is marked failed
