"""`python -m bench --size tiny` runs every benchmark and writes every figure beside its target.

Only the shape of the results is checked: a timing belongs in the benchmark's own output,
never in a test assertion.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent

# every figure the benchmark reports, and the target the issue sets for it (None: none set)
FIGURES: dict[str, tuple[str, float] | None] = {
    "pipeline_vs_bare": (">=", 0.4),
    "pipeline_vs_locust": (">=", 0.4),
    "gateway_cpu_per_message": None,
    "gateway_cpu_over_bare": ("<=", 2.5),
    "burst_remote_lateness_p50": None,
    "burst_remote_lateness_p99": ("<", 2.0),
    "burst_kept_lateness_p50": None,
    "burst_kept_lateness_p99": ("<", 2.0),
    "burst_lateness_p50": None,
    "burst_lateness_p99": None,
    "burst_lateness_max": None,
    "rest_vs_canned": (">=", 0.6),
    "phone_bytes": ("<", 400.0),
    "phone_bytes_with_plan": None,
    "message_bytes": None,
    "message_bytes_with_events": None,
    "report_events_per_s": None,
    "replay_events_per_s": None,
    "observers_on_vs_off": (">=", 0.9),
    "observers_cpu_per_inbound": None,
    "load_vs_ab": (">=", 0.9),
    "load_vs_wrk": (">=", 0.9),
    "load_cpu_per_request": None,
    "load_workers_scaling": None,
    "load_rate_p99_error": ("<=", 10.0),
    "soak_rss_ratio": ("<=", 1.1),
    "soak_rss_first_mb": None,
    "soak_rss_second_mb": None,
}
# measured only where the machine has what they need (they say why when it does not)
OPTIONAL = {"pipeline_vs_locust", "load_vs_ab", "load_vs_wrk", "load_workers_scaling"}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    output = tmp_path_factory.mktemp("bench") / "results.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--size", "tiny", "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(output.read_text()), done.stdout


@pytest.mark.timeout(450)
def test_every_figure_is_written_with_its_target(run: tuple[dict[str, Any], str]) -> None:
    results, _ = run
    figures = {f["key"]: f for f in results["figures"]}
    assert set(figures) == set(FIGURES)
    for key, target in FIGURES.items():
        figure = figures[key]
        assert figure["title"] and figure["target_text"], key
        assert figure["warnings"] == [], (key, figure["warnings"])
        if target is None:
            assert figure["target"] is None, key
        else:
            assert (figure["target"]["op"], figure["target"]["value"]) == target, key
            assert figure["status"] in ("ok", "MISSED", "n/a"), key
        if key in OPTIONAL and figure["median"] is None:
            assert figure["missing"], "an unmeasured figure says why"
            continue
        assert isinstance(figure["median"], int | float), key
        assert figure["low"] <= figure["median"] <= figure["high"], key


@pytest.mark.timeout(450)
def test_repeated_figures_keep_every_repeat(run: tuple[dict[str, Any], str]) -> None:
    results, _ = run
    assert results["repeats"] == 3
    figures = {f["key"]: f for f in results["figures"]}
    for key in ("pipeline_vs_bare", "burst_lateness_p99", "rest_vs_canned", "report_events_per_s"):
        assert len(figures[key]["values"]) == 3, key


@pytest.mark.timeout(450)
def test_results_describe_the_machine_and_run(run: tuple[dict[str, Any], str]) -> None:
    results, _ = run
    assert results["machine"]["cores"] >= 1
    assert results["python"]["version"]
    assert results["libraries"]["aiohttp"] and results["libraries"]["twsim"]
    assert results["date"]
    assert results["size"]["name"] == "tiny"
    assert results["affinity"]["note"]
    assert results["errors"] == {}
    assert results["profile"]["top"], "the profile summary names the top costs"


@pytest.mark.timeout(450)
def test_the_table_is_printed(run: tuple[dict[str, Any], str]) -> None:
    results, stdout = run
    for figure in results["figures"]:
        assert figure["title"] in stdout
        assert figure["target_text"] in stdout
    if importlib.util.find_spec("locust") is None:
        assert "locust not installed" in stdout
    for key in results["missed"]:
        title = next(f["title"] for f in results["figures"] if f["key"] == key)
        assert f"MISSED: {title}" in stdout
