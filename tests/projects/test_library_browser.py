"""The project library in Chromium, on a desktop and on a 390 px phone: list → new → detail → status change,
with CSRF on. Screenshots go to test-output/."""
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from portal.projects.models import Project, ProjectCategory, ProjectStatus
from portal.projects import services
from portal.projects.services import local_today
from tests.helpers import PASSWORD, xlsx_bytes
from tests.projects.builders import make_project
from tests.projects.test_library import place  # noqa: F401  (the fixture)
from tests.playwright_fixtures import log_in, page_fits_width

pytestmark = [pytest.mark.browser]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture
def library(place):  # noqa: F811
    make_project([place["xiangyang"]], ["elevator", "accessibility"], name="向阳新村加装电梯（一期）",
                 category=ProjectCategory.improve, status=ProjectStatus.approved, cost_wan="360", households_covered=96)
    make_project([place["fangzhi"]], ["building_safety"], name="纺织厂宿舍屋面防水", cost_wan="58.5",
                 status=ProjectStatus.completed, started_on=local_today() - timedelta(days=300),
                 completed_on=local_today() - timedelta(days=120))
    make_project([place["xinhuali"]], ["parking"], name="新华里停车场改造", category=ProjectCategory.enhance)
    return place


def test_list_new_detail_status_on_a_desktop(page, live_server, library, output_dir):
    log_in(page, live_server, "heping", PASSWORD)
    page.click(".main-nav >> text=项目库")
    expect(page.locator("h1")).to_have_text("项目库")
    expect(page.locator("#project-count")).to_have_text("共 2 个项目")  # not 新华里's
    assert "新华里停车场改造" not in page.content()
    page.screenshot(path=str(output_dir / "projects-1-list.png"), full_page=True)

    page.click("#new-project")
    page.fill("input[name=name]", "桂花苑排水防涝改造")
    page.check(f"input[name=estate_ids][value='{library['guihua'].id}']")
    page.check("input[name=themes][value=drainage]")
    page.check("input[name=themes][value=roads]")
    page.select_option("select[name=category]", "basic")
    page.fill("input[name=cost_wan]", "180.5")
    page.fill("input[name=households_covered]", "999")  # more than 桂花苑 has
    page.fill("textarea[name=description]", "雨污分流，更换破损管网")
    page.click("form.form button[type=submit]")
    expect(page.locator(".field-error")).to_contain_text("超过了所选小区的总户数（248）")
    assert page.locator("textarea[name=description]").input_value() == "雨污分流，更换破损管网"
    page.screenshot(path=str(output_dir / "projects-2-form-error.png"), full_page=True)
    page.fill("input[name=households_covered]", "248")
    page.click("form.form button[type=submit]")

    expect(page.locator("#project-title")).to_contain_text("桂花苑排水防涝改造")
    expect(page.locator(".flash-success")).to_contain_text("已创建项目")
    facts = page.locator("#project-facts").inner_text()
    assert "180.50 万元" in facts and "排水防涝" in facts and "道路交通" in facts and "基础类" in facts
    start = (local_today() - timedelta(days=7)).isoformat()
    assert page.locator("select[name=status-status]").input_value() == "approved"  # the next step
    page.select_option("select[name=status-status]", "in_progress")
    page.fill("input[name=status-on_date]", start)
    page.click(".status-form button[type=submit]")
    expect(page.locator(".flash-success")).to_have_text("状态已改为“实施中”。")
    expect(page.locator(".stages li.current")).to_have_text("实施中")
    expect(page.locator("#history")).to_contain_text(f"储备 → 实施中，{start}")
    page.screenshot(path=str(output_dir / "projects-3-detail.png"), full_page=True)

    # someone else saves while this person edits: told who, their input kept
    page.click("#edit-project")
    page.fill("textarea[name=description]", "我改的说明")
    project = db.session.scalar(db.select(Project).where(Project.name == "桂花苑排水防涝改造"))
    services.update_project(library["admin"], project, services.ProjectInput(
        name=project.name, estate_ids=project.estate_ids, themes=project.themes, category=project.category,
        cost_wan="199", households_covered=248), expected_revision=project.revision)
    page.click("form.form button[type=submit]")
    expect(page.locator(".flash-error")).to_contain_text("该项目已被 李主任 于")
    assert page.locator("textarea[name=description]").input_value() == "我改的说明"
    expect(page.locator("#conflict")).to_contain_text("199.00 万元")
    page.screenshot(path=str(output_dir / "projects-3b-conflict.png"), full_page=True)

    page.click(".main-nav >> text=项目库")
    page.select_option("select[name=status]", "in_progress")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r"status=in_progress"))
    assert page.locator("#project-table tbody tr").count() == 1
    assert "status=in_progress" in page.locator("#export-link").get_attribute("href")

    # a file with one bad row: the list of what to fix, and nothing imported
    page.goto(f"{live_server}/projects/import")
    page.set_input_files("input[name=file]", files=[{"name": "项目.xlsx", "mimeType": XLSX, "buffer": xlsx_bytes([
        ["项目名称", "小区", "主题", "类别", "投资估算（万元）", "覆盖户数"],
        ["东风里停车改造", "东风里", "停车管理", "完善类", 30, 100],
        ["纺织厂宿舍路灯", "纺织厂宿舍", "照明", "基础类", "12.345", 96],
        ["新华里绿化", "新华里小区", "绿化", "提升类", 20, 100]])}])  # 绿化: short for 绿化与公共空间
    page.click("form.form button[type=submit]")
    errors = page.locator("#import-errors li")
    expect(errors).to_have_count(3)
    expect(errors.nth(0)).to_have_text("第 2 行：找不到小区「东风里」（或不在您的管辖范围内）。")
    expect(errors.nth(1)).to_contain_text("第 3 行：投资估算最多保留两位小数")
    expect(errors.nth(2)).to_contain_text("第 4 行：找不到小区「新华里小区」")
    page.screenshot(path=str(output_dir / "projects-3c-import-errors.png"), full_page=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(Project)) == 4


