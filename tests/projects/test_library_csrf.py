"""With CSRF on (as in production): the project forms refuse a POST without the token and accept one with it."""
import io

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.projects.models import Project, ProjectStatus
from tests.helpers import csrf_token_from, login, xlsx_bytes
from tests.projects.builders import make_project
from tests.projects.test_library import place  # noqa: F401  (the fixture)


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


def test_writes_need_the_token(client, place):  # noqa: F811
    project = make_project([place["guihua"]], ["drainage"], name="桂花苑排水防涝改造")
    page = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"username": "heping", "password": "correct-horse-9", "csrf_token": csrf_token_from(page)})
    for url, data in [(f"/projects/{project.id}/status", {"status-status": "approved"}),
                      (f"/projects/{project.id}/delete", {}),
                      (f"/projects/{project.id}/edit", {"name": "改名", "revision": "1"}),
                      ("/projects/new", {"name": "新项目"})]:
        response = client.post(url, data=data)
        assert response.status_code in (400, 422), url
    response = client.post("/projects/import", data={"file": (io.BytesIO(xlsx_bytes([["项目名称"]])), "p.xlsx")},
                           content_type="multipart/form-data")
    assert response.status_code in (400, 422)
    db.session.expire_all()
    assert db.session.get(Project, project.id).status is ProjectStatus.proposed
    assert db.session.scalar(select(func.count()).select_from(Project)) == 1

    detail = client.get(f"/projects/{project.id}").get_data(as_text=True)
    token = csrf_token_from(detail)
    response = client.post(f"/projects/{project.id}/status", data={"status-status": "approved", "status-csrf_token": token})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Project, project.id).status is ProjectStatus.approved
