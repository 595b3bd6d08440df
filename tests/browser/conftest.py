"""Fixtures for the browser tests: Debian's Chromium driven by Playwright against a live server.

The tests never download a browser: they use /usr/bin/chromium, which CI
installs with apt-get.
"""

import os
from pathlib import Path

import pytest

from tests.conftest import skip_or_fail

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "review-pass-123"  # set by tests.factories.UserFactory

# pytest-django's live_server listens on localhost by default; keep it on the IPv4 loopback.
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")


@pytest.fixture
def browser(monkeypatch):
    if not CHROMIUM.exists():
        skip_or_fail(f"needs Chromium at {CHROMIUM}: install it with `apt-get install -y chromium`")
    # Playwright's sync API runs an event loop in this thread, and Django raises
    # SynchronousOnlyOperation on database access from such a thread unless
    # DJANGO_ALLOW_ASYNC_UNSAFE is set.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, request):
    """A fresh page that saves a screenshot under test-artifacts/ when the test ends."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    save_screenshot(page, request.node.name)
    context.close()


def save_screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page, live_server, username: str) -> None:
    """Sign in through the admin login form, typing like a user."""
    page.goto(f"{live_server.url}/admin/login/")
    page.keyboard.type(username)  # Django's login form focuses the username field
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/admin/")


