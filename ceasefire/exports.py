"""Spreadsheet-safe exports: a cell a spreadsheet would run as a formula is written as plain text."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

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


def report_table(filters: dict[str, Any], report: dict[str, Any]) -> list[list[Any]]:
    """The lines of a report file: `filters` and one name=value cell per filter given, the field names, then
    one line per item (or `measure,value` lines for a report without items)."""
    lines: list[list[Any]] = [["filters", *(f"{name}={value}" for name, value in filters.items())]]
    if "items" in report:
        flat = []
        for item in report["items"]:
            row: dict[str, Any] = {}
            _spread("", item, row)
            flat.append(row)
        header: list[str] = []
        for row in flat:
            header.extend(k for k in row if k not in header)
        lines.append(header)
        lines.extend([row.get(k) for k in header] for row in flat)
    else:
        measures: dict[str, Any] = {}
        _spread("", report, measures)
        lines.append(["measure", "value"])
        lines.extend([name, value] for name, value in measures.items())
    return lines


def report_csv(lines: list[list[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    for line in lines:
        writer.writerow([safe_cell("" if v is None else v) for v in line])
    return out.getvalue()


def report_xlsx(lines: list[list[Any]], title: str) -> bytes:
    """A workbook whose text cells are always strings, never formulas."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    for line in lines:
        cells = []
        for value in line:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
