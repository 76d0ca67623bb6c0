"""The project library's services: create, edit, status, delete, each with its event; every rule of a
project's fields; the stale-revision refusal; scoping of every write."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from werkzeug.exceptions import Forbidden

from portal.accounts.models import Role
from portal.audit.models import Event
from portal.core.errors import ServiceError
from portal.extensions import db
from portal.projects import services
from portal.projects.models import Project, ProjectCategory, ProjectScore, ProjectStatus, WeightSet
from portal.projects.services import ProjectInput, ProjectInputError, RevisionConflict
from portal.surveys.models import QuestionKind
from tests.helpers import make_community, make_estate, make_street, make_user
from tests.surveys.builders import make_survey

TODAY = services.local_today()


@pytest.fixture
def place(app):
    heping, xinhua = make_street("和平街道"), make_street("新华街道")
    guihua_c = make_community(heping, "桂花社区")
    guihua = make_estate(guihua_c, "桂花苑", household_count=248, aliases=["桂花小区"])
    fangzhi = make_estate(guihua_c, "纺织厂宿舍", household_count=96)
    xiangyang = make_estate(make_community(heping, "向阳社区"), "向阳新村", household_count=372)
    xinhuali = make_estate(make_community(xinhua, "新华里社区"), "新华里小区", household_count=316)
    admin = make_user(Role.district_admin, username="admin")
    admin.display_name = "李主任"
    staff = make_user(Role.street_staff, street=heping, username="heping")
    staff.display_name = "陈晓"
    other = make_user(Role.street_staff, street=xinhua, username="xinhua")
    other.display_name = "刘洋"
    db.session.commit()
    return {"heping": heping, "xinhua": xinhua, "guihua": guihua, "fangzhi": fangzhi, "xiangyang": xiangyang,
            "xinhuali": xinhuali, "admin": admin, "staff": staff, "other": other,
            "operator": make_user(Role.operator, username="operator")}


def project_input(place, **changes) -> ProjectInput:
    values = dict(name="桂花苑排水防涝改造", estate_ids=[place["guihua"].id], themes=["drainage"],
                  category="basic", cost_wan="180.50", households_covered=248, description="雨污分流")
    values.update(changes)
    return ProjectInput(**values)


def events(project_id, action=None):
    stmt = select(Event).where(Event.object_type == "projects", Event.object_id == str(project_id))
    if action:
        stmt = stmt.where(Event.action == action)
    return db.session.scalars(stmt.order_by(Event.id)).all()


def count_projects():
    return db.session.scalar(select(func.count()).select_from(Project))


# --- create -------------------------------------------------------------------------------------

def test_create_records_an_event_and_takes_the_street_of_its_estates(place):
    project = services.create_project(place["staff"], project_input(
        place, estate_ids=[place["guihua"].id, place["fangzhi"].id], themes=["drainage", "roads", "drainage"],
        households_covered=300, cost_wan=Decimal("180.5")))
    assert project.street_id == place["heping"].id
    assert project.status is ProjectStatus.proposed and project.revision == 1
    assert sorted(project.estate_ids) == sorted([place["guihua"].id, place["fangzhi"].id])
    assert project.themes == ["drainage", "roads"]  # duplicates dropped
    assert project.cost_wan == Decimal("180.50") and project.created_by_id == place["staff"].id
    [event] = events(project.id)
    assert event.action == "project.create" and event.actor_id == place["staff"].id
    assert event.street_id == place["heping"].id
    assert event.after["name"] == "桂花苑排水防涝改造" and event.after["cost_wan"] == "180.50"
    assert event.after["themes"] == ["drainage", "roads"] and event.after["status"] == "proposed"


def test_district_admin_creates_in_any_street(place):
    project = services.create_project(place["admin"], project_input(
        place, name="新华里加装电梯", estate_ids=[place["xinhuali"].id], themes=["elevator"], category="improve",
        households_covered=0))
    assert project.street_id == place["xinhua"].id and project.category is ProjectCategory.improve


@pytest.mark.parametrize("changes, field, words", [
    ({"name": "  "}, "name", "请填写项目名称"),
    ({"name": "改" * 129}, "name", "最多 128"),
    ({"name": "=1+1"}, "name", "不能以“=”开头"),
    ({"description": "=HYPERLINK(1)"}, "description", "不能以“=”开头"),
    ({"estate_ids": []}, "estate_ids", "至少选择一个小区"),
    ({"estate_ids": [987654]}, "estate_ids", "不存在"),
    ({"estate_ids": ["abc"]}, "estate_ids", "不存在"),
    ({"themes": []}, "themes", "至少选择一个主题"),
    ({"themes": ["sewer"]}, "themes", "「sewer」不存在"),
    ({"themes": ["other", "drainage"]}, "themes", "不能与其他主题同时选择"),
    ({"category": ""}, "category", "请选择项目类别"),
    ({"category": "豪华类"}, "category", "无法识别"),
    ({"cost_wan": None}, "cost_wan", "请填写投资估算"),
    ({"cost_wan": ""}, "cost_wan", "请填写投资估算"),
    ({"cost_wan": "0"}, "cost_wan", "应大于 0"),
    ({"cost_wan": "-5"}, "cost_wan", "应大于 0"),
    ({"cost_wan": "12.345"}, "cost_wan", "两位小数"),
    ({"cost_wan": "100000.01"}, "cost_wan", "不超过 100000"),
    ({"cost_wan": "很多"}, "cost_wan", "不是数字"),
    ({"cost_wan": "NaN"}, "cost_wan", "不是有效"),
    ({"cost_wan": "Infinity"}, "cost_wan", "不是有效"),
    ({"households_covered": -1}, "households_covered", "0–100000"),
    ({"households_covered": 2.5}, "households_covered", "整数"),
    ({"households_covered": "许多"}, "households_covered", "整数"),
    ({"households_covered": None}, "households_covered", "请填写覆盖户数"),
    ({"households_covered": 249}, "households_covered", "超过了所选小区的总户数（248）"),
    ({"description": "长" * 5001}, "description", "最多 5000"),
])
def test_every_bad_value_is_refused_with_a_message_for_its_field(place, changes, field, words):
    with pytest.raises(ProjectInputError) as info:
        services.create_project(place["staff"], project_input(place, **changes))
    assert info.value.field == field and words in info.value.message
    assert count_projects() == 0 and not db.session.scalar(select(func.count()).select_from(Event))


def test_estates_of_two_streets_cannot_make_one_project(place):
    with pytest.raises(ProjectInputError, match="同一个街道"):
        services.create_project(place["admin"], project_input(
            place, estate_ids=[place["guihua"].id, place["xinhuali"].id], households_covered=10))


def test_street_staff_cannot_use_another_streets_estate(place):
    with pytest.raises(ProjectInputError, match="不存在或不在您的管辖范围内"):
        services.create_project(place["other"], project_input(place))
    with pytest.raises(ProjectInputError, match="不存在或不在您的管辖范围内"):
        services.create_project(place["staff"], project_input(
            place, estate_ids=[place["guihua"].id, place["xinhuali"].id]))
    assert count_projects() == 0


def test_operators_cannot_write_projects(place):
    with pytest.raises(Forbidden):
        services.create_project(place["operator"], project_input(place))


def test_a_name_is_used_once_per_street(place):
    services.create_project(place["staff"], project_input(place))
    with pytest.raises(ProjectInputError, match="本街道已有项目「桂花苑排水防涝改造」"):
        services.create_project(place["staff"], project_input(place, name=" 桂花苑排水防涝改造 "))
    # the same name in another street is another project
    services.create_project(place["admin"], project_input(place, estate_ids=[place["xinhuali"].id]))
    assert count_projects() == 2


def test_consent_survey_must_be_of_the_same_street_and_have_a_consent_question(place):
    own = make_survey([place["guihua"]])
    foreign = make_survey([place["xinhuali"]], title="新华里意愿调查")
    no_vote = make_survey([place["guihua"]], title="满意度调查",
                          questions=[{"kind": QuestionKind.text, "text": "意见建议"}])
    project = services.create_project(place["staff"], project_input(place, consent_survey_id=own.id))
    assert project.consent_survey_id == own.id
    with pytest.raises(ProjectInputError, match="不存在"):  # another street's survey is not even visible
        services.create_project(place["staff"], project_input(place, name="二", consent_survey_id=foreign.id))
    with pytest.raises(ProjectInputError, match="同一个街道"):
        services.create_project(place["admin"], project_input(place, name="三", consent_survey_id=foreign.id))
    with pytest.raises(ProjectInputError, match="没有表决题"):
        services.create_project(place["staff"], project_input(place, name="四", consent_survey_id=no_vote.id))
    assert [s.id for s in services.consent_surveys_for(place["staff"])] == [own.id]


# --- update and revisions -----------------------------------------------------------------------

def test_update_bumps_the_revision_and_records_before_and_after(place):
    project = services.create_project(place["staff"], project_input(place))
    services.update_project(place["staff"], project, project_input(
        place, name="桂花苑排水管网改造", cost_wan="200", estate_ids=[place["guihua"].id, place["fangzhi"].id],
        themes=["drainage", "sanitation"]), expected_revision=1)
    db.session.expire_all()
    project = db.session.get(Project, project.id)
    assert project.revision == 2 and project.name == "桂花苑排水管网改造" and project.cost_wan == Decimal("200.00")
    assert sorted(project.themes) == ["drainage", "sanitation"] and len(project.estate_ids) == 2
    [event] = events(project.id, "project.update")
    assert event.before["name"] == "桂花苑排水防涝改造" and event.after["name"] == "桂花苑排水管网改造"
    assert event.before["revision"] == 1 and event.after["revision"] == 2
    assert event.before["themes"] == ["drainage"] and event.after["themes"] == ["drainage", "sanitation"]
    # and back to one estate: the link rows follow
    services.update_project(place["staff"], project, project_input(place, name="桂花苑排水管网改造"), 2)
    db.session.expire_all()
    assert db.session.get(Project, project.id).estate_ids == [place["guihua"].id]


def test_a_stale_revision_is_refused_naming_who_saved_first_and_when(place):
    project = services.create_project(place["staff"], project_input(place))
    services.update_project(place["admin"], project, project_input(place, cost_wan="190"), expected_revision=1)
    saved_at = events(project.id, "project.update")[0].created_at
    from portal.core.workdays import to_local

    with pytest.raises(RevisionConflict) as info:
        services.update_project(place["staff"], project, project_input(place, cost_wan="170"), expected_revision=1)
    stamp = to_local(saved_at).strftime("%Y-%m-%d %H:%M")
    assert info.value.message == f"该项目已被 李主任 于 {stamp} 修改，您看到的是旧版本，请刷新后重新修改。"
    db.session.rollback()
    project = db.session.get(Project, project.id)
    assert project.cost_wan == Decimal("190.00") and project.revision == 2
    assert len(events(project.id, "project.update")) == 1
    for garbage in (None, "", "abc", "-1"):
        with pytest.raises(RevisionConflict):
            services.update_project(place["staff"], project, project_input(place), expected_revision=garbage)


def test_a_save_racing_another_is_refused_by_the_database(place):
    """Both editors loaded revision 1; the other's save lands between our check and our write."""
    project = services.create_project(place["staff"], project_input(place))
    db.session.execute(text("UPDATE projects SET revision = 2 WHERE id = :id"), {"id": project.id})
    assert project.revision == 1  # this session has not seen it
    with pytest.raises(RevisionConflict, match="已被 陈晓 于"):
        services.update_project(place["staff"], project, project_input(place, cost_wan="1"), expected_revision=1)
    db.session.rollback()
    assert db.session.get(Project, project.id).cost_wan == Decimal("180.50")


