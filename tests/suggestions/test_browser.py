"""In a phone browser: a resident leaves a suggestion from a QR link and later reads the street's reply."""
import pytest
from sqlalchemy import select

from portal.accounts.models import Role
from portal.extensions import db
from portal.suggestions import services
from portal.suggestions.models import Suggestion
from tests.playwright_fixtures import page_fits_width
from tests.helpers import make_community, make_estate, make_street, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture
def district(app):
    heping = make_street("和平街道")
    guihua = make_estate(make_community(heping, "桂花社区"), "桂花苑")
    make_estate(make_community(make_street("新华街道"), "新华里社区"), "新华里小区")
    return {"guihua": guihua, "staff": make_user(Role.street_staff, street=heping)}


def test_suggestion_on_a_phone(phone, live_server, district, output_dir):  # noqa: F811
    phone.goto(f"{live_server}/suggest?estate={district['guihua'].id}")  # what the QR code on the notice says
    assert phone.locator("h1").inner_text() == "给小区提意见建议"
    assert phone.locator(".estate-preset").inner_text() == "小区：桂花苑"
    assert phone.locator("select[name=estate_id] option:checked").inner_text() == "桂花苑"
    assert phone.locator("input[name=website]").bounding_box()["x"] < -1000  # the honeypot is off-screen for people
    assert page_fits_width(phone)
    phone.screenshot(path=str(output_dir / "suggest-1-form-390.png"), full_page=True)

    phone.get_by_role("button", name="提交").click()  # nothing written yet
    assert "请写下您的意见或建议。" in phone.locator(".field-error").all_inner_texts()
    assert page_fits_width(phone)
    phone.fill("textarea[name=content]", "3号楼楼道灯坏了一个月，晚上上下楼看不见，老人摔过跤。")
    phone.fill("input[name=contact_phone]", "13812345678")
    phone.screenshot(path=str(output_dir / "suggest-2-filled-390.png"), full_page=True)
    phone.get_by_role("button", name="提交").click()

    phone.wait_for_selector("#private-link")
    assert phone.locator("h1").inner_text() == "已收到，谢谢您！"
    link = phone.locator("#private-link").inner_text()
    assert "/suggest/r/" in link
    assert page_fits_width(phone)  # the long link wraps instead of widening the page
    phone.screenshot(path=str(output_dir / "suggest-3-thanks-390.png"), full_page=True)

    phone.reload()
    assert phone.locator("h1").inner_text() == "链接已显示过"

    phone.goto(link)
    assert "街道还没有回复" in phone.locator("#reply").inner_text()
    suggestion = db.session.scalar(select(Suggestion))
    services.reply(district["staff"], suggestion, "已安排物业本周内更换3号楼楼道灯，感谢您的反映。")
    phone.reload()
    assert "已安排物业本周内更换3号楼楼道灯" in phone.locator("#reply").inner_text()
    assert "13812345678" not in phone.content()
    assert page_fits_width(phone)
    phone.screenshot(path=str(output_dir / "suggest-4-reply-390.png"), full_page=True)
