"""The days between pipeline stages: the median (API and page) and the 90th percentile (the page alone), taken by the
database, over a small history whose every number is worked out by hand below (it runs on SQLite and, with
TEST_DATABASE_URL, on PostgreSQL: the two must agree with the hand).

A percentile p of n spans sorted ascending is the span at 0-based position h = p * (n - 1), interpolated between
the two beside it: v[lo] * (1 - f) + v[hi] * f with f = h - lo (PostgreSQL's percentile_cont; the median is then
the middle span or the mean of the two middle ones).

History (2025, program time zone UTC, 18:00 unless said):
  P1  created Mar 1, invited Mar 5, attended Mar 12, all at 12:00:00.000001; services offered Mar 12 13:12:00.000000
  P2  created Mar 2, invited Mar 3, attended Mar 6
  P3  created Mar 3, invited Mar 13, attended Mar 18
  P4  created Mar 4, invited Mar 6
  P5  created Mar 5, nothing more

  identified -> invited:  P1 4, P2 1, P3 10, P4 2 days; sorted 1 2 4 10 (n = 4)
      median (2 + 4) / 2 = 3.0;  p90: h = 0.9 * 3 = 2.7, 4 * 0.3 + 10 * 0.7 = 8.2
  invited -> attended:  P1 7, P2 3, P3 5; sorted 3 5 7 (n = 3)
      median 5.0;  p90: h = 0.9 * 2 = 1.8, 5 * 0.2 + 7 * 0.8 = 6.6
  attended -> services offered:  P1 alone, 1 h 11 min 59.999999 s = 4,319.999999 s = 0.0499999999884 days: 0.0 to
      one decimal, median and p90 (4,320 s would be 0.05 days, 0.1: the microsecond is counted)

In the window Mar 6 to Mar 13 (the later stage's first entry in it):
  invited: P4 (2), P3 (10): median 6.0; p90 h = 0.9, 2 * 0.1 + 10 * 0.9 = 9.2
  attended: P2 (3), P1 (7): median 5.0; p90 h = 0.9, 3 * 0.1 + 7 * 0.9 = 6.6
  services offered: P1: 0.0 and 0.0
"""

from __future__ import annotations

import csv
import io
import random
import re
import statistics
from datetime import UTC, datetime, timedelta

import pytest
from helpers import Program, at, set_history

STEPS = ("identified_to_invited", "invited_to_attended", "attended_to_services_offered")
WHOLE = {"median": (3.0, 5.0, 0.0), "p90": (8.2, 6.6, 0.0)}
WINDOW = {"median": (6.0, 5.0, 0.0), "p90": (9.2, 6.6, 0.0)}
IN_WINDOW = "date_from=2025-03-06&date_to=2025-03-13"


@pytest.fixture
def spans(users):
    program = Program.build(users["supervisor"])
    forum = program.forum()

    def noon(day: int) -> datetime:
        return datetime(2025, 3, day, 12, 0, 0, 1, tzinfo=UTC)

    with program.batch():
        people = [program.create(first_name=f"P{i}") for i in range(1, 6)]
        for person in people[:4]:
            program.fire(person, "invite", forum_id=forum.id, method="letter")
        for person in people[:3]:
            program.fire(person, "attend")
        program.prepare(people[0], "offer_services")
        program.fire(people[0], "offer_services")
        set_history(people[0], noon(1), noon(5), noon(12), datetime(2025, 3, 12, 13, 12, tzinfo=UTC))
        set_history(people[1], at("2025-03-02"), at("2025-03-03"), at("2025-03-06"))
        set_history(people[2], at("2025-03-03"), at("2025-03-13"), at("2025-03-18"))
        set_history(people[3], at("2025-03-04"), at("2025-03-06"))
        set_history(people[4], at("2025-03-05"))


def _flat(html: str) -> str:
    return re.sub(r">\s+<", "><", html)


def _rows(html: str) -> dict[str, tuple[float | None, float | None]]:
    """The page's table of days: each step's median and 90th percentile."""
    found = re.findall(r'<tr><th scope="row">([a-z ]+)</th><td>[^<]*</td><td>([^<]*)</td><td>([^<]*)</td></tr>',
                       _flat(html))
    return {step: tuple(None if v == "—" else float(v) for v in (median, p90)) for step, median, p90 in found}


