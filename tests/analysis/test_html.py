"""The HTML report: one self-contained page whose charts draw offline, in a real browser."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from browsing import console_errors, emulate_width, requested_urls, screenshot, wait

from twsim.analysis.diff import compare
from twsim.analysis.html import diff_document, load_document, render, report_document, run_figures
from twsim.model.events import Event, InboundReceived, MessageCreated
from twsim.recording.journal import read_recording

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "recordings" / "sample-classroom.jsonl"
IMPORTED = ROOT / "tests" / "data" / "imported-v0.1.0.jsonl"

# chart id -> series drawn, for the sample burst (no errors, one UCS-2 reply, no side effects)
SAMPLE_CHARTS = {
    "timeline": 7,
    "latency-histogram": 1,
    "latency-over-time": 4,
    "lateness": 4,
    "amplification-by-position": 1,
    "cost-breakdown": 2,
    "worst-senders": 1,
    "ucs2": 1,
}

CHART_STATE = """
return window.twsimCharts.map(c => {
  const canvas = c.element.querySelector("canvas");
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) painted++;
  return {id: c.id, series: c.series, points: c.points, painted: painted,
          width: canvas.width, height: canvas.height};
});
"""


def events_of(path: Path) -> list[Event]:
    return read_recording(path).events


def write(tmp_path: Path, document: dict[str, Any], name: str = "report.html") -> Path:
    path = tmp_path / name
    path.write_text(render(document), encoding="utf-8")
    return path


def drawn(browser: Any, page: Path, expected: int) -> list[dict[str, Any]]:
    """Open `page` and wait until `expected` charts drew; what each drew."""
    browser.get_log("performance")  # start the network log afresh
    browser.get(page.as_uri())
    wait(
        browser,
        lambda b: b.execute_script("return (window.twsimCharts || []).length") >= expected,
        f"{expected} charts",
    )
    return browser.execute_script(CHART_STATE)  # type: ignore[no-any-return]


def test_the_report_of_a_recorded_burst_draws_every_chart_offline(
    make_browser: Any, tmp_path: Path
):
    document = report_document(run_figures(events_of(SAMPLE)), title="twsim report: sample-classroom")
    page = write(tmp_path, document)
    browser = make_browser(1280, 800)

    charts = drawn(browser, page, len(SAMPLE_CHARTS))

    assert {c["id"]: c["series"] for c in charts} == SAMPLE_CHARTS
    for chart in charts:
        assert chart["painted"] > 500, chart  # lines, bars and axes, not an empty canvas
    points = {c["id"]: c["points"] for c in charts}
    series = document["series"]
    assert points["timeline"] == len(series["t"]) > 10
    assert points["amplification-by-position"] == len(document["report"]["by_position"]) == 4
    assert points["worst-senders"] == 5
    assert points["lateness"] == len(series["lateness_ms"]["t"])
    # the page asked for nothing but itself: no network, no CDN (the browser's own
    # chrome:// pages aside)
    urls = requested_urls(browser)
    assert page.as_uri() in urls
    assert [u for u in urls if not u.startswith(("file:", "data:", "chrome:"))] == []
    assert console_errors(browser) == []
    text = browser.find_element("id", "report").text
    assert "No errors." in text
    assert "U+2705" in text
    assert "+16458602143" in text  # a worst sender
    screenshot(browser, "report-sample-classroom.png", full_page=True)


def test_a_narrow_window_keeps_the_report_within_its_width(make_browser: Any, tmp_path: Path):
    page = write(tmp_path, report_document(run_figures(events_of(SAMPLE)), title="narrow"))
    browser = make_browser()
    emulate_width(browser, 390, 844)
    charts = drawn(browser, page, len(SAMPLE_CHARTS))
    assert all(c["width"] <= 390 for c in charts), charts
    overflow = browser.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    screenshot(browser, "report-narrow.png")


def test_the_diff_report_overlays_both_runs(make_browser: Any, tmp_path: Path):
    before, after = events_of(SAMPLE), events_of(IMPORTED)
    document = diff_document(
        before, after, compare(before, after), names=("sample", "imported"), title="diff"
    )
    page = write(tmp_path, document, "diff.html")
    browser = make_browser(1280, 800)
    expected = {
        "timeline": 4,
        "latency-over-time": 4,
        "amplification-by-position": 2,
        "cost-breakdown": 2,
        "errors-by-code": 2,
    }
    charts = drawn(browser, page, len(expected))
    assert {c["id"]: c["series"] for c in charts} == expected
    assert all(c["painted"] > 500 for c in charts)
    assert console_errors(browser) == []
    table = browser.find_element("id", "section-deltas").text
    assert "amplification (messages per text)" in table
    screenshot(browser, "report-diff.png", full_page=True)


def test_the_page_is_self_contained_and_its_data_cannot_close_the_script():
    hostile = "</script><script>alert(1)</script><!--"
    events: list[Event] = [
        InboundReceived(
            seq=1,
            t=0.1,
            inbound="SM1",
            message="SM1",
            from_="+15551230001",
            to="+15005550006",
            body=hostile,
        ),
        MessageCreated(
            seq=2,
            t=0.2,
            inbound="SM1",
            message="SM2",
            direction="outbound-reply",
            from_="+15005550006",
            to="+15551230001",
            body=hostile,
        ),
    ]
    page = render(report_document(run_figures(events), title="<b>title</b>"))
    assert "<script>alert(1)" not in page
    assert "<title>&lt;b&gt;title&lt;/b&gt;</title>" in page
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", page)
    data = page.split('<script type="application/json" id="twsim-data">')[1].split("</script>")[0]
    assert json.loads(data)["report"]["repeated_answers"] == []


@pytest.mark.parametrize("rate", [None, 50.0])
def test_a_load_document_carries_the_result_and_its_series(rate: float | None):
    from twsim.config.shipped import load_prices
    from twsim.load.generator import Load, LoadSpec

    load = Load(LoadSpec(url="http://127.0.0.1:9/", requests=0, rate=rate), load_prices("us"))
    document = load_document(load.result.to_json(), load.result.series(), title="load")
    assert document["kind"] == "load"
    assert document["series"]["t"] == []
    assert "<script" in render(document)
