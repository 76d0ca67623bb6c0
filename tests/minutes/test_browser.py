"""In a browser: upload minutes, adjust the split, save, and read the tagged points by theme."""
import pytest
from playwright.sync_api import expect

from portal.accounts.models import Role
from portal.tickets.models import TicketStatus
from tests.playwright_fixtures import log_in, page_fits_width
from tests.helpers import PASSWORD, make_community, make_estate, make_street, make_ticket, make_user

pytestmark = [pytest.mark.browser, pytest.mark.tagging]

MINUTES = """桂花苑小区老旧小区改造问需座谈会纪要

时间：2024年3月5日上午9:30
地点：桂花社区二楼会议室
主持人：王丽（社区书记）

一、会议基本情况
二、居民发言
社区书记王丽：今天请大家谈谈小区改造最需要解决的问题。
3号楼楼长：3号楼楼道灯坏了两个月了，晚上上下楼看不见，老人摔过跤。
5号楼居民说小区车位太少，晚上回来没地方停车。电动车都推进楼道里飞线充电，很危险。
居民代表张建国：
1. 希望给6层的老楼加装电梯，老人爬楼太辛苦。
2. 下雨天小区门口积水严重，下水道经常堵。

散会。
"""


def values(page, selector):
    return page.locator(selector).evaluate_all("els => els.map(e => e.value)")


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture
def district(app):
    heping = make_street("和平街道")
    community = make_community(heping, "桂花社区")
    guihua = make_estate(community, "桂花苑", household_count=248)
    make_estate(community, "牡丹园", household_count=120)
    make_estate(make_community(make_street("新华街道"), "新华里社区"), "新华里小区")
    make_user(Role.street_staff, street=heping, username="heping")
    make_ticket("桂花苑3号楼楼道灯坏了两个月，晚上上下楼看不见", estate=guihua, street=heping,
                status=TicketStatus.dispatched, number="GD-0305-01", themes=("lighting",))
    return guihua


def test_minutes_upload_to_tagged_points(page, live_server, district, output_dir, tmp_path):  # noqa: F811
    minutes = tmp_path / "桂花苑座谈会纪要.txt"
    minutes.write_bytes(MINUTES.encode("gbk"))  # as Notepad on a Chinese Windows saves it

    log_in(page, live_server, "heping", PASSWORD)
    page.click(".main-nav >> text=座谈会")
    page.click("text=登记会议")
    assert page.locator("label:has-text('新华里小区')").count() == 0  # another street's estate is not offered
    page.select_option("select[name=kind]", "needs")
    page.fill("input[name=title]", "桂花苑改造问需座谈会")
    page.fill("input[name=held_on]", "2024-03-05")
    page.get_by_label("桂花社区 · 桂花苑").check()
    page.get_by_label("桂花社区 · 牡丹园").check()
    page.fill("input[name=attendee_count]", "23")
    page.fill("input[name=organiser]", "桂花社区居委会")
    page.set_input_files("input[name=minutes_file]", str(minutes))
    page.screenshot(path=str(output_dir / "minutes-1-new.png"), full_page=True)
    page.click("text=下一步：核对拆分")

    page.wait_for_selector(".point-row")
    assert "请核对纪要的拆分结果" in page.locator(".flash-success").inner_text()
    texts = values(page, ".point-row textarea")
    assert len(texts) == 5 and texts[0].startswith("今天请大家谈谈")
    assert values(page, ".point-row input.speaker-input")[:2] == ["社区书记王丽", "3号楼楼长"]
    page.screenshot(path=str(output_dir / "minutes-2-split.png"), full_page=True)

    # split point 3 where the resident moves on to e-bikes: put the caret there and press 拆分
    third = page.locator(".point-row textarea").nth(2)
    caret = texts[2].index("电动车")
    third.click()
    third.evaluate(f"el => {{ el.setSelectionRange({caret}, {caret}); el.dispatchEvent(new KeyboardEvent('keyup')); }}")
    page.locator("#draft-2 >> text=拆分").click()
    texts = values(page, ".point-row textarea")
    assert texts[2] == "小区车位太少，晚上回来没地方停车。" and texts[3].startswith("电动车都推进楼道里飞线充电")
    # the moderator's opening words are not a resident's demand
    page.locator("#draft-0 >> text=删除").click()
    assert page.locator(".point-row").count() == 5
    page.click("text=保存并识别主题")

    page.wait_for_selector("#by-theme")
    expect(page.locator(".flash-success")).to_have_text("已保存 5 条要点，并识别了主题。")
    headings = page.locator(".theme-group h3").all_inner_texts()
    assert any("照明" in h for h in headings) and any("充电设施" in h for h in headings) and any("电梯" in h for h in headings)
    assert page.locator(".theme-group .keywords .tag").count() > 0
    assert "GD-0305-01" in page.locator("#similar").inner_text()
    assert page.locator("#themes-table tbody tr").count() == len(headings)
    page.wait_for_selector("#themes-chart svg")
    page.screenshot(path=str(output_dir / "minutes-3-by-theme.png"), full_page=True)

    page.fill("textarea[name=outcomes]", "楼道灯本月内修复；加装电梯纳入改造方案征求意见。")
    page.click("text=保存会议结论")
    assert page.locator("#closing .outcomes").inner_text() == "楼道灯本月内修复；加装电梯纳入改造方案征求意见。"
    page.fill("input[name=description]", "更换3号楼楼道灯")
    page.fill("input[name=owner]", "桂花物业")
    page.fill("input[name=due_on]", "2024-03-31")
    page.click("text=添加跟进事项")
    expect(page.locator(".flash-success")).to_have_text("已添加跟进事项。")
    assert "更换3号楼楼道灯" in page.locator("#actions-table").inner_text()
    page.locator("#closing").screenshot(path=str(output_dir / "minutes-4-closing.png"))


def test_meeting_list_fits_a_phone(phone, live_server, district, output_dir):  # noqa: F811
    log_in(phone, live_server, "heping", PASSWORD)
    phone.goto(live_server + "/meetings/new")
    assert page_fits_width(phone)
    phone.screenshot(path=str(output_dir / "minutes-phone-390.png"), full_page=True)
