"""The report files' XLSX writer (API.md "Exports": in XLSX text is always a string cell, never a formula): what a
spreadsheet opens is what the report said, cell for cell. The reports' own tests check each report's file against
its JSON through the API; these check the kinds of text a name can hold that a spreadsheet would turn into
something else."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from ceasefire import exports

LOOKS_LIKE_MORE = ["=SUM(1,1)", "007", "1e5", "https://example.org/x", "2025-08-31", "TRUE", "+1 555", "@here"]


def _read(lines: list[list[object]]) -> list[list[object]]:
    body = b"".join(exports.report_xlsx(iter(lines), "cohorts"))
    sheet = load_workbook(io.BytesIO(body)).active
    return [list(row) for row in sheet.iter_rows()]


def test_text_that_looks_like_a_formula_a_number_a_link_or_a_date_stays_the_same_text():
    rows = _read([["filters", "from=2025-01-01"], ["title"], *([text] for text in LOOKS_LIKE_MORE)])
    assert [row[0].value for row in rows] == ["filters", "title", *LOOKS_LIKE_MORE]
    assert {row[0].data_type for row in rows} == {"s"}
    assert rows[0][1].value == "from=2025-01-01"


def test_numbers_stay_numbers_and_an_empty_value_an_empty_cell():
    rows = _read([["forum_id", "attendance_rate", "cohort", "title"], [12, 0.625, None, "<5"]])
    forum_id, rate, cohort, title = rows[1]
    assert (forum_id.value, forum_id.data_type) == (12, "n")
    assert (rate.value, rate.data_type) == (0.625, "n")
    assert cohort.value is None
    assert (title.value, title.data_type) == ("<5", "s")


def test_a_file_of_many_rows_comes_in_chunks_that_make_one_workbook():
    lines = [["filters"], ["forum_id", "title"], *([n, f"Forum {n}"] for n in range(20_000))]
    chunks = list(exports.report_xlsx(iter(lines), "cohorts"))
    assert len(chunks) > 1
    assert all(len(chunk) <= exports.CHUNK for chunk in chunks)
    sheet = load_workbook(io.BytesIO(b"".join(chunks)), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 20_002
    assert rows[-1] == (19_999, "Forum 19999")
