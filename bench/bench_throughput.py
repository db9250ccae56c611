"""Throughput of the authenticated JSON participant list against a bare Flask-SQLAlchemy route running the same
query and a `{}` route, under gunicorn (2 workers), side by side in one run, at each size. Run by hand:

    .venv/bin/python bench/bench_throughput.py [--sizes 1000 150000] [--seconds 5] [--rounds 3]
    .venv/bin/python bench/bench_throughput.py --database 1000000=postgresql+psycopg://postgres@127.0.0.1/bench_big

Each size gets a SQLite database under /tmp/ceasefire-bench or --folder (built once with `flask db upgrade` and
`flask seed-demo --participants N`, kept for the next run) unless --database SIZE=URL names one already seeded. The
routes take turns (API, bare, empty, API, ...) for --rounds rounds of --seconds each, from client processes of
their own, so a drift of the machine's speed falls on all three alike. It prints requests a second, the API's
share of the bare route, the statements of one API request, and the largest worker's resident memory.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv" / "bin"
FOLDER = Path("/tmp/ceasefire-bench")  # noqa: S108 - scratch databases of a benchmark run by hand


def _flask(url: str, *args: str) -> str:
    env = {**os.environ, "DATABASE_URL": url, "CEASEFIRE_ENV": "development"}
    command = [str(VENV / "flask"), "--app", "wsgi", *args]
    done = subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, text=True)  # noqa: S603
    return done.stdout


def _database(size: int, given: dict[int, str], folder: Path) -> str:
    if size in given:
        return given[size]
    folder.mkdir(exist_ok=True)
    path = folder / f"bench-{size}.sqlite"
    url = f"sqlite:///{path}"
    if not path.exists():
        _flask(url, "db", "upgrade")
        started = time.perf_counter()
        _flask(url, "seed-demo", "--participants", str(size))
        print(f"  seed-demo --participants {size}: {time.perf_counter() - started:.0f} s", flush=True)
    return url


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _hammer(port: int, path: str, headers: dict, seconds: float, threads: int, out) -> None:
    """One client process: `threads` connections asking for `path` again and again until the time is up."""
    counts = [0] * threads
    stop = time.perf_counter() + seconds

    def worker(k: int) -> None:
        while time.perf_counter() < stop:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            conn.close()
            if response.status != 200:
                raise SystemExit(f"{path} answered {response.status}")
            counts[k] += 1

    pool = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    out.put(sum(counts))


def _rate(port: int, path: str, headers: dict, seconds: float) -> float:
    queue: multiprocessing.Queue = multiprocessing.Queue()
    clients = [multiprocessing.Process(target=_hammer, args=(port, path, headers, seconds, 3, queue)) for _ in range(2)]
    started = time.perf_counter()
    for c in clients:
        c.start()
    total = sum(queue.get() for _ in clients)
    for c in clients:
        c.join()
    return total / (time.perf_counter() - started)


def _worker_memory(master: int, field: str = "VmRSS:") -> int:
    """The largest of a /proc status field (VmRSS: resident memory now; VmHWM: its peak) over the master's workers,
    in MB."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    sizes = []
    for pid in children:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field):
                sizes.append(int(line.split()[1]) // 1024)
    return max(sizes, default=0)


def _statements(url: str, token: str, path: str) -> int:
    """The statements one API request sends, counted in a process of its own (the test client, no server)."""
    code = f"""
import sqlalchemy as sa
from ceasefire import create_app
from ceasefire.extensions import db
app = create_app()
n = []
with app.app_context():
    sa.event.listen(db.engine, "before_cursor_execute", lambda *a: n.append(1))
client = app.test_client()
headers = {{"Authorization": "Bearer {token}"}}
client.get({path!r}, headers=headers)
n.clear()
client.get({path!r}, headers=headers)
print(len(n))
"""
    env = {**os.environ, "DATABASE_URL": url, "CEASEFIRE_ENV": "development"}
    done = subprocess.run([str(VENV / "python"), "-c", code], cwd=ROOT, env=env, check=True,  # noqa: S603
                          capture_output=True, text=True)
    return int(done.stdout.split()[-1])


def measure(size: int, url: str, seconds: float, rounds: int, paths: dict[str, str]) -> dict:
    token = _flask(url, "create-token", "caseworker@demo.ceasefire.test", "--name", "bench").split()[-1]
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "CEASEFIRE_ENV": "development", "PYTHONPATH": str(ROOT / "bench")}
    command = [str(VENV / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning",
               "bench_server:app"]
    server = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        auth = {"Authorization": f"Bearer {token}"}
        headers = {name: auth if name.startswith("api") else {} for name in paths}
        rates: dict[str, list[float]] = {name: [] for name in paths}
        for name, path in paths.items():  # warm both workers up
            _rate(port, path, headers[name], 1)
        for _ in range(rounds):
            for name, path in paths.items():
                rates[name].append(_rate(port, path, headers[name], seconds))
        rss = _worker_memory(server.pid)
    finally:
        server.terminate()
        server.wait()
    medians = {name: sorted(r)[len(r) // 2] for name, r in rates.items()}
    statements = {name: _statements(url, token, path) for name, path in paths.items() if name.startswith("api")}
    return {"size": size, "rates": medians, "rss": rss, "statements": statements}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 150000])
    parser.add_argument("--database", action="append", default=[], help="SIZE=URL of a database already seeded")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--folder", type=Path, default=FOLDER, help="where the SQLite databases are kept")
    args = parser.parse_args()
    given = {int(k): v for k, v in (d.split("=", 1) for d in args.database)}
    sizes = sorted(set(args.sizes) | set(given)) if given else args.sizes
    paths = {
        "api list": "/api/v1/participants?per_page=50",
        "api q=jo": "/api/v1/participants?per_page=50&q=jo",
        "api q=jon": "/api/v1/participants?per_page=50&q=jon",
        "api state": "/api/v1/participants?per_page=50&state=invited",
        "api page 10": "/api/v1/participants?per_page=50&page=10",
        "bare": "/bench/bare?per_page=50",
        "empty": "/bench/empty",
    }
    print(f"{os.cpu_count()} cores; gunicorn, 2 sync workers; {args.rounds} rounds of {args.seconds:g} s a route; "
          f"medians of requests a second", flush=True)
    results = []
    for size in sizes:
        url = _database(size, given, args.folder)
        print(f"  measuring {size:,} on {url.split(':')[0]} ...", flush=True)
        results.append(measure(size, url, args.seconds, args.rounds, paths))
    head = f"{'route':<12}" + "".join(f"{format(r['size'], ',') + ' req/s':>16}{'stmts':>6}" for r in results)
    if len(results) == 2:
        head += f"{'ratio':>8}"
    print(head)
    for name in paths:
        line = f"{name:<12}"
        for r in results:
            line += f"{r['rates'][name]:>16.0f}{r['statements'].get(name, ''):>6}"
        if len(results) == 2:
            line += f"{results[0]['rates'][name] / results[1]['rates'][name]:>7.2f}x"
        print(line)
    for r in results:
        share = r["rates"]["api list"] / r["rates"]["bare"]
        floor = r["rates"]["bare"] / r["rates"]["empty"]
        print(f"at {r['size']:,}: API list at {share:.0%} of the bare route (the bare route at {floor:.0%} of the"
              f" empty one); largest worker {r['rss']} MB resident")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
