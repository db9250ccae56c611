"""How fast the pages and the API answer on a program of realistic size. Run by hand:

    .venv/bin/python bench/bench_api.py [--participants 2000] [--database-url URL]

It builds a scratch database (SQLite in a temporary folder unless --database-url names another, which must be
empty), seeds the demo program at the size asked, and prints the median and 95th percentile of each request over
a number of rounds. Nothing here is a test: it prints figures for people to read.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import event

from ceasefire import create_app
from ceasefire.extensions import db
from ceasefire.services import accounts


def _timed(client, path: str, headers: dict, rounds: int) -> tuple[float, float, int]:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        samples.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}")
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1], len(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="ceasefire-bench-")
    url = args.database_url or "sqlite:///" + str(Path(folder) / "bench.sqlite")
    app = create_app({
        "TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False,
        "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024,
    })
    with app.app_context():
        db.create_all()
        from ceasefire import demo

        started = time.perf_counter()
        demo.seed(args.participants)
        db.session.commit()
        print(f"seed-demo --participants {args.participants}: {time.perf_counter() - started:.1f} s")

        queries = {"n": 0}

        @event.listens_for(db.engine, "before_cursor_execute")
        def _count(*_args):
            queries["n"] += 1

        client = app.test_client()
        print(f"{'role':<11} {'request':<42} {'median ms':>10} {'p95 ms':>8} {'queries':>8}")
        for role in ("caseworker", "police", "provider", "community", "supervisor"):
            user = accounts.user_by_email(f"{role}@demo.ceasefire.test")
            _token, plain = accounts.create_token(user, "bench")
            db.session.commit()
            headers = {"Authorization": f"Bearer {plain}"}
            for path in ("/api/v1/participants?per_page=50", "/api/v1/participants?per_page=200",
                         "/api/v1/participants?q=jo", "/api/v1/participants/1"):
                if role in ("provider", "community") and path.endswith("/1"):
                    continue
                queries["n"] = 0
                client.get(path, headers=headers)
                per_request = queries["n"]
                median, p95, _n = _timed(client, path, headers, args.rounds)
                print(f"{role:<11} {path:<42} {median:>10.1f} {p95:>8.1f} {per_request:>8}")
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    main()
