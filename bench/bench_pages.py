"""Every page and API endpoint a user reaches, timed at two sizes side by side, with the floors (the bare route and
the `{}` route of bench/bench_server.py) measured in the same run. Run by hand:

    .venv/bin/python bench/bench_pages.py --database 1000=postgresql+psycopg://postgres@127.0.0.1/small \\
        --database 1000000=postgresql+psycopg://postgres@127.0.0.1/big [--requests 5] [--only participants]

Without --database each size gets a SQLite database under /tmp/ceasefire-bench (`--sizes 1000 20000`), seeded as
bench/bench_throughput.py does. Each size is served by gunicorn (2 sync workers) of its own, both running at once;
PostgreSQL databases are ANALYZEd first (a bulk seed leaves no planner statistics, and autovacuum may be off). One
client signs in as each demo role (a session for the pages, a token for the API) and asks for each route at each
size in turn, `--requests` times, so a drift of the machine's speed falls on both sizes alike. It prints the
median time of each route at each size, their ratio (large / small; `!` beyond 1.5), the floors, the core count and
the load average, and then which GET routes of the app (its url_map) and which links of pages.NAV no row reached.
The ids a route needs (a participant with referrals and invitations, the forum with the longest roster, the largest
group, ...) are picked from each database alike.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

import requests
import sqlalchemy as sa
from bench_throughput import FOLDER, ROOT, VENV, _database, _flask, _free_port, _worker_memory

ROLES = ("caseworker", "police", "provider", "community", "supervisor", "admin")
PASSWORD = "ceasefire-demo-2026"  # noqa: S105 - the demo's printed password (ceasefire/demo.py)
LIMIT = 1.5
SLOW = 10.0  # seconds: a route slower than this at either size is timed by its first request alone

# GET routes no row measures, and why.
UNMEASURED = {
    "static": "files",
    "auth.login": "the sign-in form, before any data",
    "auth.verify": "second factor: off in the bench",
    "auth.mfa": "second factor: off in the bench",
    "auth.new_password": "only after an admin reset",
    "audit.export": "the whole trail grows with N by nature; measured filtered to one participant",
}


@dataclass
class Route:
    label: str
    role: str
    path: str  # with {names} filled from the ids picked in each database
    api: bool = False
    times: dict[int, list[float]] = field(default_factory=dict)
    status: dict[int, int] = field(default_factory=dict)


def routes() -> list[Route]:
    """Each role's pages and API endpoints, in the order a reader looks for them."""
    r: list[Route] = []

    def page(role: str, label: str, path: str) -> None:
        r.append(Route(label, role, path))

    def api(role: str, label: str, path: str) -> None:
        r.append(Route(label, role, "/api/v1" + path, api=True))

    page("caseworker", "floor: {} route", "/bench/empty")
    page("caseworker", "floor: bare list route", "/bench/bare?per_page=50")
    for role in ROLES[:5]:
        page(role, "home", "/")
    page("admin", "home (admin area)", "/admin/")
    page("caseworker", "profile", "/profile")
    page("caseworker", "profile password", "/profile/password")
    # The participant list, as each role sees it, with every filter.
    for role in ("caseworker", "police", "provider", "community", "supervisor"):
        page(role, "participants", "/participants/")
    for label, query in (
        ("state=invited", "state=invited"), ("q=jon", "q=jon"), ("page=10", "page=10"),
        ("sort=changed", "sort=changed"), ("sort=state", "sort=state"), ("group", "group_id={group}"),
        ("caseworker", "caseworker_id={caseworker}"), ("forum", "forum_id={forum}"),
        ("supervision", "supervision_status=probation"), ("state+group", "state=invited&group_id={group}"),
        ("q=jon&state", "q=jon&state=identified"),
        # searches of one letter, of a long part of a name matching tens of thousands, within a group; a whole
        # last name (longer than the kept counts' pieces), alone and within a state
        ("q=j", "q=j"), ("q=john", "q=john"), ("q=jo&group", "q=jo&group_id={group}"),
        ("q=johnson", "q=johnson"), ("q=johnson&state", "q=johnson&state=identified"),
    ):
        page("caseworker", f"participants {label}", f"/participants/?{query}")
    page("community", "participants q=jon", "/participants/?q=jon")
    # One participant and its forms.
    page("caseworker", "participant", "/participants/{participant}")
    page("police", "participant", "/participants/{participant}")
    page("supervisor", "participant", "/participants/{participant}")
    page("provider", "participant", "/participants/{provider_participant}")
    page("community", "participant", "/participants/{community_participant}")
    page("caseworker", "participant new", "/participants/new")
    page("caseworker", "participant edit", "/participants/{participant}/edit")
    page("caseworker", "participant event close", "/participants/{participant}/events/close")
    page("caseworker", "participant event invite", "/participants/{identified}/events/invite")
    page("caseworker", "participant consent", "/participants/{participant}/consent")
    page("caseworker", "participant consent revoke", "/participants/{participant}/consent/revoke")
    page("caseworker", "participant visit new", "/participants/{participant}/custom-notifications/new")
    page("caseworker", "participant removal request new", "/participants/{participant}/removal-requests/new")
    page("police", "participant enforcement", "/participants/{participant}/enforcement")
    # The forms' look-ups: the names suggested as a user types (static/js/lookup.js).
    for kind, typed in (("group", "west"), ("caseworker", "dana"), ("community", "watts"), ("service", "job"),
                        ("team_member", "sam"), ("team_organization", "watts")):
        page("caseworker", f"look-up {kind} q={typed}", f"/lookup/{kind}?q={typed}")
    page("supervisor", "participant notice", "/participants/{participant}/notice")
    # Forums.
    for role in ("caseworker", "police", "community", "provider", "supervisor"):
        page(role, "forums", "/forums/")
    page("caseworker", "forums page=2", "/forums/?page=2")
    page("caseworker", "forum (largest roster)", "/forums/{forum}")
    page("caseworker", "forum q=jon", "/forums/{forum}?q=jon")
    page("caseworker", "forum page=3", "/forums/{forum}?page=3")
    page("community", "forum", "/forums/{forum}")
    page("caseworker", "forum print", "/forums/{forum}/print")
    page("caseworker", "forum new", "/forums/new")
    page("caseworker", "forum edit", "/forums/{forum}/edit")
    page("caseworker", "planned forum", "/forums/{planned}")
    page("caseworker", "planned forum door", "/forums/{planned}/door")
    page("caseworker", "planned forum door q=jon", "/forums/{planned}/door?q=jon")
    page("caseworker", "planned forum invite", "/forums/{planned}/invite")
    page("caseworker", "planned forum close-out", "/forums/{planned}/close-out")
    page("caseworker", "planned forum held", "/forums/{planned}/held")
    page("caseworker", "planned forum cancel", "/forums/{planned}/cancel")
    # Groups.
    page("caseworker", "groups", "/groups/")
    page("police", "groups", "/groups/")
    page("supervisor", "groups", "/groups/")
    page("police", "group (largest)", "/groups/{group}")
    page("police", "group edit", "/groups/{group}/edit")
    page("police", "group enforcement", "/groups/{group}/enforcement")
    page("police", "group new", "/groups/new")
    # Referrals.
    page("caseworker", "referrals", "/referrals/")
    page("supervisor", "referrals", "/referrals/")
    page("provider", "referrals", "/referrals/")
    page("caseworker", "referrals status=sent", "/referrals/?status=sent")
    page("caseworker", "referral", "/referrals/{referral}")
    for tab in ("new", "accepted", "enrolled", "closed"):
        page("provider", f"inbox tab={tab}", f"/referrals/inbox?tab={tab}")
    page("provider", "referral", "/referrals/{provider_referral}")
    # Reports (timed here, sped up elsewhere).
    for path in ("/reports/", "/reports/cohorts", "/reports/referrals", "/reports/identification", "/reports/groups",
                 "/reports/activity", "/reports/funder?date_from=2025-01-01&date_to=2025-12-31",
                 "/reports/pipeline.svg", "/reports/pipeline-days.svg", "/reports/cohorts.svg",
                 "/reports/activity.svg?measure=forums_held"):
        page("supervisor", "report " + path.removeprefix("/reports/").split("&")[0], path)
    page("community", "report pipeline", "/reports/")
    page("caseworker", "report pipeline", "/reports/")
    page("police", "report pipeline", "/reports/")
    page("provider", "report referrals", "/reports/referrals")
    # the referral outcomes over the last year, and over a quarter before it (each service's referrals probed); who is
    # identified and the pipeline over the last year
    year_ago, quarter = date.today() - timedelta(days=365), date.today() - timedelta(days=500)
    page("supervisor", "report identification last year", f"/reports/identification?date_from={year_ago}")
    page("supervisor", "report pipeline last year", f"/reports/?date_from={year_ago}")
    page("supervisor", "report pipeline a past quarter",
         f"/reports/?date_from={quarter}&date_to={quarter + timedelta(days=90)}")
    page("community", "report pipeline 2025", "/reports/?date_from=2025-01-01&date_to=2025-12-31")
    api("police", "report pipeline last year", f"/reports/pipeline?from={year_ago}")
    # the pipeline of one group's members and of one forum's invitees, over the whole history and the last year
    page("supervisor", "report pipeline group", "/reports/?group_id={group}")
    page("supervisor", "report pipeline group last year", f"/reports/?group_id={{group}}&date_from={year_ago}")
    page("supervisor", "report pipeline forum", "/reports/?forum_id={forum}")
    api("supervisor", "report pipeline forum last year", f"/reports/pipeline?forum_id={{forum}}&from={year_ago}")
    page("supervisor", "report referrals last year", f"/reports/referrals?date_from={year_ago}")
    page("supervisor", "report referrals a past quarter",
         f"/reports/referrals?date_from={quarter}&date_to={quarter + timedelta(days=90)}")
    # Due process and the audit trail.
    page("supervisor", "reviews", "/reviews/")
    page("supervisor", "review", "/reviews/{review}")
    page("supervisor", "removal requests", "/removal-requests/")
    page("caseworker", "removal requests", "/removal-requests/")
    page("supervisor", "removal request", "/removal-requests/{removal_request}")
    page("supervisor", "removal request letter", "/removal-requests/{decided_request}/letter")
    page("supervisor", "criteria", "/criteria/")
    page("supervisor", "audit", "/audit/")
    page("supervisor", "audit participant", "/audit/?participant_id={participant}")
    page("supervisor", "audit action=view", "/audit/?action=view")
    page("supervisor", "audit export participant", "/audit/export.csv?participant_id={participant}")
    # Admin.
    for path in ("/admin/users/", "/admin/users/?q=dana", "/admin/users/{user}", "/admin/users/new",
                 "/admin/organizations/", "/admin/organizations/{organization}", "/admin/organizations/new",
                 "/admin/services/", "/admin/services/{service}", "/admin/services/new"):
        page("admin", path.removeprefix("/admin/").rstrip("/"), path)
    # The API.
    api("caseworker", "API participants", "/participants?per_page=50")
    for label, query in (("state", "state=invited"), ("q=jon", "q=jon"), ("group", "group_id={group}"),
                         ("page=10", "page=10"), ("q=johnson", "q=johnson"),
                         ("q=johnson&state", "q=johnson&state=identified")):
        api("caseworker", f"API participants {label}", f"/participants?per_page=50&{query}")
    api("provider", "API participants", "/participants?per_page=50")
    api("community", "API participants", "/participants?per_page=50")
    api("supervisor", "API participants", "/participants?per_page=50")
    api("caseworker", "API participant", "/participants/{participant}")
    api("caseworker", "API participant history", "/participants/{participant}/history")
    api("caseworker", "API participant outcomes", "/participants/{participant}/outcomes")
    api("caseworker", "API participant visits", "/participants/{participant}/custom-notifications")
    api("caseworker", "API forums", "/forums")
    api("caseworker", "API forum (largest roster)", "/forums/{forum}")
    api("caseworker", "API groups", "/groups")
    api("caseworker", "API organizations", "/organizations")
    api("caseworker", "API services", "/services")
    api("caseworker", "API referrals", "/referrals")
    api("provider", "API referrals", "/referrals")
    api("supervisor", "API removal requests", "/removal-requests")
    api("supervisor", "API reviews", "/reviews")
    api("supervisor", "API audit", "/audit")
    api("supervisor", "API audit participant", "/audit?participant_id={participant}")
    for name in ("pipeline", "cohorts", "referrals", "identification"):
        api("supervisor", f"API report {name}", f"/reports/{name}")
    # The files of the two every-row reports: they stream, which the workers' peak memory printed at the end shows.
    for name in ("cohorts", "referrals"):
        for fmt in ("csv", "xlsx"):
            api("supervisor", f"API report {name} {fmt}", f"/reports/{name}?format={fmt}")
    api("caseworker", "API openapi.json", "/openapi.json")
    return r


