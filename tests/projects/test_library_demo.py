"""The demo's project library: a mix of categories and statuses across both streets, one completed in the
past, built through the services (so every project has its events), and the same after a second run."""
from collections import Counter

from sqlalchemy import func, select

from portal.areas.models import Estate
from portal.audit.models import Event
from portal.demo import DEMO_PROJECTS, _get_or_create_admin, build_demo, build_demo_projects
from portal.extensions import db
from portal.projects.models import Project, ProjectStatus
from portal.projects.services import local_today
from tests.surveys.builders import make_survey


def test_demo_projects_are_varied_and_idempotent(app):
    build_demo()
    guihua = db.session.scalar(select(Estate).where(Estate.name == "桂花苑"))
    survey = make_survey([guihua])  # when the demo has a consent survey, the estate's project links it
    build_demo_projects(_get_or_create_admin())
    projects = db.session.scalars(select(Project)).all()
    assert 6 <= len(projects) == len(DEMO_PROJECTS) <= 8
    assert len({p.street_id for p in projects}) == 2
    assert len({p.category for p in projects}) == 3 and len({p.status for p in projects}) == 4
    [done] = [p for p in projects if p.status is ProjectStatus.completed]
    assert done.started_on < done.completed_on < local_today()
    assert all(p.status is not ProjectStatus.in_progress or p.started_on for p in projects)
    assert all(p.created_by.street_id == p.street_id for p in projects), "made by their street's staff"
    actions = Counter(db.session.scalars(select(Event.action).where(Event.object_type == "projects")))
    assert actions["project.create"] == len(projects) and actions["project.status"] >= 5

    assert [p.name for p in projects if p.consent_survey_id == survey.id] == ["桂花苑停车与消防通道整治"]

    events = db.session.scalar(select(func.count()).select_from(Event))
    build_demo_projects(_get_or_create_admin())
    assert db.session.scalar(select(func.count()).select_from(Project)) == len(projects)
    assert db.session.scalar(select(func.count()).select_from(Event)) == events
