"""Charts of the reports, drawn on the server as SVG by pygal and served as images of their own.

The page's Content-Security-Policy forbids inline style, and pygal styles its charts with a <style> element; so a chart
is never inlined in a page but answered as its own image/svg+xml document (the page shows it with <img>), under a
policy of its own that allows that one <style> element by its hash and nothing else. pygal's scripts (its tooltips,
and the config it always writes) are left out, and so is the hidden tooltip, the one element with a style attribute.
Every bar carries its number as text, and each chart has one series, so it reads without colour.
"""

from __future__ import annotations

import base64
import hashlib
import re
import sys
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree as ET

import pygal
from pygal.style import Style

# pygal appends an import hook for its map plugins (pygal.maps.*, unused here) that predates find_spec, so every
# later import that reaches it warns (ImportWarning) on Python 3.11: take it out again.
sys.meta_path[:] = [finder for finder in sys.meta_path if type(finder) is not pygal.PluginImportFixer]

NONE = "'none'"
SVG_NS = "http://www.w3.org/2000/svg"
ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")

STYLE = Style(
    background="white", plot_background="white", foreground="#1a1a1a", foreground_strong="#1a1a1a",
    foreground_subtle="#767676", colors=("#2f5d8a",), font_family="system-ui, sans-serif",
    label_font_size=13, major_label_font_size=13, value_font_size=13, title_font_size=16,
)


@dataclass(frozen=True)
class Chart:
    svg: str
    csp: str


def _label(name: str) -> str:
    return name.replace("_", " ")


def _value(n: Any) -> float | None:
    """A count as a bar; a suppressed count ("<5") or a missing one draws no bar."""
    return n if isinstance(n, int | float) and not isinstance(n, bool) else None


def _bars(title: str, bars: list[tuple[str, Any]]) -> Chart:
    """One series of horizontal bars, each named on its axis and with its number printed beside it."""
    chart = pygal.HorizontalBar(
        js=[], css=[], style=STYLE, title=title, show_legend=False, print_values=True, no_prefix=True,
        width=720, height=max(160, 80 + 34 * len(bars)), truncate_label=-1, margin=12, spacing=8,
        print_zeroes=True, value_formatter=lambda v: f"{v:g}", disable_xml_declaration=True,
    )
    chart.x_labels = [label if _value(n) is not None else f"{label} ({n or 'none'})" for label, n in bars]
    chart.add(title, [_value(n) for _label_, n in bars])
    return _serve(chart)


def _serve(chart: pygal.graph.base.BaseGraph) -> Chart:
    tree = chart.render_tree()
    for parent in list(tree.iter()):
        for child in list(parent):
            tag = child.tag if isinstance(child.tag, str) else ""
            if tag.endswith("script") or "tooltip" in (child.get("class") or "").split():
                parent.remove(child)
    for node in tree.iter():
        node.attrib.pop("style", None)
    styles = [node.text or "" for node in tree.iter() if isinstance(node.tag, str) and node.tag.endswith("style")]
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'" for text in styles
    )
    svg = ET.tostring(tree, encoding="unicode")
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.DOTALL)
    csp = (f"default-src 'none'; style-src {hashes or NONE}; script-src 'none'; frame-ancestors 'none'; "
           "base-uri 'none'; form-action 'none'")
    return Chart(svg, csp)


def pipeline(report: dict[str, Any]) -> Chart:
    return _bars("Participants reaching each stage", [(_label(s["stage"]), s["reached"]) for s in report["funnel"]])


def pipeline_days(report: dict[str, Any]) -> Chart:
    """The median and the 90th percentile of the days of each step, two bars a step (one series: the label says
    which is which); a step nobody made draws no bar but says so."""
    bars: list[tuple[str, Any]] = []
    for step, median in report["median_days"].items():
        bars += [(f"{_label(step)}: median", median), (f"{_label(step)}: 90th percentile", report["p90_days"][step])]
    return _bars("Days between stages: median and 90th percentile", bars)


COHORT_BARS = (
    ("cohort", "cohort"), ("services_offered", "services offered"), ("referrals_completed", "referral completed"),
    ("enforced_12m", "enforced in 12 months"),
)
COHORT_OUTCOMES = ("arrested", "arrested_violent", "shot", "killed", "incarcerated", "employed", "enrolled_education")


CHART_FORUMS = 12  # the cohort chart draws the period's latest forums; every forum is in the table


def cohorts(report: dict[str, Any]) -> Chart:
    """The latest CHART_FORUMS forums of the period (a program's whole history holds thousands: a chart of them all
    is a picture no one reads, and took half a minute to draw at a million participants). `report` holds them, or
    more, oldest first, and `total`, the forums of the period (services.reports.latest_cohorts)."""
    bars: list[tuple[str, Any]] = []
    items = report["items"][-CHART_FORUMS:]  # oldest first, as the report
    total = report.get("total", len(report["items"]))
    title = "Forum cohorts: people, and outcomes within 12 months"
    if len(items) < total:
        title += f" (the latest {CHART_FORUMS} forums of {total}; every one is in the table)"
    for row in items:
        name = f"{row['title']} ({row['held_on']})"
        bars += [(f"{name}: {label}", row[key]) for key, label in COHORT_BARS]
        bars += [(f"{name}: {_label(kind)} in 12 months", row["outcomes_12m"][kind]) for kind in COHORT_OUTCOMES]
    return _bars(title, bars)


def activity(report: dict[str, Any], measure: str) -> Chart:
    return _bars(f"{_label(measure).capitalize()} by month", [(row["month"], row[measure]) for row in report["items"]])
