"""In Chromium: a large survey's results export (more responses than EXPORT_INLINE_MAX_ROWS) becomes a
job in the web process; its page shows the rows written, reaches 已完成, links back to the results and
offers the five-sheet workbook, masked for street staff."""
import time

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from portal.accounts.models import Role
from tests.helpers import PASSWORD, make_community, make_estate, make_household, make_street, make_user
from tests.playwright_fixtures import log_in
from tests.surveys.builders import answer, make_survey

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("fake_tagger")]
HOUSEHOLDS = 12


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True, "EXPORT_INLINE_MAX_ROWS": 5, "EXPORT_PROGRESS_EVERY": 1,
            "JOBS_INLINE": False, "REDIS_URL": None}


@pytest.fixture
def district(app, monkeypatch):
    from portal.surveys import exports

    heping = make_street("和平街道")
    guihua = make_estate(make_community(heping, "桂花社区"), "桂花苑")
    survey = make_survey([guihua], title="桂花苑老旧小区改造意愿调查")
    for i in range(HOUSEHOLDS):
        home = make_household(guihua, str(1 + i // 4), "1", f"{101 + i % 4}")
        answer(survey, home, consent=i % 3 if i % 3 < 2 else 2, items=(1,), score=1 + i % 5,
               text=f"{i}号住户：停车太难，电话1381234{i:04d}")
    make_user(Role.street_staff, street=heping, username="heping")
    real = exports.text_for

    def slow_text_for(user, text):  # slow enough to see the progress bar move
        time.sleep(0.15)
        return real(user, text)

    monkeypatch.setattr(exports, "text_for", slow_text_for)
    return {"survey": survey}


def test_a_large_survey_export_runs_in_the_background_and_is_downloaded(page, live_server, district, output_dir,
                                                                       tmp_path):
    survey = district["survey"]
    log_in(page, live_server, "heping", PASSWORD)
    page.goto(f"{live_server}/surveys/{survey.id}/results")
    page.click("text=导出 Excel")
    page.wait_for_url(f"{live_server}/jobs/*")
    expect(page.locator(".flash-success").first).to_contain_text(f"共 {HOUSEHOLDS} 份答卷，已转为后台导出")
    expect(page.locator("h1")).to_contain_text("意愿调查结果导出")
    rows = 2 * HOUSEHOLDS  # 答卷明细 and 意见建议
    expect(page.locator("#job-status")).to_have_text("进行中", timeout=5000)
    expect(page.locator("#job-count")).not_to_have_text(f"0 / {rows}", timeout=5000)
    expect(page.locator("#job-notice")).to_be_hidden()
    page.screenshot(path=str(output_dir / "survey-export-job-1-running.png"), full_page=True)

    expect(page.locator("#job-status")).to_have_text("已完成", timeout=30000)
    expect(page.locator("#job-count")).to_have_text(f"{rows} / {rows}")
    link = page.locator("#export-download")
    expect(link).to_be_visible()
    expect(page.locator("main")).to_contain_text("保留 24 小时")
    back = page.locator("a:has-text('← 返回调查结果')")
    expect(back).to_have_attribute("href", f"/surveys/{survey.id}/results?by=building")
    page.screenshot(path=str(output_dir / "survey-export-job-2-done.png"), full_page=True)

    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename == "桂花苑老旧小区改造意愿调查-调查结果.xlsx"
    path = tmp_path / "results.xlsx"
    download.save_as(path)
    book = load_workbook(path)
    assert book.sheetnames == ["概况", "题目统计", "法定表决", "答卷明细", "意见建议"]
    detail = list(book["答卷明细"].iter_rows(values_only=True))
    assert len(detail) == HOUSEHOLDS + 1
    body = repr([list(sheet.iter_rows(values_only=True)) for sheet in book])
    assert "13812340003" not in body and "138****0003" in body  # masked for street staff

    back.click()
    page.wait_for_url(f"{live_server}/surveys/{survey.id}/results?by=building")