def test_update_applies_the_same_rules(place):
    project = services.create_project(place["staff"], project_input(place))
    services.create_project(place["staff"], project_input(place, name="向阳新村加装电梯", estate_ids=[place["xiangyang"].id],
                                                          themes=["elevator"], households_covered=100))
    with pytest.raises(ProjectInputError, match="本街道已有项目"):
        services.update_project(place["staff"], project, project_input(place, name="向阳新村加装电梯"), 1)
    with pytest.raises(ProjectInputError, match="两位小数"):
        services.update_project(place["staff"], project, project_input(place, cost_wan="1.001"), 1)
    db.session.rollback()
    # keeping its own name is fine
    services.update_project(place["staff"], project, project_input(place), 1)
    assert project.revision == 2


def test_another_streets_staff_cannot_touch_a_project(place):
    project = services.create_project(place["staff"], project_input(place))
    with pytest.raises(Forbidden):
        services.update_project(place["other"], project, project_input(place), 1)
    with pytest.raises(Forbidden):
        services.change_status(place["other"], project, ProjectStatus.approved)
    with pytest.raises(Forbidden):
        services.delete_project(place["other"], project)
    with pytest.raises(Forbidden):
        services.change_status(place["operator"], project, ProjectStatus.approved)
    assert project.status is ProjectStatus.proposed and count_projects() == 1