def pick_ids(url: str) -> dict[str, object]:
    """The ids the routes name, chosen by the same rule in each database."""
    engine = sa.create_engine(url)
    one = {
        "participant": "select r.participant_id from referrals r join participants p on p.id = r.participant_id"
                       " join invitations i on i.participant_id = p.id where p.purged_at is null"
                       " order by r.participant_id limit 1",
        "identified": "select id from participants where state = 'identified' and purged_at is null order by id"
                      " limit 1",
        "forum": "select forum_id from invitations group by forum_id order by count(*) desc, forum_id limit 1",
        "planned": "select f.id from forums f left join invitations i on i.forum_id = f.id where f.status = 'planned'"
                   " group by f.id order by count(i.id) desc, f.id limit 1",
        "group": "select group_id from participants where group_id is not null group by group_id"
                 " order by count(*) desc, group_id limit 1",
        "caseworker": "select caseworker_id from participants where caseworker_id is not null group by caseworker_id"
                      " order by count(*) desc, caseworker_id limit 1",
        "referral": "select min(id) from referrals",
        "review": "select min(id) from participants where purged_at is null",
        "removal_request": "select min(id) from removal_requests",
        "decided_request": "select min(id) from removal_requests where status <> 'open'",
        "user": "select id from users where email = 'caseworker@demo.ceasefire.test'",
        "organization": "select min(id) from organizations",
        "service": "select min(id) from services",
    }
    with engine.connect() as conn:
        ids = {name: conn.scalar(sa.text(sql)) for name, sql in one.items()}
        ids["counts"] = conn.scalar(sa.text("select count(*) from participants"))
    engine.dispose()
    return ids


