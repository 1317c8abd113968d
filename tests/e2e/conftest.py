"""Browser-test fixtures: a real server with demo data, Chromium, pages, sign-in.

Every test under tests/e2e is marked `e2e`. Without /usr/bin/chromium the tests are skipped,
except under CI (CI=true), where they fail: CI must run them.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MISSING_REASON = f"Chromium not found at {CHROMIUM}; apt-get install -y chromium"

DEMO_PASSWORD = "portal-demo"
E2E_SECRET_KEY = "e2e-secret-key-fixed-for-this-run"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
SERVER_START_TIMEOUT = 60.0

E2E_DIR = Path(__file__).resolve().parent

try:  # assertions wait long enough for a loaded 2-core CI machine (actions are set per context)
    from playwright.sync_api import expect as _expect

    _expect.set_options(timeout=20_000)
except ImportError:  # pragma: no cover - the browser tests are skipped without Playwright
    pass
REPO_ROOT = E2E_DIR.parents[1]
SCREENSHOT_DIR = REPO_ROOT / "test-artifacts" / "screenshots"


def chromium_available() -> bool:
    return os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)


def running_in_ci() -> bool:
    return os.environ.get("CI") == "true"


# --- marking, skipping, failure screenshots ----------------------------------------------------


def pytest_collection_modifyitems(config, items):
    """Mark every test in tests/e2e `e2e`; skip them when Chromium is missing (outside CI)."""
    skip = pytest.mark.skip(reason=MISSING_REASON)
    for item in items:
        if E2E_DIR not in Path(str(item.path)).resolve().parents:
            continue
        item.add_marker(pytest.mark.e2e)
        if not chromium_available() and not running_in_ci():
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def _chromium_required():
    """Under CI a missing Chromium is a failure, never a skip."""
    if not chromium_available():
        if running_in_ci():
            pytest.fail(
                f"CI=true and {CHROMIUM} is missing: the browser tests must run in CI. "
                "Install it with `apt-get install -y chromium`.",
                pytrace=False,
            )
        pytest.skip(MISSING_REASON)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item (rep_setup, rep_call, rep_teardown)."""
    report = yield
    setattr(item, "rep_" + report.when, report)
    return report


def _call_failed(node) -> bool:
    report = getattr(node, "rep_call", None)
    return bool(report is not None and report.failed)


def _save_screenshot(page, node, suffix: str = "") -> None:
    """test-artifacts/screenshots/<test name><suffix>.png, the whole page."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.\-\[\]]+", "_", node.name) + suffix
    try:
        page.screenshot(path=str(SCREENSHOT_DIR / f"{name}.png"), full_page=True)
    except Exception as exc:  # the page may be gone; the test failure is what matters
        sys.stderr.write(f"could not save screenshot for {node.nodeid}: {exc}\n")


# --- the live server ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _postgres_e2e_database(test_url: str) -> str:
    """Drop and create `<test db>_e2e`; its SQLAlchemy URL."""
    import psycopg
    from psycopg import sql

    url = make_url(test_url)
    name = f"{url.database}_e2e"
    admin = url.set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return url.set(database=name).render_as_string(hide_password=False)


def _server_environment(database_url: str, instance_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("FLASK_DEBUG", "REDIS_URL", "FORCE_HTTPS", "SESSION_COOKIE_SECURE", "FLASK_APP"):
        env.pop(name, None)
    env.update(
        DATABASE_URL=database_url,
        PORTAL_INSTANCE_PATH=str(instance_path),
        SECRET_KEY=E2E_SECRET_KEY,
        RATELIMIT_STORAGE_URI="memory://",
        PYTHONUNBUFFERED="1",
    )
    return env


def _flask(env: dict[str, str], *args: str) -> None:
    command = [sys.executable, "-m", "flask", "--app", "portal", *args]
    result = subprocess.run(
        command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    if result.returncode != 0:
        pytest.fail(
            f"`flask {' '.join(args)}` failed ({result.returncode}):\n"
            f"{result.stdout}\n{result.stderr}",
            pytrace=False,
        )


def _wait_until_healthy(base_url: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    last_error = "no answer yet"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"the live server exited with {process.returncode}:\n{log_path.read_text()}",
                pytrace=False,
            )
        try:
            with urllib.request.urlopen(base_url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
                last_error = f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            last_error = f"HTTP {exc.code}"
        except OSError as exc:
            last_error = str(exc)
        time.sleep(0.2)
    pytest.fail(
        f"the live server did not answer /healthz with 200 within {SERVER_START_TIMEOUT:.0f} s "
        f"({last_error}); its output:\n{log_path.read_text()}",
        pytrace=False,
    )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """Base URL (http://127.0.0.1:PORT) of a real gunicorn server on its own demo database."""
    root = tmp_path_factory.mktemp("e2e-server")
    instance_path = root / "instance"
    instance_path.mkdir()
    test_url = os.environ.get("PORTAL_TEST_DATABASE_URL") or ""
    if test_url.startswith("postgresql"):
        database_url = _postgres_e2e_database(test_url)
    else:
        database_url = "sqlite:///" + str(root / "portal-e2e.db")
    env = _server_environment(database_url, instance_path)
    _flask(env, "db", "upgrade")
    _flask(env, "demo-data")

    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    log_path = root / "server.log"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        # One worker: the login throttle keeps its counts in this process's memory.
        "--workers",
        "1",
        "--threads",
        "8",
        "--timeout",
        "60",
        "portal:create_app()",
    ]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        _wait_until_healthy(base_url, process, log_path)
        yield base_url
    finally:
        _stop(process)


# --- the browser and pages ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def playwright_instance(_chromium_required):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance):
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def new_context(browser, request):
    """Factory for extra browser contexts (closed at the end; screenshots on failure)."""
    contexts = []

    def _new(**options):
        options.setdefault("viewport", DESKTOP)
        options.setdefault("locale", "en-US")
        ctx = browser.new_context(**options)
        ctx.set_default_timeout(30_000)
        contexts.append(ctx)
        return ctx

    yield _new
    failed = _call_failed(request.node)
    for index, ctx in enumerate(contexts):
        if failed:
            for number, open_page in enumerate(ctx.pages):
                _save_screenshot(open_page, request.node, f"-ctx{index}-{number}")
        ctx.close()


@pytest.fixture
def context(browser):
    """A fresh desktop browser context per test (no cookies shared between tests)."""
    ctx = browser.new_context(viewport=DESKTOP, locale="en-US")
    ctx.set_default_timeout(30_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context, request):
    page = context.new_page()
    yield page
    if _call_failed(request.node):
        _save_screenshot(page, request.node)


@pytest.fixture
def phone_page(browser, request):
    """A page in a phone-size context (390x844, touch, mobile)."""
    ctx = browser.new_context(
        viewport=PHONE,
        device_scale_factor=3,
        is_mobile=True,
        has_touch=True,
        locale="en-US",
    )
    ctx.set_default_timeout(30_000)
    page = ctx.new_page()
    yield page
    if _call_failed(request.node):
        _save_screenshot(page, request.node)
    ctx.close()


@pytest.fixture
def sign_in(live_server):
    """sign_in(page, username, password="portal-demo"): sign in through the login form."""

    def _sign_in(page, username: str, password: str = DEMO_PASSWORD):
        page.goto(live_server + "/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        with page.expect_navigation():
            page.click("main form button[type=submit]")
        path = page.url[len(live_server) :].split("?")[0]
        assert path != "/login", f"sign-in as {username!r} failed: still on {page.url}"
        return page

    return _sign_in
