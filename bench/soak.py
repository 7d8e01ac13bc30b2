"""Figure 10: memory stays bounded: the gateway's RSS after 50,000 and after 200,000 texts.

The gateway runs in its own process with the default retention (`bench.soak_gateway`),
taking inbound texts at a steady rate from a fixed population of phones and answering
each through the trivial app (one reply, its lifecycle, charges: about ten events per
text). Its RSS is read at both checkpoints, each time once nothing is in flight; the
target is the second within 10% of the first. Measured once: a long run, whose figure
does not move between repeats the way timings do.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from bench.affinity import Placement
from bench.children import ROOT, Child
from bench.figures import Figure, Target
from bench.sizes import Size
from bench.stats import spread

TARGET_RATIO = 1.10


def measure(app: Child, size: Size, core: int | None) -> list[dict[str, Any]]:
    first, second = size.soak_texts
    command = [
        sys.executable,
        "-m",
        "bench.soak_gateway",
        "--app",
        app.url,
        "--checkpoints",
        f"{first},{second}",
        "--rate",
        str(size.soak_rate),
    ]
    if core is not None:
        command += ["--cpu", str(core)]
    done = subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120 + 3 * second / size.soak_rate,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the soak gateway failed: {done.stderr[-3000:]}")
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def run(size: Size, repeats: int, placement: Placement) -> list[Figure]:
    with Child.start("bench.app", core=placement.app) as app:
        points = measure(app, size, placement.generator)
    first, second = points
    mb = 1024 * 1024
    warnings = [
        f"the report counted {p['report_inbound']} texts of {p['texts']}"
        for p in points
        if p["report_inbound"] != p["texts"]
    ]
    details = {
        "checkpoints": points,
        "rate_per_s": size.soak_rate,
        "retention": "default (events 100,000, messages 100,000)",
        "measured": "RSS of the gateway process (psutil), after quiet and gc.collect()",
    }
    return [
        Figure(
            "soak_rss_ratio",
            f"10. RSS after {second['texts']:,} texts ÷ after {first['texts']:,}",
            "",
            spread([second["rss_bytes"] / first["rss_bytes"]]),
            Target("<=", TARGET_RATIO),
            details=details,
            warnings=warnings,
        ),
        Figure(
            "soak_rss_first_mb",
            f"10. gateway RSS after {first['texts']:,} texts",
            "MB",
            spread([first["rss_bytes"] / mb]),
            beside="none set",
        ),
        Figure(
            "soak_rss_second_mb",
            f"10. gateway RSS after {second['texts']:,} texts",
            "MB",
            spread([second["rss_bytes"] / mb]),
            beside="none set",
        ),
    ]