@dataclass
class Server:
    size: int
    url: str
    port: int = 0
    process: subprocess.Popen | None = None
    tokens: dict[str, str] = field(default_factory=dict)
    sessions: dict[str, requests.Session] = field(default_factory=dict)
    ids: dict[str, object] = field(default_factory=dict)

    def analyze(self) -> None:
        """Fresh planner statistics, as autovacuum keeps them on a server where it runs (a bulk seed leaves none)."""
        if self.url.startswith("postgresql"):
            engine = sa.create_engine(self.url, isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE")
            engine.dispose()

    def start(self) -> None:
        self.port = _free_port()
        env = {**os.environ, "DATABASE_URL": self.url, "CEASEFIRE_ENV": "development", "MFA_REQUIRED_ROLES": "none",
               "LOGIN_RATE_LIMIT": "1000 per minute", "PYTHONPATH": str(ROOT / "bench")}
        command = [str(VENV / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{self.port}", "--log-level", "warning",
                   "--timeout", "300", "bench_server:app"]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)  # noqa: S603
        for _ in range(150):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"gunicorn for {self.size} did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:  # a worker deep in a slow request
                os.killpg(self.process.pid, 9)
                self.process.wait()

    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def memory(self) -> str:
        """The largest peak resident memory (VmHWM) of this server's workers so far, and the largest now of their own
        memory (RssAnon) and of the files they map (RssFile), in MB: the issue's bound on one worker's memory, read
        under the whole page load (the every-row APIs and the report files included). On SQLite the mapped file is
        mostly the database (PRAGMA mmap_size), pages of the operating system's cache that every worker shares."""
        if self.process is None:
            return "not started"
        fields = [_worker_memory(self.process.pid, name) for name in ("VmHWM:", "RssAnon:", "RssFile:")]
        return "peak {} MB resident (now {} MB its own, {} MB of mapped files)".format(*fields)

    def sign_in(self) -> None:
        for role in ROLES:
            email = f"{role}@demo.ceasefire.test"
            self.tokens[role] = _flask(self.url, "create-token", email, "--name", "bench").split()[-1]
            s = requests.Session()
            form = s.get(self.base() + "/login", timeout=60).text
            token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)
            if token is None:
                raise SystemExit("no CSRF token on the sign-in page")
            answer = s.post(self.base() + "/login", data={"csrf_token": token.group(1), "email": email,
                                                          "password": PASSWORD}, timeout=60, allow_redirects=False)
            if answer.status_code != 302:
                raise SystemExit(f"{email} could not sign in ({answer.status_code})")
            self.sessions[role] = s

    def pick(self) -> None:
        """The ids, from the database; and those a role's scope decides, from the API as that role."""
        self.ids = pick_ids(self.url)
        for role, name, path in (("provider", "provider_participant", "/participants?per_page=1"),
                                 ("community", "community_participant", "/participants?per_page=1"),
                                 ("provider", "provider_referral", "/referrals?per_page=1")):
            items = self.get(Route("", role, "/api/v1" + path, api=True))[1].json()["items"]
            self.ids[name] = items[0]["id"] if items else None

    def get(self, route: Route) -> tuple[float, requests.Response]:
        path = route.path.format(**self.ids)
        session = self.sessions[route.role] if not route.api else requests
        headers = {"Authorization": f"Bearer {self.tokens[route.role]}"} if route.api else {}
        started = time.perf_counter()
        answer = session.get(self.base() + path, headers=headers, timeout=300, allow_redirects=False)
        answer.content  # noqa: B018 - read the whole body inside the timing
        return time.perf_counter() - started, answer


