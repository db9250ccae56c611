"""The pipeline report over the whole history read off the kept counts of stages and spans (models.stage_counts)
against the same report counted off the stage entries (what it did before; still its path with a window or a
filter), on databases already seeded and migrated. Run by hand:

    .venv/bin/python bench/bench_pipeline_kept.py URL [URL ...] [--rounds 5]

For each database it first checks that both ways give the same report, byte for byte as JSON, for every role that
sees it (caseworker, police, supervisor, community with suppression), with and without the page's 90th
percentiles, and the supervisor's home's funnel against the report's; then it times the two, alternated, as the
supervisor with the page's percentiles (the service, its SQL and the Python around it, not the HTTP layer), and
the windowed report (last year, last 30 days: the same path before and after), printing medians in milliseconds,
the statements of one run and the load average. Nothing here is a test; nothing is written.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from ceasefire import create_app
from ceasefire.extensions import db
from ceasefire.models import User
from ceasefire.services import reports
from ceasefire.services.clock import program_today

ROLES = ("caseworker", "police", "supervisor", "community")
statements = {"n": 0}


def _count(*_args: Any) -> None:
    statements["n"] += 1


def _counted(user: User, window: reports.Window, p90: bool) -> dict[str, Any]:
    """The report as it was counted before: the kept counts of stages and spans set aside."""
    kept = reports.whole_history
    reports.whole_history = lambda _points: None  # type: ignore[assignment]
    try:
        return reports.pipeline(user, window, p90=p90)
    finally:
        reports.whole_history = kept


def _timed(run, rounds: int) -> tuple[float, int]:
    samples = []
    for _ in range(rounds):
        statements["n"] = 0
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
        db.session.rollback()
    return statistics.median(samples), statements["n"]


def _same(role: str, kept: Any, counted: Any) -> None:
    if kept != counted:
        raise SystemExit(f"{role}: the kept counts answer {kept}, counting answers {counted}")


def _check(users: dict[str, User]) -> str:
    """Both ways the same for every role; the supervisor's report as JSON."""
    whole = reports.Window()
    shown = ""
    for role, user in users.items():
        for p90 in (False, True):
            kept = json.dumps(reports.pipeline(user, whole, p90=p90), sort_keys=True)
            _same(role, kept, json.dumps(_counted(user, whole, p90), sort_keys=True))
            db.session.rollback()
            shown = kept if role == "supervisor" and p90 else shown
        report = _counted(user, whole, False)
        _same(role, reports.pipeline_funnel(user), {"funnel": report["funnel"], "conversion": report["conversion"]})
        db.session.rollback()
    return shown


def _database(url: str, rounds: int) -> None:
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url,
                      "RATELIMIT_ENABLED": False})
    with app.app_context():
        users = {role: db.session.get(User, db.session.scalar(
            sa.select(User.id).where(User.role == role).order_by(User.id).limit(1))) for role in ROLES}
        participants = db.session.scalar(sa.text("SELECT count(*) FROM participants"))
        print(f"{url.rsplit('/', 1)[-1]}: {participants:,} participants; load average {os.getloadavg()[0]:.1f}",
              flush=True)
        shown = _check(users)
        print("  the same answers, kept and counted, for every role, with and without the 90th percentiles; the"
              f" supervisor's: {shown}", flush=True)
        supervisor, whole = users["supervisor"], reports.Window()
        today = program_today()
        runs = {
            "counted (before)": lambda: _counted(supervisor, whole, True),
            "kept": lambda: reports.pipeline(supervisor, whole, p90=True),
            "home's funnel": lambda: reports.pipeline_funnel(supervisor),
            "last year (unchanged)": lambda: reports.pipeline(
                supervisor, reports.Window(today - timedelta(days=365), today), p90=True),
            "last 30 days (unchanged)": lambda: reports.pipeline(
                supervisor, reports.Window(today - timedelta(days=30), today), p90=True),
        }
        sa.event.listen(db.engine, "before_cursor_execute", _count)
        times: dict[str, list[tuple[float, int]]] = {label: [] for label in runs}
        for _ in range(rounds):  # alternated, so a drift of the machine falls on each alike
            for label, run in runs.items():
                times[label].append(_timed(run, 1))
        sa.event.remove(db.engine, "before_cursor_execute", _count)
        for label, found in times.items():
            print(f"  {label:>24}: {statistics.median(t for t, _n in found):8.1f} ms, {found[-1][1]} statements",
                  flush=True)
        print(f"  load average {os.getloadavg()[0]:.1f} at the end", flush=True)
        db.session.remove()
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    for url in args.urls:
        _database(url, args.rounds)


if __name__ == "__main__":
    main()
