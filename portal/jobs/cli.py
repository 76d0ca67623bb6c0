import click
from flask import current_app
from flask.cli import AppGroup

jobs_cli = AppGroup("jobs", help="后台任务 (background jobs).")


@jobs_cli.command("worker")
def worker():
    """Work the Redis job queue (needs REDIS_URL)."""
    from redis import Redis
    from rq import Queue, Worker

    from portal.jobs.services import QUEUE_NAME

    redis_url = current_app.config.get("REDIS_URL")
    if not redis_url:
        raise click.ClickException("REDIS_URL is not set: jobs run inside the web process.")
    connection = Redis.from_url(redis_url)
    Worker([Queue(QUEUE_NAME, connection=connection)], connection=connection).work()