def measure(servers: list[Server], plan: list[Route], count: int) -> Iterator[Route]:
    for route in plan:
        if any("{" in route.path and _missing(route, s.ids) for s in servers):
            route.status = {s.size: 0 for s in servers}
            yield route
            continue
        warm = [s.get(route) for s in servers]  # one request each to warm the workers' caches
        if max(took for took, _ in warm) >= SLOW:  # too slow to ask again: the first answers are the figures
            for s, (took, answer) in zip(servers, warm, strict=True):
                route.times[s.size] = [took * 1000]
                route.status[s.size] = answer.status_code
            yield route
            continue
        for _ in range(count):
            for s in servers:
                took, answer = s.get(route)
                route.times.setdefault(s.size, []).append(took * 1000)
                route.status[s.size] = answer.status_code
        yield route


def _missing(route: Route, ids: dict[str, object]) -> bool:
    names = re.findall(r"{(\w+)}", route.path)
    return any(ids.get(n) is None for n in names)


class _AnyId(dict):
    def __missing__(self, key: str) -> int:
        return 1  # the path's shape is all the url_map needs


def coverage(url: str, plan: list[Route], ids: dict[str, object]) -> list[str]:
    """The GET routes of the app no row measured, and the NAV links a role may follow that no row of that role
    measured."""
    os.environ.update({"DATABASE_URL": url, "CEASEFIRE_ENV": "development"})
    sys.path.insert(0, str(ROOT))
    from ceasefire import create_app, pages, policy
    from ceasefire.models import User

    app = create_app()
    adapter = app.url_map.bind("localhost")
    reached: set[tuple[str, str]] = set()
    for route in plan:
        if route.path.startswith("/bench/"):  # the floors: bench_server's own routes
            continue
        path = route.path.format_map(_AnyId({k: v for k, v in ids.items() if v is not None})).split("?")[0]
        endpoint, _ = adapter.match(path, method="GET")
        reached.add((route.role, endpoint))
    endpoints = {e for _, e in reached}
    lines = [f"not measured: {rule.endpoint} {rule.rule} ({UNMEASURED.get(rule.endpoint, 'MISSING')})"
             for rule in app.url_map.iter_rules()
             if "GET" in (rule.methods or ()) and rule.endpoint not in endpoints and not rule.rule.startswith("/bench")]
    for role in ROLES:
        user = User(role=role)
        labels: set[str] = set()
        for endpoint, label, action in pages.NAV:  # as pages.navigation: the first link of a label the role may follow
            if label in labels or not (action is None or (action in policy.ACTIONS and policy.can(user, action))):
                continue
            labels.add(label)
            if (role, endpoint) not in reached and not (role == "admin" and endpoint == "auth.root"):
                lines.append(f"MISSING: the {role}'s NAV link {label} ({endpoint})")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 20000])
    parser.add_argument("--database", action="append", default=[], help="SIZE=URL of a database already seeded")
    parser.add_argument("--requests", type=int, default=5, help="timed requests a route at each size")
    parser.add_argument("--only", default="", help="a regular expression: the routes whose label or path match")
    args = parser.parse_args()
    given = {int(k): v for k, v in (d.split("=", 1) for d in args.database)}
    sizes = sorted(given) if given else sorted(args.sizes)
    servers = [Server(size, _database(size, given, FOLDER)) for size in sizes]
    plan = [r for r in routes() if re.search(args.only, f"{r.role} {r.label} {r.path}") or r.label.startswith("floor")]
    plan.sort(key=lambda r: "report" in r.label)  # the reports (the slowest) last
    kind = servers[0].url.split(":")[0].split("+")[0]
    print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at the start; {kind}; gunicorn, 2 sync"
          f" workers a size; one client; median of {args.requests} requests a route at each size", flush=True)
    try:
        for s in servers:
            s.analyze()
            s.start()
            s.sign_in()
            s.pick()
            print(f"  {s.size:,}: {s.ids['counts']:,} participants in the database, served on port {s.port}",
                  flush=True)
        head = f"{'role':<11}{'route':<40}" + "".join(f"{format(s.size, ',') + ' ms':>14}" for s in servers)
        print(head + (f"{'ratio':>8}" if len(servers) == 2 else ""), flush=True)
        over = []
        for route in measure(servers, plan, args.requests):
            line = f"{route.role:<11}{route.label[:39]:<40}"
            medians = []
            for s in servers:
                times = route.times.get(s.size)
                if not times:
                    line += f"{'no id':>14}"
                    continue
                status = route.status[s.size]
                medians.append(statistics.median(times))
                line += f"{medians[-1]:>11.1f}{'' if status == 200 else ' ' + str(status):>3}"
            if len(medians) == 2:
                ratio = medians[1] / medians[0]
                line += f"{ratio:>7.2f}{'!' if ratio > LIMIT else ''}"
                if ratio > LIMIT:
                    over.append(route.label)
            print(line, flush=True)
        print(f"load average {os.getloadavg()[0]:.1f} at the end; {len(over)} routes beyond {LIMIT}x", flush=True)
        for s in servers:
            print(f"largest worker at {s.size:,}: {s.memory()}", flush=True)
        for line in coverage(servers[0].url, plan, servers[0].ids):
            print(line)
    finally:
        for s in servers:
            s.stop()


if __name__ == "__main__":
    main()
