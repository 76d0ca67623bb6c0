"""The audit page in Chromium on a desktop: reached from the menu, filtered by kind and text, exported
with the same filters. Screenshot in test-output/audit-desktop.png."""
import io

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from portal.accounts.models import Role
from portal.audit.models import Event
from portal.extensions import db
from portal.tickets import services as tickets
from tests.helpers import PASSWORD, make_community, make_estate, make_street, make_ticket, make_user
from tests.playwright_fixtures import log_in

pytestmark = [pytest.mark.browser]


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture
def log(app):
    heping = make_street("和平街道")
    estate = make_estate(make_community(heping, "桂花社区"), "桂花苑")
    make_user(Role.district_admin, username="admin")
    operator = make_user(Role.operator, username="operator")
    ticket = make_ticket("楼道漏水，三楼天花板滴水", estate=estate, themes=("building_safety",),
                         caller_name="张伟", caller_phone="13812345678")
    tickets.confirm_tags(operator, ticket, ["drainage"], True)
    tickets.dispatch(operator, ticket, heping.id, note="请三日内上门")
    db.session.commit()
    return {"ticket": ticket}


def test_audit_page_on_a_desktop(page, live_server, log, output_dir):
    # A failed login and a personal-data view, made the way people make them.
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", "operator")
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    expect(page.locator(".flash-error")).to_contain_text("用户名或密码不正确")
    log_in(page, live_server, "operator", PASSWORD)
    page.goto(f"{live_server}/tickets/{log['ticket'].id}")
    expect(page.locator("body")).to_contain_text("13812345678")
    page.click("text=退出")

    log_in(page, live_server, "admin", PASSWORD)
    page.click(".main-nav >> text=审计日志")
    expect(page.locator("h1")).to_have_text("审计日志")
    for label in ("登录失败", "查看个人信息", "主题更正", "登录与退出", "其他操作"):
        expect(page.locator(".kind-badge", has_text=label).first).to_be_visible()
    page.screenshot(path=str(output_dir / "audit-desktop.png"), full_page=True)

    page.select_option("select[name=kind]", "login_failed")
    page.click("form.filters button[type=submit]")
    expect(page.locator("#audit-total")).to_contain_text("共 1 条")
    expect(page.locator("tr.audit-row")).to_have_count(1)
    expect(page.locator("tr.audit-row")).to_contain_text("operator")
    page.screenshot(path=str(output_dir / "audit-desktop-failed-logins.png"), full_page=True)

    with page.expect_download() as download:
        page.click("text=按当前筛选导出 Excel")
    rows = list(load_workbook(io.BytesIO(open(download.value.path(), "rb").read())).active.iter_rows(values_only=True))
    assert [r[4] for r in rows[1:]] == ["login.failed"]
    assert db.session.query(Event).filter_by(action="export", object_type="events").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