# --- status ------------------------------------------------------------------------------------

def test_status_changes_are_their_own_events_and_set_the_dates(place):
    project = services.create_project(place["staff"], project_input(place))
    services.change_status(place["staff"], project, ProjectStatus.approved)
    assert project.status is ProjectStatus.approved and project.started_on is None and project.revision == 2
    start = TODAY - timedelta(days=40)
    services.change_status(place["staff"], project, "in_progress", on_date=start)
    assert project.started_on == start and project.completed_on is None
    services.change_status(place["staff"], project, "已完成")
    assert project.completed_on == TODAY and project.started_on == start and project.revision == 4
    steps = [(e.before["status"], e.after["status"]) for e in events(project.id, "project.status")]
    assert steps == [("proposed", "approved"), ("approved", "in_progress"), ("in_progress", "completed")]
    last = events(project.id, "project.status")[-1]
    assert last.after["completed_on"] == TODAY.isoformat() and last.before["completed_on"] is None
    # reopened: it keeps its start; back to 入库 it has neither date
    services.change_status(place["staff"], project, ProjectStatus.in_progress)
    assert project.started_on == start and project.completed_on is None
    services.change_status(place["staff"], project, ProjectStatus.approved)
    assert project.started_on is None and project.completed_on is None


def test_in_progress_defaults_to_today(place):
    project = services.create_project(place["staff"], project_input(place))
    services.change_status(place["staff"], project, ProjectStatus.in_progress)
    assert project.started_on == TODAY


