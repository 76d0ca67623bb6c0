"""Ranking → explanation → the records behind a factor → the ticket, in Chromium on a desktop and a 390 px
phone; the plan page. Screenshots go to test-output/."""
import re

import pytest
from playwright.sync_api import expect

from portal.accounts.models import Role
from portal.projects import scoring
from tests.helpers import PASSWORD, make_user
from tests.playwright_fixtures import log_in, page_fits_width
from tests.projects.scoring_builders import three_projects, ticket_with_signal

pytestmark = [pytest.mark.browser]


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture
def world(app):
    w = three_projects()
    w["ticket"] = ticket_with_signal(w["a"], "drainage", 3, as_of=scoring.local_today(), urgent=True)
    make_user(Role.district_admin, username="admin")
    make_user(Role.street_staff, street=w["north"], username="north")
    return w


def watch_csp(page) -> list[str]:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    return problems


def test_ranking_to_explanation_to_ticket_on_a_desktop(page, live_server, world, output_dir):
    problems = watch_csp(page)
    log_in(page, live_server, "admin", PASSWORD)
    page.goto(f"{live_server}/projects/ranking")
    expect(page.locator("h1")).to_have_text("项目优先排序")
    rows = page.locator("#ranking tbody tr")
    assert rows.count() == 3
    assert "桂花苑排水改造" in rows.first.inner_text() and "紧急基础类" in rows.first.inner_text()
    page.screenshot(path=str(output_dir / "priority-1-ranking.png"), full_page=True)

    page.click("#ranking a.score-link >> text=桂花苑排水改造")
    expect(page.locator("#score-title")).to_contain_text("桂花苑排水改造")
    assert page.locator("#factors meter.factor-bar").count() == 5
    assert "候选项目最高" in page.locator("#factors").inner_text()
    page.screenshot(path=str(output_dir / "priority-2-score.png"), full_page=True)

    page.click("#factor-demand a")
    expect(page.locator("#factor-title")).to_contain_text("需求强度")
    assert page.locator("#signals tbody tr").count() == 4
    page.screenshot(path=str(output_dir / "priority-3-demand-records.png"), full_page=True)

    page.click(f"#signals a[href='/tickets/{world['ticket'].id}']")
    page.wait_for_url(re.compile(rf"/tickets/{world['ticket'].id}$"))
    expect(page.locator("h1")).to_contain_text(world["ticket"].number)

    page.goto(f"{live_server}/projects/plan?budget=150")
    expect(page.locator("#plan-chosen")).to_contain_text("紧急基础类，优先安排")
    expect(page.locator("#plan-left-out")).to_contain_text("超出剩余预算")
    page.screenshot(path=str(output_dir / "priority-4-plan.png"), full_page=True)

    page.goto(f"{live_server}/projects/weights")
    page.fill("input[name=demand]", "0.5")
    page.click("#weights-form button[type=submit]")
    expect(page.locator("#weights-error")).to_contain_text("五项权重之和应为 1（现为 1.150）")
    page.screenshot(path=str(output_dir / "priority-9-weights-error.png"), full_page=True)
    page.fill("input[name=demand]", "0.2")
    page.fill("input[name=cost]", "0.25")
    page.fill("textarea[name=note]", "提高投资效益的权重")
    page.click("#weights-form button[type=submit]")
    expect(page.locator("#weight-history")).to_contain_text("提高投资效益的权重")
    assert problems == []


def test_ranking_and_explanation_on_a_phone(phone, live_server, world, output_dir):
    problems = watch_csp(phone)
    log_in(phone, live_server, "north", PASSWORD)
    phone.goto(f"{live_server}/projects/ranking")
    assert phone.locator("#ranking tbody tr").count() == 2
    assert "南湖" not in phone.content()
    assert page_fits_width(phone)
    phone.screenshot(path=str(output_dir / "priority-5-ranking-phone.png"), full_page=True)

    phone.click("#ranking a.score-link >> text=桂花苑排水改造")
    expect(phone.locator("#score-total")).to_be_visible()
    assert page_fits_width(phone)
    phone.screenshot(path=str(output_dir / "priority-6-score-phone.png"), full_page=True)

    phone.click("#factor-urgency a")
    expect(phone.locator("#factor-title")).to_contain_text("紧急程度")
    assert "13812345678" not in phone.content()  # street staff see the caller masked
    assert page_fits_width(phone)
    phone.screenshot(path=str(output_dir / "priority-7-urgency-phone.png"), full_page=True)
    phone.click(f"#signals a[href='/tickets/{world['ticket'].id}']")
    phone.wait_for_url(re.compile(rf"/tickets/{world['ticket'].id}$"))

    phone.goto(f"{live_server}/projects/plan?budget=120")
    assert page_fits_width(phone)
    phone.screenshot(path=str(output_dir / "priority-8-plan-phone.png"), full_page=True)
    assert problems == []
