"""The project library over HTTP: list with filters, the form (errors under their field, input kept),
prefill from an (estate, theme) pair, the stale-revision conflict, status and delete forms, scoping
(another street's project is 404 everywhere), and bad query strings answered without a 500."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.audit.models import Event
from portal.extensions import db
from portal.projects import services
from portal.projects.models import Project, ProjectStatus
from tests.helpers import login
from tests.projects.builders import make_project
from tests.projects.test_library import place, project_input  # noqa: F401  (the fixture)

TODAY = services.local_today()


def form_data(place, **changes):  # noqa: F811
    data = {"name": "桂花苑排水防涝改造", "estate_ids": [str(place["guihua"].id)], "themes": ["drainage"],
            "category": "basic", "cost_wan": "180.5", "households_covered": "248", "consent_survey_id": "0",
            "description": "雨污分流"}
    data.update(changes)
    return data


@pytest.fixture
def projects(place):  # noqa: F811
    return {
        "guihua": make_project([place["guihua"]], ["drainage"], name="桂花苑排水防涝改造"),
        "xiangyang": make_project([place["xiangyang"]], ["elevator"], name="向阳新村加装电梯",
                                  category=services.ProjectCategory.improve, status=ProjectStatus.approved),
        "xinhua": make_project([place["xinhuali"]], ["parking"], name="新华里停车场改造",
                               category=services.ProjectCategory.enhance),
    }


def names_in(html: str) -> set[str]:
    return set(re.findall(r'<a href="/projects/\d+">([^<]+)</a>', html))


def test_list_is_scoped_and_filters(client, place, projects):  # noqa: F811
    login(client, place["admin"])
    assert names_in(client.get("/projects/").get_data(as_text=True)) == {"桂花苑排水防涝改造", "向阳新村加装电梯", "新华里停车场改造"}
    assert names_in(client.get(f"/projects/?street_id={place['xinhua'].id}").get_data(as_text=True)) == {"新华里停车场改造"}
    assert names_in(client.get("/projects/?category=improve").get_data(as_text=True)) == {"向阳新村加装电梯"}
    assert names_in(client.get("/projects/?status=approved").get_data(as_text=True)) == {"向阳新村加装电梯"}
    assert names_in(client.get("/projects/?q=排水").get_data(as_text=True)) == {"桂花苑排水防涝改造"}
    assert names_in(client.get("/projects/?q=向阳新村").get_data(as_text=True)) == {"向阳新村加装电梯"}  # by estate
    assert names_in(client.get("/projects/?q=%25").get_data(as_text=True)) == set()  # % is a character, not a wildcard

    client.post("/logout")
    login(client, place["staff"])
    html = client.get("/projects/").get_data(as_text=True)
    assert names_in(html) == {"桂花苑排水防涝改造", "向阳新村加装电梯"}
    assert 'name="street_id"' not in html
    # a street filter cannot widen a street's view
    assert names_in(client.get(f"/projects/?street_id={place['xinhua'].id}").get_data(as_text=True)) == \
        {"桂花苑排水防涝改造", "向阳新村加装电梯"}


@pytest.mark.parametrize("query", ["street_id=abc", "street_id=99999999999999999999", "category=x", "status=%00",
                                   "page=-1", "page=abc", "page=99999", "q=" + "桂" * 500, "estate_id=x&theme=y"])
def test_bad_query_strings_do_not_crash(client, place, projects, query):  # noqa: F811
    login(client, place["admin"])
    assert client.get(f"/projects/?{query}").status_code in (200, 404)
    assert client.get(f"/projects/new?{query}").status_code == 200
    assert client.get(f"/projects/export.xlsx?{query}").status_code == 200


def test_operators_have_no_project_library(client, place):  # noqa: F811
    login(client, place["operator"])
    assert client.get("/projects/").status_code == 403
    assert client.get("/projects/new").status_code == 403


def test_another_streets_project_is_not_found_anywhere(client, place, projects):  # noqa: F811
    project = projects["guihua"]
    login(client, place["other"])
    assert client.get(f"/projects/{project.id}").status_code == 404
    assert client.get(f"/projects/{project.id}/edit").status_code == 404
    assert client.post(f"/projects/{project.id}/edit", data=form_data(place, revision="1")).status_code == 404
    assert client.post(f"/projects/{project.id}/status", data={"status-status": "approved"}).status_code == 404
    assert client.post(f"/projects/{project.id}/delete").status_code == 404
    db.session.expire_all()
    project = db.session.get(Project, project.id)
    assert project.status is ProjectStatus.proposed and project.revision == 1
    assert not db.session.scalar(select(func.count()).select_from(Event).where(Event.object_type == "projects"))


def test_create_through_the_form(client, place):  # noqa: F811
    login(client, place["staff"])
    page = client.get("/projects/new").get_data(as_text=True)
    assert "桂花苑（248 户）" in page and "新华里" not in page and "排水防涝" in page
    response = client.post("/projects/new", data=form_data(place))
    assert response.status_code == 302
    project = db.session.scalar(select(Project))
    assert response.headers["Location"].endswith(f"/projects/{project.id}")
    assert project.street_id == place["heping"].id and project.created_by_id == place["staff"].id
    detail = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "桂花苑排水防涝改造" in detail and "180.50 万元" in detail and "创建项目" in detail


def test_form_errors_show_under_their_field_and_keep_the_input(client, place):  # noqa: F811
    login(client, place["staff"])
    response = client.post("/projects/new", data=form_data(place, cost_wan="12.345", description="我写的说明"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'id="cost_wan"[^>]*>\s*<p class="field-error">投资估算最多保留两位小数', html)
    assert 'value="12.345"' in html and "我写的说明" in html
    response = client.post("/projects/new", data=form_data(place, estate_ids=[], themes=[]))
    html = response.get_data(as_text=True)
    assert "请至少选择一个小区" in html and "请至少选择一个主题" in html
    other_estate = form_data(place, estate_ids=[str(place["xinhuali"].id)])
    html = client.post("/projects/new", data=other_estate).get_data(as_text=True)
    assert "所选小区不存在或不在您的管辖范围内" in html  # not even offered
    assert not db.session.scalar(select(func.count()).select_from(Project))


def test_new_is_prefilled_from_an_estate_and_theme(client, place):  # noqa: F811
    login(client, place["staff"])
    html = client.get(f"/projects/new?estate_id={place['guihua'].id}&theme=drainage").get_data(as_text=True)
    assert 'value="桂花苑排水防涝改造"' in html
    assert re.search(rf'checked[^>]*value="{place["guihua"].id}"|value="{place["guihua"].id}"[^>]*checked', html)
    assert re.search(r'checked[^>]*value="drainage"|value="drainage"[^>]*checked', html)
    assert re.search(r'name="households_covered"[^>]*value="248"|value="248"[^>]*name="households_covered"', html)
    assert re.search(r'<option selected value="basic">|<option value="basic" selected>', html)
    # someone else's estate, or a made-up theme: nothing is filled in from it
    html = client.get(f"/projects/new?estate_id={place['xinhuali'].id}&theme=drainage").get_data(as_text=True)
    assert "新华里" not in html and 'value="桂花苑排水防涝改造"' not in html
    html = client.get(f"/projects/new?estate_id={place['guihua'].id}&theme=sewer").get_data(as_text=True)
    assert 'value="248"' in html and 'type="text" value="">' in html  # no name without a theme


def test_edit_saves_with_the_revision_it_was_loaded_at(client, place, projects):  # noqa: F811
    project = projects["guihua"]
    login(client, place["staff"])
    page = client.get(f"/projects/{project.id}/edit").get_data(as_text=True)
    assert 'name="revision" type="hidden" value="1"' in page and 'value="100.00"' in page
    response = client.post(f"/projects/{project.id}/edit", data=form_data(place, revision="1", cost_wan="150"))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Project, project.id).revision == 2


def test_a_stale_edit_shows_the_conflict_and_keeps_the_input(client, place, projects):  # noqa: F811
    project = projects["guihua"]
    services.update_project(place["admin"], project, project_input(place, name="桂花苑排水防涝改造", cost_wan="111"), 1)
    login(client, place["staff"])
    response = client.post(f"/projects/{project.id}/edit",
                           data=form_data(place, revision="1", description="我的新说明", cost_wan="222"))
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "该项目已被 李主任 于" in html and "您看到的是旧版本，请刷新后重新修改" in html
    assert "我的新说明" in html and 'value="222"' in html  # what they typed is still there
    assert "111.00 万元" in html  # and what is saved, to compare
    db.session.expire_all()
    saved = db.session.get(Project, project.id)
    assert saved.cost_wan == 111 and saved.revision == 2


def test_status_and_delete_forms(client, place, projects):  # noqa: F811
    project = projects["guihua"]
    login(client, place["staff"])
    html = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert 'action="/projects/%d/status"' % project.id in html and "删除这个项目" in html
    start = TODAY - timedelta(days=3)
    response = client.post(f"/projects/{project.id}/status",
                           data={"status-status": "in_progress", "status-on_date": start.isoformat()})
    assert response.status_code == 302
    html = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "状态已改为“实施中”" in html and f"开工日期</dt><dd>{start.isoformat()}" in html
    assert f"储备 → 实施中，{start.isoformat()}" in html and "删除这个项目" not in html
    html = client.post(f"/projects/{project.id}/status", data={"status-status": "completed",
                                                                "status-on_date": (start - timedelta(days=1)).isoformat()},
                       follow_redirects=True).get_data(as_text=True)
    assert "不能早于开工日期" in html
    assert client.post(f"/projects/{project.id}/status", data={"status-status": "done"}).status_code == 400
    html = client.post(f"/projects/{project.id}/status", data={"status-status": "completed", "status-on_date": "昨天"},
                       follow_redirects=True).get_data(as_text=True)
    assert "日期格式不对" in html
    html = client.post(f"/projects/{project.id}/delete", follow_redirects=True).get_data(as_text=True)
    assert "不能删除" in html

    other = projects["xiangyang"]
    response = client.post(f"/projects/{other.id}/delete")
    assert response.status_code == 302 and response.headers["Location"].endswith("/projects/")
    assert db.session.get(Project, other.id) is None


def test_detail_includes_the_partials_of_the_other_pages_when_they_exist(client, place, projects):  # noqa: F811
    login(client, place["staff"])
    response = client.get(f"/projects/{projects['guihua'].id}")
    assert response.status_code == 200  # with or without projects/priority and projects/demand partials
