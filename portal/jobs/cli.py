import click
from flask import current_app
from flask.cli import AppGroup

jobs_cli = AppGroup("jobs", help="后台任务 (background jobs).")


def _fail_killed_job(rq_job, retpid, ret_val, rusage) -> None:
    """RQ saw the work horse die (SIGKILL, out of memory): the job row says so at once."""
    from portal.extensions import db
    from portal.jobs.services import fail_interrupted

    if rq_job.func_name == "portal.jobs.worker.run_in_app" and rq_job.args:
        fail_interrupted(int(rq_job.args[0]))
    db.session.remove()
    db.engine.dispose()  # no pooled connection is inherited by the next forked work horse


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Work what is queued, then exit.")
def worker(burst: bool):
    """Work the Redis job queue (needs REDIS_URL)."""
    from redis import Redis
    from rq import Queue, Worker

    from portal.extensions import db
    from portal.jobs.services import QUEUE_NAME, reap_stale_jobs

    redis_url = current_app.config.get("REDIS_URL")
    if not redis_url:
        raise click.ClickException("REDIS_URL is not set: jobs run inside the web process.")
    reaped = reap_stale_jobs()  # jobs left "running" by a worker that died before this one started
    if reaped:
        click.echo(f"marked {len(reaped)} interrupted job(s) failed: {', '.join(map(str, reaped))}")
    from portal.jobs.exports import clean_exports

    clean_exports()  # and the export files those jobs (or age) left
    db.session.remove()
    db.engine.dispose()
    connection = Redis.from_url(redis_url)
    Worker([Queue(QUEUE_NAME, connection=connection)], connection=connection,
           work_horse_killed_handler=_fail_killed_job).work(burst=burst)


@jobs_cli.command("reap")
def reap():
    """Mark jobs whose worker died as failed (the web pages also do this by themselves)."""
    from portal.jobs.services import reap_stale_jobs

    reaped = reap_stale_jobs()
    click.echo(f"marked {len(reaped)} interrupted job(s) failed" + (f": {', '.join(map(str, reaped))}" if reaped else ""))


@jobs_cli.command("clean-exports")
def clean_exports_command():
    """Delete export files older than EXPORT_KEEP_HOURS (and those of failed jobs)."""
    from portal.jobs.exports import clean_exports

    deleted = clean_exports()
    click.echo(f"deleted {len(deleted)} export file(s)" + (f": {', '.join(deleted)}" if deleted else ""))
