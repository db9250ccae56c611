"""Take the README's screenshots of the demo program as it is: `.venv/bin/python docs/screenshots/take.py`.

Builds a fresh demo database in a temporary folder (the same `seed-demo` as `make run`, on Pacific time), serves it
on a free port, signs in as each role through the form with Playwright driving Debian's Chromium, and writes the
pictures beside this file. Nothing here runs in the test suite.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
FLASK = str(Path(sys.executable).with_name("flask"))
PASSWORD = "ceasefire-demo-2026"  # noqa: S105 - the demo's printed password
CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _sign_in(page: Page, base: str, who: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(f"{who}@demo.ceasefire.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def _tonight(env: dict[str, str]) -> int:
    """A call-in tonight, through the services: twenty invited, seven already in at the door. Returns its id."""
    os.environ.update(env)
    from datetime import UTC, datetime

    import sqlalchemy as sa

    from ceasefire import create_app
    from ceasefire.extensions import db
    from ceasefire.models import Participant, User
    from ceasefire.models.enums import State
    from ceasefire.services import catalog, events
    from ceasefire.services.clock import program_today, zone

    app = create_app()
    with app.app_context():
        cw = db.session.scalar(sa.select(User).where(User.email == "caseworker@demo.ceasefire.test"))
        day = program_today()
        start = datetime(day.year, day.month, day.day, 18, tzinfo=zone()).astimezone(UTC)
        forum = catalog.create_forum(cw, "Call-in forum, tonight", start, location="Algin Sutton Recreation Center")
        people = db.session.scalars(
            sa.select(Participant).where(Participant.state == State.IDENTIFIED).order_by(Participant.id).limit(20)
        ).all()
        for n, person in enumerate(people):
            events.invite(cw, person, person.version, forum.id, "custom_notification" if n % 2 else "letter")
            if n % 3 == 0:
                events.check_in(cw, person, person.version)
        db.session.commit()
        return forum.id


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="ceasefire-shots-"))
    env = os.environ | {"DATABASE_URL": f"sqlite:///{work / 'demo.sqlite'}", "CEASEFIRE_ENV": "development",
                        "MFA_REQUIRED_ROLES": "none", "TIMEZONE": "America/Los_Angeles"}
    for command in (["db", "upgrade"], ["seed-demo"]):
        subprocess.run([FLASK, "--app", "wsgi", *command], cwd=ROOT, env=env, check=True,  # noqa: S603 - our flask
                       capture_output=True)
    tonight = _tonight(env)
    port = _free_port()
    server = subprocess.Popen(  # noqa: S603 - our own flask
        [FLASK, "--app", "wsgi", "run", "--port", str(port)], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        time.sleep(3)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            shots = [
                ("caseworker", "/", "home-caseworker.png", {"width": 1280, "height": 900}),
                ("provider", "/referrals/inbox", "provider-inbox.png", {"width": 1280, "height": 800}),
                ("supervisor", "/", "home-supervisor.png", {"width": 1280, "height": 1000}),
                ("police", "/", "home-police.png", {"width": 1280, "height": 900}),
                ("community", "/", "home-community.png", {"width": 1280, "height": 800}),
                ("caseworker", "/participants/", "participants.png", {"width": 1280, "height": 900}),
                ("supervisor", "/reports/cohorts", "report-cohorts.png", {"width": 1280, "height": 1000}),
            ]
            for who, path, name, viewport in shots:
                context = browser.new_context(viewport=viewport)
                page = context.new_page()
                _sign_in(page, base, who)
                page.goto(base + path)
                page.screenshot(path=str(HERE / name))
                context.close()
            # The door on a tablet, at tonight's forum; and one participant's page with its timeline.
            context = browser.new_context(viewport={"width": 768, "height": 1024})
            page = context.new_page()
            _sign_in(page, base, "caseworker")
            page.goto(f"{base}/forums/{tonight}/door")
            page.screenshot(path=str(HERE / "door.png"))
            page.set_viewport_size({"width": 1280, "height": 1400})
            page.goto(base + "/participants/?state=services_offered")
            page.locator("table a[href^='/participants/']").first.click()
            page.wait_for_load_state()
            page.screenshot(path=str(HERE / "participant.png"))
            context.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)
    print("Screenshots written to", HERE)


if __name__ == "__main__":
    main()
