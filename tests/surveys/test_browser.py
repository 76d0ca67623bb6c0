"""On a 390 px phone: scan the poster link → enter the household code → answer → replace the answer;
then the street office sees the results and the legal tally on a desktop."""
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from portal.accounts.models import Role
from portal.extensions import db
from portal.surveys.services import local_today
from tests.playwright_fixtures import log_in, page_fits_width
from tests.helpers import PASSWORD, make_community, make_estate, make_household, make_street, make_user
from tests.surveys.builders import give_code, make_survey

pytestmark = [pytest.mark.browser, pytest.mark.tagging]


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture
def district(app):
    heping = make_street("和平街道")
    guihua = make_estate(make_community(heping, "桂花社区"), "桂花苑")
    homes = [make_household(guihua, "3", "2", "301", area="86.50"), make_household(guihua, "3", "2", "302"),
             make_household(guihua, "3", "1", "101"), make_household(guihua, "5", "1", "501")]
    give_code(homes[0], "123456")
    make_user(Role.street_staff, street=heping, username="heping")
    survey = make_survey([guihua], title="桂花苑老旧小区改造意愿调查")
    closed = make_survey([guihua], title="去年的加装电梯调查", opens_on=local_today() - timedelta(days=60),
                         closes_on=local_today() - timedelta(days=30))
    return {"estate": guihua, "survey": survey, "closed": closed}


def test_resident_answers_and_replaces_on_a_phone_then_staff_see_results(phone, page, live_server, district,
                                                                        output_dir):
    survey, estate = district["survey"], district["estate"]
    shot = lambda p, name: p.screenshot(path=str(output_dir / f"surveys-{name}.png"), full_page=True)  # noqa: E731

    # the QR poster of building 3 links here: estate and building are filled in already
    phone.goto(f"{live_server}/s/{survey.slug}?e={estate.id}&b=3")
    assert phone.input_value("input[name=building]") == "3"
    assert page_fits_width(phone)
    shot(phone, "1-scan-390")

    phone.fill("input[name=unit]", "2")
    phone.fill("input[name=room]", "301")
    phone.fill("input[name=code]", "123455")
    phone.click("text=下一步：开始作答")
    assert "楼栋、单元、房号或入户码不正确" in phone.locator(".flash-error").inner_text()
    assert phone.input_value("input[name=code]") == ""
    shot(phone, "2-wrong-code-390")

    phone.fill("input[name=code]", "123 456")
    phone.click("text=下一步：开始作答")
    phone.wait_for_url(f"{live_server}/s/{survey.slug}/answer")
    assert "桂花苑 3栋2单元301室" in phone.locator(".who-answers").inner_text()
    phone.click("label.choice:has-text('同意') >> nth=0")
    phone.click("label.choice:has-text('加装电梯')")
    phone.click("label.choice:has-text('停车位改造')")
    phone.click(".scale label.choice:has-text('4')")
    phone.fill("textarea", "晚上车都停到消防通道上了，停车太难")
    assert page_fits_width(phone)
    shot(phone, "3-answer-390")
    phone.click("button:has-text('提交')")
    phone.wait_for_url(f"{live_server}/s/{survey.slug}/thanks")
    summary = phone.locator(".summary").inner_text()
    assert "同意" in summary and "加装电梯、停车位改造" in summary and "4 分" in summary
    assert page_fits_width(phone)
    shot(phone, "4-thanks-390")

    # changes their mind: the earlier answers are shown, and the new ones replace them
    phone.click("text=修改答案")
    assert "提交过" in phone.locator(".notice-ok").inner_text()
    assert phone.locator("label.choice:has-text('停车位改造') input").is_checked()
    phone.click("label.choice:has-text('不同意')")
    phone.click("label.choice:has-text('停车位改造')")
    phone.click("button:has-text('替换上一次的答案')")
    phone.wait_for_url(f"{live_server}/s/{survey.slug}/thanks")
    summary = phone.locator(".summary").inner_text()
    assert "不同意" in summary and "停车位改造" not in summary
    shot(phone, "5-replaced-390")

    # a closed survey says so, on the same phone
    phone.goto(f"{live_server}/s/{district['closed'].slug}")
    assert "调查已经结束" in phone.locator(".notice-closed").inner_text()
    assert phone.locator("input[name=code]").count() == 0 and page_fits_width(phone)
    shot(phone, "6-closed-390")

    # the street office sees one household, its latest answer, the legal tally and the tagged text
    log_in(page, live_server, "heping", PASSWORD)
    page.goto(f"{live_server}/surveys/{survey.id}/results")
    page.wait_for_selector(".survey-chart svg")
    assert page.locator(".stat-value").first.inner_text() == "4"
    tally = page.locator(".tally-table tbody tr").first.inner_text()
    assert "未通过" in tally and "25.00%" in tally  # one of four owners took part
    items = page.locator(".question-result").nth(1).inner_text()
    assert "加装电梯" in items
    text = page.locator(".text-answers").inner_text()
    assert "停车太难" in text and "停车管理" in text
    shot(page, "7-results-desktop")
    db.session.remove()


