"""In Chromium: a street user's export over the limit becomes a job (a thread in the web process, the
embedded default); its page shows the rows written, reaches 已完成 and offers the file."""
import time

import pytest
from playwright.sync_api import expect

from portal.accounts.models import Role
from tests.helpers import PASSWORD, make_community, make_estate, make_street, make_ticket, make_user
from tests.jobs.support import xlsx_rows
from tests.playwright_fixtures import log_in

pytestmark = pytest.mark.browser
ROWS = 12


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True, "EXPORT_INLINE_MAX_ROWS": 5, "EXPORT_PROGRESS_EVERY": 1,
            "JOBS_INLINE": False, "REDIS_URL": None}


@pytest.fixture
def district(app, monkeypatch):
    from portal.tickets import tasks

    heping = make_street("和平街道")
    guihua = make_estate(make_community(heping), "桂花苑")
    for i in range(ROWS):
        make_ticket(f"桂花苑{i}栋楼道灯坏了", estate=guihua, street=heping, caller_name="张伟",
                    caller_phone="13812345678", number=f"HP-{i:02d}")
    make_user(Role.street_staff, street=heping, username="heping")
    real_row = tasks.export_row

    def slow_row(user, ticket):  # slow enough to see the progress bar move
        time.sleep(0.25)
        return real_row(user, ticket)

    monkeypatch.setattr(tasks, "export_row", slow_row)


def test_a_large_export_runs_in_the_background_and_is_downloaded_from_its_page(page, live_server, district,
                                                                             output_dir, tmp_path):
    log_in(page, live_server, "heping", PASSWORD)
    page.goto(f"{live_server}/tickets/")
    page.click("text=导出 Excel")
    page.wait_for_url(f"{live_server}/jobs/*")
    expect(page.locator(".flash-success").first).to_contain_text(f"共 {ROWS} 条工单，已转为后台导出")
    expect(page.locator("#job-status")).to_have_text("进行中", timeout=5000)
    expect(page.locator("#job-count")).not_to_have_text(f"0 / {ROWS}", timeout=5000)
    page.screenshot(path=str(output_dir / "export-job-1-running.png"), full_page=True)

    expect(page.locator("#job-status")).to_have_text("已完成", timeout=20000)
    expect(page.locator("#job-count")).to_have_text(f"{ROWS} / {ROWS}")
    link = page.locator("#export-download")
    expect(link).to_be_visible()
    expect(page.locator("main")).to_contain_text("保留 24 小时")
    page.screenshot(path=str(output_dir / "export-job-2-done.png"), full_page=True)

    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename.startswith("工单-") and download.suggested_filename.endswith(".xlsx")
    path = tmp_path / "export.xlsx"
    download.save_as(path)
    rows = xlsx_rows(path.read_bytes())
    assert sorted(r[0] for r in rows[1:]) == [f"HP-{i:02d}" for i in range(ROWS)]
    assert {r[2] for r in rows[1:]} == {"张*"} and {r[3] for r in rows[1:]} == {"138****5678"}
