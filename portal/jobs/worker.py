"""RQ entry point: each job runs inside an app built from the environment."""
from portal import create_app

_app = None


def run_in_app(job_id: int, task_path: str) -> None:
    global _app
    if _app is None:
        _app = create_app()
    from portal.extensions import db
    from portal.jobs.services import run_job

    with _app.app_context():
        run_job(job_id, task_path)
        db.session.remove()