def _expected(numbers: dict[str, tuple[float, ...]]) -> dict[str, tuple[float, float]]:
    return {step.replace("_", " "): (numbers["median"][i], numbers["p90"][i]) for i, step in enumerate(STEPS)}


@pytest.mark.parametrize(("query", "numbers"), [("", WHOLE), (IN_WINDOW, WINDOW)])
def test_the_pipeline_page_shows_the_median_and_90th_percentile_days_worked_out_by_hand(
    client, auth, users, spans, query, numbers
):
    auth.login(users["caseworker"])
    page = client.get(f"/reports/?{query}")
    assert page.status_code == 200
    assert _rows(page.get_data(as_text=True)) == _expected(numbers)


def test_the_days_chart_draws_each_steps_median_and_90th_percentile(client, auth, users, spans):
    auth.login(users["supervisor"])
    page = client.get("/reports/").get_data(as_text=True)
    assert '<img class="chart" src="/reports/pipeline-days.svg"' in page
    response = client.get("/reports/pipeline-days.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    values = re.findall(r'<text[^>]*class="[^"]*value[^"]*"[^>]*>([^<]+)</text>', response.get_data(as_text=True))
    assert values == ["3", "8.2", "5", "6.6", "0", "0"]


def test_the_api_keeps_to_its_contract_and_its_medians_are_the_pages(client, auth, users, api_as, spans):
    status, body = api_as(users["supervisor"]).get("/reports/pipeline?from=2025-03-06&to=2025-03-13")
    assert status == 200, body
    assert set(body) == {"counts", "funnel", "conversion", "median_days"}  # no p90 in the JSON
    assert body["median_days"] == dict(zip(STEPS, WINDOW["median"], strict=True))
    status, body = api_as(users["supervisor"]).get("/reports/pipeline")
    assert body["median_days"] == dict(zip(STEPS, WHOLE["median"], strict=True))


def _measures(text: str) -> dict[str, str]:
    return dict(list(csv.reader(io.StringIO(text)))[2:])


def test_the_pages_download_holds_what_the_page_shows_and_the_apis_file_the_json(
    client, auth, users, api_as, spans
):
    auth.login(users["supervisor"])
    page_file = _measures(client.get(f"/reports/?{IN_WINDOW}&format=csv").get_data(as_text=True))
    for i, step in enumerate(STEPS):
        assert float(page_file[f"median_days.{step}"]) == WINDOW["median"][i]
        assert float(page_file[f"p90_days.{step}"]) == WINDOW["p90"][i]
    api_file = client.get("/api/v1/reports/pipeline?from=2025-03-06&to=2025-03-13&format=csv",
                          headers=api_as(users["supervisor"]).headers)
    assert api_file.status_code == 200
    measures = _measures(api_file.get_data(as_text=True))
    assert not [name for name in measures if name.startswith("p90_days")]
    assert {k: v for k, v in page_file.items() if not k.startswith("p90_days")} == measures


def test_the_database_agrees_with_python_over_random_spans_to_the_microsecond(client, auth, users, api_as):
    """Thirty people invited at random moments (microseconds included) after their creation: the median agrees with
    statistics.median over Python's own timedeltas, the 90th percentile with the definition above."""
    rng = random.Random(8)  # noqa: S311 - test data, not a secret
    program = Program.build(users["supervisor"])
    forum = program.forum()
    spans = []
    with program.batch():
        for i in range(30):
            person = program.create(first_name=f"R{i}")
            program.fire(person, "invite", forum_id=forum.id, method="letter")
            created = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(10**7),
                                                                   microseconds=rng.randrange(10**6))
            invited = created + timedelta(seconds=rng.randrange(3 * 10**6), microseconds=rng.randrange(10**6))
            set_history(person, created, invited)
            spans.append((invited - created).total_seconds() / 86400)
    spans.sort()
    lo, rest = divmod(9 * (len(spans) - 1), 10)
    p90 = spans[lo] * (1 - rest / 10) + spans[lo + 1] * (rest / 10)
    status, body = api_as(users["supervisor"]).get("/reports/pipeline")
    assert status == 200, body
    assert body["median_days"]["identified_to_invited"] == round(statistics.median(spans), 1)
    auth.login(users["supervisor"])
    page = client.get("/reports/").get_data(as_text=True)
    assert _rows(page)["identified to invited"] == (round(statistics.median(spans), 1), round(p90, 1))
