"""Live progress: what the block and the log line show, and `burst --sim` fed by the gateway."""

from __future__ import annotations

import io
import re
import signal
from decimal import Decimal
from pathlib import Path

from cli_harness import Command, CountingApp, slow_scenario

from twsim.analysis.live import Snapshot
from twsim.cli.progress import Progress, Rates, clock


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Ticks:
    """A hand-turned clock for the renderer."""

    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_the_log_line_has_every_figure() -> None:
    ticks, out = Ticks(), io.StringIO()
    state = {"sent": 0, "due": 0}

    def describe() -> Snapshot:
        return Snapshot(
            sent=state["sent"],
            planned=240,
            due=state["due"],
            remaining_s=12.0,
            answered=118,
            replies=115,
            rest_sends=30,
            errors=2,
            p50_ms=3.14,
            p99_ms=12.0,
            cost=Decimal("1.2345"),
        )

    progress = Progress(describe, "burst classroom", stream=out, now=ticks)
    progress.show()
    ticks.t += 5
    state.update(sent=100, due=110)
    progress.show()
    line = out.getvalue().splitlines()[-1]
    assert line == (
        "burst classroom  0:05 elapsed  ETA 0:12 | texts 100/240 sent  20.0/s (plan 22.0/s)   "
        "answered 118   replies 115   REST sends 30 | errors 2   webhook p50 3.1 ms p99 12.0 ms"
        "   cost $1.2345"
    )


def test_a_terminal_gets_a_block_redrawn_in_place() -> None:
    ticks, out = Ticks(), Terminal()
    progress = Progress(
        lambda: Snapshot(sent=3, planned=None, unit="requests"), "load", stream=out, now=ticks
    )
    assert progress.tty and progress.interval_s < 1
    progress.show()
    progress.show()
    progress.show(final=True)
    screen = out.getvalue()
    assert screen.count("\x1b[3F\x1b[J") == 2  # the block of 3 lines, taken back twice
    assert screen.splitlines()[-3:] == [
        "\x1b[3F\x1b[Jload  0:00 elapsed  done",
        "  requests 3 sent",
        "  errors 0   cost $0.00",
    ]


def test_rates_compare_sends_with_the_plan_over_the_last_seconds() -> None:
    rates = Rates(window_s=2.0)
    assert rates.add(0.0, 0, 0) == (None, None)
    assert rates.add(1.0, 10, 20) == (10.0, 20.0)
    assert rates.add(2.0, 30, 40) == (15.0, 20.0)
    assert rates.add(4.0, 70, 60) == (20.0, 10.0)  # the window moved on past t=0 and t=1


def test_clock() -> None:
    assert [clock(s) for s in (0, 59.6, 61, 3600 * 2 + 5)] == ["0:00", "1:00", "1:01", "2:00:05"]


async def test_burst_sim_shows_the_gateways_figures_while_it_runs_and_stops_on_ctrl_c(
    tmp_path: Path, counting_app: CountingApp
) -> None:
    serve = await Command.start("serve", "--port", "0", "--sms-url", counting_app.url)
    url = (await serve.said("Twilio gateway at", stdout=True)).rsplit(" at ", 1)[1]
    try:
        # a line every 5 s when not on a terminal: the first one comes mid-run
        burst = await Command.start("burst", slow_scenario(tmp_path / "slow.yaml"), "--sim", url)
        line = await burst.said(" elapsed")
        burst.send_signal(signal.SIGINT)
        code, out, err = await burst.finish()
    finally:
        serve.send_signal(signal.SIGINT)
        await serve.finish()
    answered = re.search(r"answered (\d+)\s+replies (\d+)", line)
    assert answered is not None and int(answered[1]) > 0 and int(answered[2]) > 0, line
    assert re.search(r"texts \d+/200 sent", line) and "cost $0." in line
    assert code == 130, err
    assert "(interrupted after" in out.splitlines()[0]


async def test_a_gateway_that_dies_during_burst_sim_leaves_a_partial_report(
    tmp_path: Path, counting_app: CountingApp
) -> None:
    serve = await Command.start("serve", "--port", "0", "--sms-url", counting_app.url)
    url = (await serve.said("Twilio gateway at", stdout=True)).rsplit(" at ", 1)[1]
    burst = await Command.start(
        "burst", slow_scenario(tmp_path / "slow.yaml"), "--sim", url, "--quiet"
    )
    try:
        await counting_app.seen(5)
    finally:
        serve.process.kill()
        await serve.finish()
    code, out, err = await burst.finish()

    assert code == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 2 and "Traceback" not in err, err
    lost = re.match(
        rf"twsim burst: lost the gateway at {re.escape(url)} after (\d+) of 200 texts \((.+)\); "
        "the report covers what it saw$",
        lines[0],
    )
    assert lost is not None, lines[0]
    assert lines[1] == "  hint: is `twsim serve` still running there?"
    head = out.splitlines()[0]
    assert head == f"twsim burst: slow-class (gateway lost after {lost[1]} of 200 texts)"
    inbound = re.search(r"^\s+inbound\s+(\d+)", out, re.MULTILINE)
    assert inbound is not None and 1 <= int(inbound[1]) <= int(lost[1]), out