def test_staff_build_print_codes_and_posters_and_a_printed_code_works(page, phone, live_server, district, output_dir):
    survey, estate = district["survey"], district["estate"]
    log_in(page, live_server, "heping", PASSWORD)
    page.click(".main-nav >> text=意愿调查")
    page.click("text=新建调查")
    page.fill("input[name=title]", "5栋加装电梯表决")
    page.select_option("select[name=estate_ids]", label="桂花苑")
    page.select_option("select[name=tally_scope]", "building")
    page.fill("textarea[name=scope_targets]", "5号楼")
    page.fill("input[name=closes_on]", (local_today() + timedelta(days=10)).isoformat())
    page.click("button:has-text('保存')")
    assert "已创建调查" in page.locator(".flash-success").inner_text()
    page.click("text=添加表决题")
    page.click("button:has-text('保存题目')")
    page.click("text=添加改造项目多选题（预设清单）")
    assert "完善类｜加装电梯｜电梯" in page.input_value("textarea[name=options]")
    page.click("text=← 5栋加装电梯表决")
    assert "只调查 5栋" in page.locator(".facts").inner_text()
    page.screenshot(path=str(output_dir / "surveys-8-built-desktop.png"), full_page=True)

    page.goto(f"{live_server}/surveys/{survey.id}/codes")
    page.fill("input[name=batch-building]", "3")
    page.check("input[name=batch-confirm]")
    page.click("text=生成并打开打印页")
    slips = page.locator(".slip")
    expect(slips).to_have_count(3)  # the print page is a new page load: wait for it, not only for the click
    code = slips.filter(has_text="3栋2单元302室").locator(".slip-code").inner_text().replace(" ", "")
    page.emulate_media(media="print")
    page.screenshot(path=str(output_dir / "surveys-9-code-slips-print.png"), full_page=True)
    page.emulate_media(media="screen")

    page.goto(f"{live_server}/surveys/{survey.id}/posters")
    page.click("text=5 栋")
    assert "桂花苑 5 栋" in page.locator(".poster-estate").inner_text()
    page.emulate_media(media="print")
    page.screenshot(path=str(output_dir / "surveys-10-poster-print.png"), full_page=True)

    # the slip's code opens the resident page for 3-2-302 on a phone
    phone.goto(f"{live_server}/s/{survey.slug}?e={estate.id}&b=3&u=2&r=302")
    phone.fill("input[name=code]", code)
    phone.click("text=下一步：开始作答")
    phone.wait_for_url(f"{live_server}/s/{survey.slug}/answer")
    assert "3栋2单元302室" in phone.locator(".who-answers").inner_text()
    db.session.remove()