def test_prefilled_new_detail_status_on_a_phone(phone, live_server, library, output_dir):
    log_in(phone, live_server, "heping", PASSWORD)
    phone.goto(f"{live_server}/projects/")
    assert page_fits_width(phone)
    phone.screenshot(path=str(output_dir / "projects-4-phone-list.png"), full_page=True)

    # what the demand-gap page links to
    phone.goto(f"{live_server}/projects/new?estate_id={library['guihua'].id}&theme=drainage")
    assert phone.locator("input[name=name]").input_value() == "桂花苑排水防涝改造"
    assert phone.locator(f"input[name=estate_ids][value='{library['guihua'].id}']").is_checked()
    assert phone.locator("input[name=themes][value=drainage]").is_checked()
    assert phone.locator("input[name=households_covered]").input_value() == "248"
    assert phone.locator("select[name=category]").input_value() == "basic"
    assert page_fits_width(phone)
    phone.screenshot(path=str(output_dir / "projects-5-phone-form.png"), full_page=True)
    phone.fill("input[name=cost_wan]", "120")
    phone.click("form.form button[type=submit]")

    expect(phone.locator("#project-title")).to_contain_text("桂花苑排水防涝改造")
    phone.select_option("select[name=status-status]", "approved")
    phone.click(".status-form button[type=submit]")
    expect(phone.locator(".flash-success")).to_have_text("状态已改为“入库”。")
    assert page_fits_width(phone)
    phone.screenshot(path=str(output_dir / "projects-6-phone-detail.png"), full_page=True)
    project = db.session.scalar(db.select(Project).where(Project.name == "桂花苑排水防涝改造"))
    assert project.status is ProjectStatus.approved and project.revision == 2
