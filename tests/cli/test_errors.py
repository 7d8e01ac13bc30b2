"""Every error is a sentence or two and an exit status (2 usage, 1 runtime), never a traceback."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_harness import Command

BAD_VALUES = [
    (
        ("burst", "classroom", "--speed", "0"),
        "--speed: expected a number above 0 or 'max', not '0'",
    ),
    (("burst", "classroom", "--speed", "-2"), "--speed: expected a number above 0 or 'max'"),
    (("replay", "x.jsonl", "--speed", "nan"), "--speed: expected a number above 0 or 'max'"),
    (
        ("load", "http://127.0.0.1:9/", "--rate", "nan"),
        "--rate: must be a finite number, not 'nan'",
    ),
    (("load", "http://127.0.0.1:9/", "--rate", "inf"), "--rate: must be a finite number"),
    (
        ("load", "http://127.0.0.1:9/", "--timeout", "0"),
        "--timeout: must be a finite number above 0",
    ),
    (("load", "http://127.0.0.1:9/", "-n", "0"), "--requests: must be at least 1, not '0'"),
    (("load", "http://127.0.0.1:9/", "-c", "-1"), "--concurrency: must be at least 1"),
    (("load", "http://127.0.0.1:9/", "-n", "ten"), "expected a whole number, not 'ten'"),
    (("report", "x.jsonl", "--max-cost", "-1"), "--max-cost: must be a finite number of 0 or more"),
    (("report", "x.jsonl", "--max-errors", "1.5"), "--max-errors: expected a whole number"),
    (("import", "x.csv", "-o", "y.jsonl", "--window", "nan"), "--window: must be a finite number"),
    (("burst", "classroom", "--grace", "-1"), "--grace: must be a finite number of 0 or more"),
    (("serve", "--port", "-1"), "--port: must be 0 or more"),
]


def two_lines(err: str) -> list[str]:
    lines = err.strip().splitlines()
    assert 1 <= len(lines) <= 2 and "Traceback" not in err, err
    return lines


@pytest.mark.parametrize(
    ("args", "message"), BAD_VALUES, ids=lambda v: " ".join(v) if isinstance(v, tuple) else ""
)
async def test_a_bad_number_is_a_usage_error_in_two_lines(
    args: tuple[str, ...], message: str
) -> None:
    code, out, err = await (await Command.start(*args)).finish()
    assert code == 2 and out == ""
    first, hint = two_lines(err)
    assert first.startswith(f"twsim {args[0]}: argument ") and message in first
    assert hint == f"  hint: `twsim {args[0]} --help` lists the options"


async def test_burst_refuses_max_speed_with_a_reason() -> None:
    code, _, err = await (await Command.start("burst", "classroom", "--speed", "max")).finish()
    assert code == 2
    (line,) = two_lines(err)
    assert line.startswith("twsim burst: --speed max is for replay: a burst's students wait")


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A loopback port some other program listens on (this test process)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


async def test_serve_on_a_port_in_use_names_the_holder_and_the_way_out(taken_port: int) -> None:
    code, _, err = await (await Command.start("serve", "--port", str(taken_port))).finish()
    assert code == 1
    first, hint = two_lines(err)
    assert first.startswith(f"twsim serve: port {taken_port} on 127.0.0.1 is already in use: ")
    assert "(pid " in first or "another program listens there" in first
    assert "--port 0 picks a free port" in hint


async def test_a_burst_beside_a_running_serve_points_at_sim(tmp_path: Path) -> None:
    serve = await Command.start("serve", "--port", "0")
    banner = await serve.said("Twilio gateway at", stdout=True)
    url = banner.rsplit(" at ", 1)[1]
    port = url.rsplit(":", 1)[1]
    try:
        burst = await Command.start("burst", "classroom", "--port", port, "--quiet")
        code, out, err = await burst.finish()
    finally:
        serve.send_signal(2)
        await serve.finish()
    assert code == 1 and out == ""
    first, hint = two_lines(err)
    assert "a twsim gateway answers there (probably `twsim serve`" in first
    assert (
        hint
        == f"  hint: use that gateway with --sim {url}, or start this run's own on a free port with --port 0"
    )


async def test_a_file_problem_is_one_line_and_debug_shows_the_traceback(tmp_path: Path) -> None:
    args = ("serve", "--port", "0", "--record", tmp_path, "--force")  # a directory
    code, _, err = await (await Command.start(*args)).finish()
    assert code == 1
    (line,) = two_lines(err)
    assert line == f"twsim serve: {tmp_path}: Is a directory"

    code, _, err = await (await Command.start("--debug", *args)).finish()
    assert code == 1
    assert "Traceback (most recent call last)" in err and err.rstrip().endswith("Is a directory")


async def test_burst_sim_without_a_gateway_says_so() -> None:
    args = ("burst", "classroom", "--sim", "http://127.0.0.1:9", "--quiet")
    code, out, err = await (await Command.start(*args)).finish()
    assert code == 1 and out == ""
    first, hint = two_lines(err)
    assert first.startswith("twsim burst: cannot reach twsim at http://127.0.0.1:9")
    assert hint == "  hint: start one with `twsim serve`"


async def test_a_message_log_given_to_report_suggests_import(tmp_path: Path) -> None:
    export = tmp_path / "log.csv"
    export.write_text("From,To,Direction,SentDate,Body\n", encoding="utf-8")
    code, _, err = await (await Command.start("report", export)).finish()
    assert code == 2
    first, hint = two_lines(err)
    assert first == f"twsim report: {export}:1: not a twsim recording (the header line is not JSON)"
    assert (
        hint
        == f"  hint: a Twilio message log? `twsim import {export} -o run.jsonl` makes it a recording"
    )


async def test_a_path_given_as_prices_is_read_as_a_file() -> None:
    args = ("report", "recordings/sample-classroom.jsonl", "--prices", "/dev/null")
    code, _, err = await (await Command.start(*args)).finish()
    assert code == 2
    (line,) = two_lines(err)
    assert "/dev/null" in line and "no shipped price table" not in line
