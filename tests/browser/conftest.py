"""Browser tests: Playwright's sync API driving Debian's Chromium against the app served from a thread on the test's
own database, with CSRF on as in production.

- `browser`: one Chromium for the whole run; `context` and `page`: a fresh one for each test (cookies not shared);
  `new_page(viewport=...)`: another context and page in the same test (a second person, or a tablet).

- `live_server`: the base URL of the app (a werkzeug server in a thread; the test's app context stays usable for
  building records with the factories, which commit).
- `sign_in(page, user)`: signs in through the form, as a person would.
- `axe(page)` (a fixture): runs axe-core (tests/browser/node_modules, installed by `make test`) on the page and
  returns the serious and critical violations; `assert_accessible(page)` (a fixture) fails with them listed.
- `settle()`: ends the test thread's read transaction, so the server thread can write (SQLite locks the file).

Every test under tests/browser is marked `browser`; `.ci/run` runs them with the SQLite suite.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import PASSWORD
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from werkzeug.serving import make_server

from ceasefire.extensions import db

CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
# As the machine's notes say: without the background-networking flags Chromium keeps calling out to a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser) -> Iterator:
    """`new_page(**context_options)`: a page in a context of its own; all are closed after the test."""
    contexts: list[BrowserContext] = []

    def new_page(**options) -> Page:
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield new_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page) -> Page:
    return new_page()


@pytest.fixture
def app_config(app_config) -> dict:
    return app_config | {"WTF_CSRF_ENABLED": True}


@pytest.fixture
def live_server(app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def settle():
    def settle() -> None:
        db.session.commit()
        db.session.expire_all()

    return settle


@pytest.fixture
def sign_in(live_server, settle):
    def sign_in(page, user, password: str = PASSWORD) -> None:
        settle()
        page.goto(f"{live_server}/login")
        page.get_by_label("Email").fill(user.email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        assert "/login" not in page.url, f"sign-in failed for {user.email}: {page.url}"

    return sign_in


def _violations(page, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict]:
    """axe-core's violations of the given impacts on the page as it is now. The script is evaluated through the
    DevTools protocol, so the page's strict CSP stays as it is."""
    assert AXE.exists(), f"{AXE} is missing: `make browser` installs it (npm ci --prefix tests/browser)"
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("async () => await window.axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v.get("impact") in impacts]


def _assert_accessible(page) -> None:
    violations = _violations(page)
    details = [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"][:5]]}
        for v in violations
    ]
    assert not violations, f"axe found on {page.url}:\n{json.dumps(details, indent=2)}"


@pytest.fixture
def axe():
    """`axe(page)`: the serious and critical violations axe-core finds on the page as it is now."""
    return _violations


@pytest.fixture
def assert_accessible():
    """`assert_accessible(page)`: fails listing every serious or critical violation axe-core finds."""
    return _assert_accessible
