"""Test-wide setup: a throw-away data folder, background tasks run inline, fast password hashing."""

# The environment itself is set by yixiang.testing_env, loaded with -p before Django starts.
import os


def pytest_configure(config):
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


import pytest  # noqa: E402

# The cross-cutting tests that start servers, kill workers, fuzz every API operation or walk every
# URL as every role (review 2026-12 §5: about 7 of the suite's 10 minutes). `make test` runs them;
# `make test-fast` (-m "not slow and not browser") leaves them out for the inner loop. Marked here
# by path so a new test in these files is slow without remembering to say so.
SLOW_PATHS = (
    "tests/reliability/",
    "tests/test_run_command.py",
    "tests/test_schema_fuzz.py",
    "tests/security/test_permission_matrix.py",
)


def pytest_collection_modifyitems(config, items):
    root = str(config.rootpath) + os.sep
    for item in items:
        path = str(item.path).removeprefix(root).replace(os.sep, "/")
        if path.startswith(SLOW_PATHS):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def org(db):
    from yixiang.testing import make_org

    return make_org()


@pytest.fixture
def api_as():
    from yixiang.testing import ApiClient

    return ApiClient


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def _playwright_browser():
    """Debian's chromium driven by Playwright. A missing chromium is a failure, never a skip."""
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run scripts/ensure-browser (apt-get install chromium fonts-noto-cjk)")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-quic",
                "--no-first-run",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(_playwright_browser, live_server):
    """A fresh browser page (phone-sized on request via page.set_viewport_size) on the live server."""
    context = _playwright_browser.new_context(
        base_url=live_server.url, locale="zh-CN", viewport={"width": 1280, "height": 900}
    )
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    yield pg
    context.close()


@pytest.fixture
def login(page):
    """login(user) logs the browser page in through the real login form."""
    from yixiang.testing import PASSWORD

    def _login(user, password=PASSWORD):
        page.goto("/login/")
        page.fill("input[name=username]", user.username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        return page

    return _login
