"""gunicorn settings for production: `gunicorn -c deploy/gunicorn.conf.py` (or `make serve`).

Every value can be overridden from the environment (names below) or on the command line.
"""
import multiprocessing
import os
import sys

# Production rules apply to the app the workers load (SECRET_KEY required, see portal/config.py).
os.environ.setdefault("MINSHENG_ENV", "production")

wsgi_app = "wsgi:app"
chdir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
bind = os.environ.get("BIND", f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}")

# Sync workers: pages are short database reads; imports, retraining and large exports go to RQ workers.
# Every worker loads its own theme model (and jieba) when it first tags a text: mind the memory.
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))  # a synchronous Excel export of 200,000 rows
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))  # bounded memory growth
max_requests_jitter = 200

# preload off: each worker builds its app, and so its SQLAlchemy engine and connection pool, after the
# fork, so no database connection is ever shared between processes (a forked pool corrupts both sides).
# Costs a model load per worker; buys a clean `kill -HUP` reload of new code.
preload_app = False

accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# %(p)s is the worker's pid: which worker served a request; %(M)s milliseconds.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms pid=%(p)s'

# Behind a reverse proxy on this host: trust its X-Forwarded-Proto (HTTPS cookies, redirects).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"  # worker heartbeats off a possibly slow disk


def on_starting(server):
    """Refuse to start, with the reason, before any worker forks (each would fail alone otherwise)."""
    sys.path.insert(0, chdir)
    from portal.config import ConfigError, check_environment

    try:
        check_environment()
    except ConfigError as exc:
        print(f"民声无法启动 / Minsheng will not start: {exc}", file=sys.stderr)
        sys.exit(3)


def post_worker_init(worker):
    """Each worker loads the theme model and tokeniser before its first request, and freezes them out of
    the garbage collector's full passes (portal.core.tagging.warm_up)."""
    from portal.core.tagging import warm_up

    with worker.wsgi.app_context():
        warm_up()
