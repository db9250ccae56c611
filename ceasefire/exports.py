"""Spreadsheet-safe exports: a cell a spreadsheet would run as a formula is written as plain text."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """csv_text a line at a time, for a response that streams: no export holds all its rows in memory."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell("" if v is None else v) for v in row])
        if out.tell() > 65536:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell("" if v is None else v) for v in row])
    return out.getvalue()


# Report files (API.md "Exports"): a line of filters, a line of field names, then the numbers.


def _spread(prefix: str, value: Any, out: dict[str, Any]) -> None:
    """A nested object over columns named outer.inner; a list of labelled rows as outer.<label>."""
    if isinstance(value, dict):
        for key, inner in value.items():
            _spread(f"{prefix}.{key}" if prefix else str(key), inner, out)
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict) and "stage" in item:  # the pipeline's funnel: stage -> reached
                out[f"{prefix}.{item['stage']}"] = item.get("reached")
            elif isinstance(item, dict) and "count" in item:  # a breakdown: name -> count
                label = item.get("name") if item.get("name") is not None else "none"
                out[f"{prefix}.{label}"] = item["count"]
            else:
                _spread(prefix, item, out)
    else:
        out[prefix] = value


def report_table(filters: dict[str, Any], report: dict[str, Any]) -> Iterator[list[Any]]:
    """The lines of a report file, one at a time: `filters` and one name=value cell per filter given, the field
    names, then one line per item (or `measure,value` lines for a report without items). The field names are every
    item's, in the order they first appear: a first pass over the items finds them, the second spreads each item
    into its line as it is written."""
    yield ["filters", *(f"{name}={value}" for name, value in filters.items())]
    if "items" in report:
        header: list[str] = []
        seen: set[str] = set()
        for item in report["items"]:
            row: dict[str, Any] = {}
            _spread("", item, row)
            for key in row:
                if key not in seen:
                    seen.add(key)
                    header.append(key)
        yield header
        for item in report["items"]:
            row = {}
            _spread("", item, row)
            yield [row.get(k) for k in header]
    else:
        measures: dict[str, Any] = {}
        _spread("", report, measures)
        yield ["measure", "value"]
        yield from ([name, value] for name, value in measures.items())


CHUNK = 65536  # what a streamed file sends at a time


def report_csv(lines: Iterable[list[Any]]) -> Iterator[str]:
    """The lines as CSV, a chunk at a time, for a response that streams: the file is never whole in memory."""
    out = io.StringIO()
    writer = csv.writer(out)
    for line in lines:
        writer.writerow([safe_cell("" if v is None else v) for v in line])
        if out.tell() > CHUNK:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def report_xlsx(lines: Iterable[list[Any]], title: str) -> Iterator[bytes]:
    """A workbook whose text cells are always strings, never formulas, numbers or links, a chunk at a time:
    XlsxWriter in constant-memory mode writes each row to a temporary file as it goes, the workbook is assembled
    into another, sent from there. (openpyxl's write-only mode did the same at a third of the speed: the cohort
    file of 4,156 forums took a second.)"""
    import xlsxwriter

    out = tempfile.TemporaryFile()  # noqa: SIM115 - closed by _chunks once sent
    book = xlsxwriter.Workbook(out, {
        "constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False,
    })
    sheet = book.add_worksheet(title[:31])
    for row, line in enumerate(lines):
        for column, value in enumerate(line):
            if value is None:
                continue
            if isinstance(value, bool):
                sheet.write_boolean(row, column, value)
            elif isinstance(value, int | float):
                sheet.write_number(row, column, value)
            else:
                sheet.write_string(row, column, str(value))
    book.close()
    out.seek(0)
    return _chunks(out)


def _chunks(file: IO[bytes]) -> Iterator[bytes]:
    with file:
        while chunk := file.read(CHUNK):
            yield chunk
