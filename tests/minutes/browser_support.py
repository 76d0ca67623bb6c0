"""Browser fixtures for browser tests kept beside their domain (tests/minutes, tests/suggestions).

tests/browser/conftest.py is only visible under tests/browser, and Playwright's sync API allows one
running instance per thread. So: when tests/browser's session browser is already running in this
session, reuse it; otherwise start one for this module only, closed before tests/browser needs its own.
(Moving the browser fixtures up to tests/conftest.py would make this file unnecessary.)
"""
from __future__ import annotations

import pytest

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, live_server, log_in, page_fits_width  # noqa: F401


def _running_shared_browser(request):
    # pytest keeps conftest fixtures by their directory's node: internal, hence the defensive lookups.
    manager = request._fixturemanager
    candidates = [*getattr(manager, "_arg2nodeid2fixturedefs", {}).get("browser", {}).get("tests/browser", ())]
    for node, fixturedefs in getattr(manager, "_arg2node2fixturedefs", {}).get("browser", {}).items():
        if getattr(node, "nodeid", None) == "tests/browser":
            candidates.extend(fixturedefs)
    for fixturedef in candidates:
        cached = getattr(fixturedef, "cached_result", None)
        if cached and cached[0] is not None and cached[0].is_connected():
            return cached[0]
    return None


@pytest.fixture(scope="module")
def browser(request):
    shared = _running_shared_browser(request)
    if shared is not None:
        yield shared
        return
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        own = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield own
        own.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


@pytest.fixture
def phone(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844},
                                  device_scale_factor=2, is_mobile=True, has_touch=True)
    yield context.new_page()
    context.close()
