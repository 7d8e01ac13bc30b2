"""The HTML report: one self-contained file with the report's charts and tables.

A document is plain JSON (`report_document`, `load_document`, `diff_document`): the report's
figures and their time series. `render` writes it into a page together with the styles, the
chart code the web page uses (`twsim/data/ui/charts.js`) and the vendored chart library, all
inline: the file opens offline and asks nothing of the network.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import orjson

from twsim.analysis.diff import Diff
from twsim.analysis.report import ReportBuilder
from twsim.analysis.series import SeriesBuilder
from twsim.config.shipped import ui_asset
from twsim.core.errors import describe
from twsim.core.pricing import PriceTable
from twsim.model.events import Event

ASSETS = ("vendor/uPlot.min.css", "report.css", "vendor/uPlot.iife.min.js", "charts.js")


def _codes(*error_tables: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    codes = sorted({int(code) for table in error_tables for code in table})
    return {str(code): describe(code) for code in codes}


def run_figures(events: Iterable[Event], prices: PriceTable | None = None) -> dict[str, Any]:
    """A run's report and its time series, from its events."""
    series = SeriesBuilder(ReportBuilder(prices))
    for event in events:
        series.add(event)
    return {"report": series.report.result().to_json(), "series": series.to_json()}


def report_document(figures: dict[str, Any], *, title: str) -> dict[str, Any]:
    """A run's page from its figures (`run_figures`, or a live report's own)."""
    return {
        "kind": "report",
        "title": title,
        **figures,
        "codes": _codes(figures["report"]["errors"]),
    }


def load_document(result: dict[str, Any], series: dict[str, Any], *, title: str) -> dict[str, Any]:
    """An ab-style load run: its result (`LoadResult.to_json`) and series."""
    return {
        "kind": "load",
        "title": title,
        "result": result,
        "series": series,
        "codes": _codes(result["errors"]),
    }


def diff_document(
    before: Iterable[Event],
    after: Iterable[Event],
    diff: Diff,
    *,
    names: tuple[str, str],
    title: str,
    prices: PriceTable | None = None,
) -> dict[str, Any]:
    a, b = run_figures(before, prices), run_figures(after, prices)
    return {
        "kind": "diff",
        "title": title,
        "names": list(names),
        "before": a,
        "after": b,
        "diff": diff.to_json(),
        "codes": _codes(a["report"]["errors"], b["report"]["errors"]),
    }


def _script_json(document: dict[str, Any]) -> str:
    """JSON safe inside <script>: no `<` can close the element or open a comment."""
    return orjson.dumps(document).decode().replace("<", "\\u003c")


def _inline_script(code: str) -> str:
    return code.replace("</script", "<\\/script")


def render(document: dict[str, Any], asset: Callable[[str], str] = ui_asset) -> str:
    """The whole page for `document`, every asset inline."""
    css = "\n".join(asset(name) for name in ASSETS if name.endswith(".css"))
    scripts = "\n".join(
        f"<script>{_inline_script(asset(name))}</script>" for name in ASSETS if name.endswith(".js")
    )
    title = html.escape(document.get("title") or "twsim report")
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>{title}</title>
<style>
{css}
body {{ margin: 0; background: #fff; }}
main.report {{ max-width: 1200px; margin: 0 auto; padding: 1rem 1.2rem 3rem; }}
main.report > h1 {{ font-size: 1.4rem; margin: 0.2rem 0 0.4rem; }}
main.report > footer {{ color: #4d5560; font-size: 0.8rem; margin-top: 2rem; }}
</style>
</head>
<body>
<main class="report" id="report-page">
<h1>{title}</h1>
<div id="report"><noscript>This report draws its charts with JavaScript.</noscript></div>
<footer>Made by twsim from {html.escape(str(document.get("kind")))} data; opens offline.</footer>
</main>
<script type="application/json" id="twsim-data">{_script_json(document)}</script>
{scripts}
<script>
TwsimCharts.drawReport(
  document.getElementById("report"),
  JSON.parse(document.getElementById("twsim-data").textContent)
);
</script>
</body>
</html>
"""
