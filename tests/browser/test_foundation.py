"""Log in as each role, scoping as a person meets it, the phone layout, a roster upload."""
import pytest
from playwright.sync_api import expect

from portal.accounts.models import Role
from tests.playwright_fixtures import log_in, page_fits_width
from tests.helpers import PASSWORD, csv_bytes, make_community, make_estate, make_street, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def district(app):
    heping, xinhua = make_street("和平街道"), make_street("新华街道")
    guihua = make_estate(make_community(heping, "桂花社区"), "桂花苑", aliases=["桂花小区"],
                         address_patterns=["桂花路18号"], household_count=248)
    xinhuali = make_estate(make_community(xinhua, "新华里社区"), "新华里小区", household_count=316)
    users = {
        Role.operator: make_user(Role.operator, username="operator"),
        Role.street_staff: make_user(Role.street_staff, street=heping, username="heping"),
        Role.district_admin: make_user(Role.district_admin, username="admin"),
    }
    return users, guihua, xinhuali


NAV = {
    Role.operator: ["工作台", "工单", "三率考核", "需求分析", "待复核", "地名库"],
    Role.street_staff: ["工作台", "工单", "三率考核", "需求分析", "待复核", "意愿调查", "座谈会", "网上建议", "项目库",
                        "小区与住户"],
    Role.district_admin: ["工作台", "工单", "三率考核", "需求分析", "待复核", "意愿调查", "座谈会", "网上建议", "项目库",
                          "小区与住户", "主题模型", "用户管理", "审计日志"],
}


@pytest.mark.parametrize("role", list(NAV), ids=lambda r: r.value)
def test_each_role_sees_its_navigation(page, live_server, district, output_dir, role):
    users, _, _ = district
    log_in(page, live_server, users[role].username, PASSWORD)
    assert page.locator(".main-nav a").all_inner_texts() == NAV[role]
    assert role.label in page.locator(".who .badge").inner_text()
    page.screenshot(path=str(output_dir / f"nav-{role.value}.png"), full_page=True)
    page.click("text=退出")
    expect(page.locator(".flash-success")).to_have_text("您已退出登录。")


def test_street_user_cannot_open_another_streets_estate(page, live_server, district, output_dir):
    users, guihua, xinhuali = district
    log_in(page, live_server, "heping", PASSWORD)
    with page.expect_navigation():  # count on the new page, not on the one being left
        page.click("text=小区与住户")
    expect(page.locator("text=桂花苑")).to_have_count(1)
    assert page.locator("text=新华里小区").count() == 0
    response = page.goto(f"{live_server}/areas/estates/{xinhuali.id}")
    assert response.status == 404
    assert page.locator("h1").inner_text() == "页面不存在"
    assert "新华里" not in page.content()
    page.screenshot(path=str(output_dir / "scoping-404.png"))


def test_home_page_on_a_phone(phone, live_server, district, output_dir):
    phone.goto(live_server + "/")
    assert phone.locator("h1").inner_text() == "您的声音，决定小区先改什么"
    assert page_fits_width(phone)
    assert phone.locator(".card").count() == 3
    boxes = [phone.locator(".card").nth(i).bounding_box() for i in range(3)]
    assert all(box["width"] > 300 for box in boxes), "cards stack full-width on a phone"
    phone.screenshot(path=str(output_dir / "home-phone-390.png"), full_page=True)


def test_staff_pages_fit_a_phone(phone, live_server, district, output_dir):
    log_in(phone, live_server, "admin", PASSWORD)
    phone.goto(live_server + "/areas/")
    assert page_fits_width(phone)
    phone.screenshot(path=str(output_dir / "areas-phone-390.png"), full_page=True)


def test_roster_upload_reports_errors_then_imports(page, live_server, district, output_dir, tmp_path):
    _, guihua, _ = district
    log_in(page, live_server, "heping", PASSWORD)
    page.goto(f"{live_server}/areas/estates/{guihua.id}/roster")
    bad = tmp_path / "名册.csv"
    bad.write_bytes(csv_bytes([["楼栋", "单元", "房号", "面积"], ["1", "1", "101", "八十"], ["1", "1", "102", "75"]], "gbk"))
    page.set_input_files("input[type=file]", str(bad))
    page.click("text=上传并导入")
    assert page.locator(".flash-error").inner_text() == "导入失败：共 1 处错误，未写入任何数据。"
    assert page.locator(".error-report li").all_inner_texts() == ["第 2 行：面积「八十」不是数字。"]
    page.screenshot(path=str(output_dir / "roster-errors.png"), full_page=True)

    good = tmp_path / "good.csv"
    good.write_bytes(csv_bytes([["楼栋", "单元", "房号", "面积"], ["1", "1", "101", "80"], ["1", "1", "102", "75"]], "gbk"))
    page.set_input_files("input[type=file]", str(good))
    page.click("text=上传并导入")
    assert "导入成功：新增 2 户" in page.locator(".flash-success").inner_text()
    assert page.locator("table tbody tr").count() == 2
    page.screenshot(path=str(output_dir / "roster-imported.png"), full_page=True)
