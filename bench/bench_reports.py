"""How long each report takes at two program sizes, side by side, on SQLite and (when given) PostgreSQL. Run by hand:

    .venv/bin/python bench/bench_reports.py [LARGER] [--small 1000] [--rounds 5] [--postgresql URL [--no-sqlite]]
    .venv/bin/python bench/bench_reports.py LARGER --existing SMALL_URL LARGER_URL [--only pipeline cohorts ...]

For each database and each size it empties the database (SQLite: a new file in a temporary folder; PostgreSQL:
every table of the URL's database is dropped, so never point it at one you keep), seeds the demo program with
`seed-demo --participants N`'s own code (the bulk seed, then counts.refresh(), which also fills the kept stage
entries and cohort members), and times each report service (its SQL and the Python around it, not
the HTTP layer) as the supervisor, over the whole history and over the last year. It prints the median of the
rounds in milliseconds and the number of SQL statements of one run, beside a floor measured in the same run: one
pass of the database over every status change (`SELECT to_state, count(*) ... GROUP BY to_state`), the least any
pipeline report must do, so that figures taken on a busy machine can still be compared. The load average is
printed before and after each size. PostgreSQL's tables are ANALYZEd after seeding (as autovacuum would soon do);
SQLite's are not (nothing runs ANALYZE there). With --existing it seeds nothing and empties nothing: it times two
databases already seeded (say copies of the shared bench databases, migrated). Nothing here is a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from ceasefire import create_app
from ceasefire.extensions import db
from ceasefire.services import program_reports, reports
from ceasefire.services.clock import program_today

REPORTS = {**reports.REPORTS, **program_reports.PROGRAM_REPORTS}


statements = {"n": 0}


def count(*_args) -> None:
    statements["n"] += 1


def _measure(
    sizes: list[int], url_for_size, rounds: int, seed: bool = True, only: list[str] | None = None,
) -> dict[tuple[str, int], tuple[float, int]]:
    results: dict[tuple[str, int], tuple[float, int]] = {}
    for size in sizes:
        url = url_for_size(size)
        app = create_app({
            "TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False,
            "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024,
        })
        with app.app_context():
            if seed:
                _seed(size)
            print(f"  load average {_load()}", flush=True)
            supervisor = db.session.scalar(sa.text("SELECT id FROM users WHERE role = 'supervisor' LIMIT 1"))
            from ceasefire.models import User

            user = db.session.get(User, supervisor)
            today = program_today()
            windows = {"all": reports.Window(), "last year": reports.Window(today - timedelta(days=365), today)}
            floor = []
            for _ in range(rounds):
                started = time.perf_counter()
                db.session.execute(sa.text("SELECT to_state, count(*) FROM status_changes GROUP BY to_state")).all()
                floor.append((time.perf_counter() - started) * 1000)
                db.session.rollback()
            results[("floor: scan status changes", size)] = (statistics.median(floor), 1)
            sa.event.listen(db.engine, "before_cursor_execute", count)
            for name, report in REPORTS.items():
                if only and name not in only:
                    continue
                for label, window in windows.items():
                    samples = []
                    for _ in range(rounds):
                        statements["n"] = 0
                        started = time.perf_counter()
                        report(user, window)
                        samples.append((time.perf_counter() - started) * 1000)
                        db.session.rollback()
                    results[(f"{name} ({label})", size)] = (statistics.median(samples), statements["n"])
            sa.event.remove(db.engine, "before_cursor_execute", count)
            print(f"  load average {_load()}", flush=True)
            db.session.remove()
            db.engine.dispose()
    return results


def _seed(size: int) -> None:
    db.drop_all()
    db.create_all()
    # a fresh connection to seed through: on SQLite, demo_bulk's PRAGMA temp_store fails on the one that built the
    # schema
    db.session.remove()
    db.engine.dispose()
    from ceasefire import demo_bulk
    from ceasefire.models import counts

    started = time.perf_counter()
    demo_bulk.seed(size)
    counts.refresh(db.session)
    db.session.commit()
    print(f"  seeded {size} participants on {db.engine.dialect.name} in {time.perf_counter() - started:.0f} s",
          flush=True)
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as conn:
            conn.execute(sa.text("ANALYZE"))
            conn.commit()


def _load() -> str:
    return " ".join(f"{n:.2f}" for n in os.getloadavg())


def _print(title: str, sizes: list[int], results: dict[tuple[str, int], tuple[float, int]]) -> None:
    print(f"\n{title}")
    head = "".join(f"{f'{n:,} ms':>14}{'stmts':>7}" for n in sizes)
    print(f"{'report':<30}{head}")
    for name in dict.fromkeys(key for key, _size in results):
        cells = "".join(f"{results[(name, n)][0]:>14.1f}{results[(name, n)][1]:>7}" for n in sizes)
        print(f"{name:<30}{cells}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("larger", nargs="?", type=int, default=10_000, help="the larger size (participants)")
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--postgresql", default=None, help="a scratch PostgreSQL database's URL (it is emptied)")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL alone")
    parser.add_argument("--existing", nargs=2, metavar=("SMALL_URL", "LARGER_URL"), default=None,
                        help="time two databases already seeded (at --small and LARGER), seeding and emptying nothing")
    parser.add_argument("--only", nargs="*", choices=sorted(REPORTS), help="these reports alone")
    args = parser.parse_args()
    if args.existing:
        sizes = [args.small, args.larger]
        urls = dict(zip(sizes, args.existing, strict=True))
        _print("Existing databases", sizes, _measure(sizes, urls.__getitem__, args.rounds, seed=False, only=args.only))
        return
    sizes = [args.small, args.larger]
    if not args.no_sqlite:
        folder = tempfile.mkdtemp(prefix="ceasefire-bench-")
        results = _measure(sizes, lambda n: "sqlite:///" + str(Path(folder) / f"reports-{n}.sqlite"), args.rounds,
                           only=args.only)
        _print("SQLite", sizes, results)
    if args.postgresql:
        _print("PostgreSQL", sizes, _measure(sizes, lambda _n: args.postgresql, args.rounds, only=args.only))


if __name__ == "__main__":
    main()