@pytest.mark.parametrize("setup, status, on_date, words", [
    (None, "completed", None, "请先把状态改为“实施中”"),
    ("in_progress", "completed", -50, "不能早于开工日期"),
    (None, "in_progress", +1, "不能晚于今天"),
    (None, "in_progress", date(1999, 12, 31), "不能早于 2000-01-01"),
    (None, "proposed", None, "已经是“储备”"),
    (None, "finished", None, "无法识别"),
])
def test_bad_status_changes_are_refused(place, setup, status, on_date, words):
    project = services.create_project(place["staff"], project_input(place))
    if setup:
        services.change_status(place["staff"], project, setup, on_date=TODAY - timedelta(days=10))
    if isinstance(on_date, int):
        on_date = TODAY + timedelta(days=on_date)
    before = (project.status, project.started_on, project.completed_on, project.revision)
    with pytest.raises(ServiceError, match=words):
        services.change_status(place["staff"], project, status, on_date=on_date)
    db.session.rollback()
    project = db.session.get(Project, project.id)
    assert (project.status, project.started_on, project.completed_on, project.revision) == before


# --- delete ------------------------------------------------------------------------------------

def test_delete_keeps_an_event_and_removes_scores(place):
    project = services.create_project(place["staff"], project_input(place))
    weights = WeightSet(version=1, weights={"demand": 1.0})
    db.session.add(weights)
    db.session.flush()
    db.session.add(ProjectScore(project_id=project.id, weight_set_id=weights.id, total=50.0, factors={}))
    db.session.commit()
    project_id = project.id
    services.delete_project(place["staff"], project)
    assert db.session.get(Project, project_id) is None
    assert not db.session.scalar(select(func.count()).select_from(ProjectScore))
    [event] = events(project_id, "project.delete")
    assert event.before["name"] == "桂花苑排水防涝改造" and event.street_id == place["heping"].id


def test_started_projects_cannot_be_deleted(place):
    project = services.create_project(place["staff"], project_input(place))
    services.change_status(place["staff"], project, ProjectStatus.in_progress)
    with pytest.raises(ServiceError, match="不能删除"):
        services.delete_project(place["staff"], project)
    assert count_projects() == 1


def test_category_guess_follows_the_renovation_list():
    assert services.category_for_theme("drainage") is ProjectCategory.basic
    assert services.category_for_theme("elevator") is ProjectCategory.improve
    assert services.category_for_theme("elderly_care") is ProjectCategory.enhance
    assert services.category_for_theme("noise") is None
