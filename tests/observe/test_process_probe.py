"""The process probe and the app started by command: real processes, started by the test."""

from __future__ import annotations

import asyncio
import socket
import sys
from pathlib import Path

import psutil
import pytest

from twsim.model.clock import ManualClock
from twsim.model.effect_attribution import EffectAttribution
from twsim.model.events import AppSample, EventLog, ObserveWarning
from twsim.observe.app_process import AppProcess
from twsim.observe.process_probe import ProcessProbe, listening_pid
from twsim.observe.witness import Witness

# A tiny HTTP app: GET /work burns a fixed amount of CPU in a child process and in itself
# and keeps some memory; it exits cleanly on SIGTERM.
APP = """
import http.server, multiprocessing, sys
def burn():
    total = 0
    for i in range(3_000_000):
        total += i * i
    return total
kept = []
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        child = multiprocessing.Process(target=burn)
        child.start(); child.join()
        burn()
        kept.append(bytearray(20 * 1024 * 1024))
        self.send_response(200); self.end_headers(); self.wfile.write(b"done")
    def log_message(self, *args):
        pass
print("booting", flush=True)
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def app_script(tmp_path: Path) -> Path:
    script = tmp_path / "app.py"
    script.write_text(APP)
    return script


def probe_of(pid: int) -> ProcessProbe:
    clock = ManualClock()
    effects = EffectAttribution(clock, 0.0)
    effects.watch()
    return ProcessProbe(Witness(EventLog(clock), effects), pid)


async def get(port: int, path: str) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.0\r\nHost: x\r\n\r\n".encode())
    body = await reader.read()
    writer.close()
    return body


async def test_an_app_command_is_started_waited_for_observed_and_stopped(
    app_script: Path,
) -> None:
    port = free_port()
    app = await AppProcess.run_command(
        f"{sys.executable} {app_script} {port}", port=port, timeout=60
    )
    try:
        assert app.url == f"http://127.0.0.1:{port}"
        assert listening_pid(port) in {
            app.pid,
            *(c.pid for c in psutil.Process(app.pid).children(recursive=True)),
        }
        probe = probe_of(app.pid)
        await probe.start()
        assert (await get(port, "/work")).endswith(b"done")
        await probe.look()
        (sample,) = probe.witness.events.of_type(AppSample)
        # the child that burned CPU and ended is counted through its parent
        assert sample.cpu_ms > 0 and probe.cpu_s > 0
        assert sample.rss_mb > 20 and sample.threads >= 1 and sample.open_files >= 3
        assert sample.pid == app.pid
    finally:
        await app.stop()
    assert app.process.returncode is not None
    assert not psutil.pid_exists(app.pid) or psutil.Process(app.pid).status() == "zombie"
    assert "booting" in app.output


async def test_a_probe_by_port_finds_the_listening_process(app_script: Path) -> None:
    port = free_port()
    app = await AppProcess.run_command(f"exec {sys.executable} {app_script} {port}", port=port)
    try:
        assert listening_pid(port) == app.pid  # `exec`: the shell became the app
    finally:
        await app.stop()
    with pytest.raises(LookupError):
        listening_pid(port)


async def test_a_probe_says_once_when_the_process_has_ended(app_script: Path) -> None:
    port = free_port()
    app = await AppProcess.run_command(f"exec {sys.executable} {app_script} {port}", port=port)
    probe = probe_of(app.pid)
    await probe.start()
    await app.stop()
    await probe.look()
    await probe.look()
    (warning,) = probe.witness.events.of_type(ObserveWarning)
    assert "ended" in warning.problem


async def test_an_app_that_exits_before_its_port_answers_is_an_error() -> None:
    with pytest.raises(RuntimeError, match=r"(?s)exited with status 3.*no database configured"):
        await AppProcess.run_command(
            "echo 'no database configured'; exit 3", port=free_port(), timeout=60
        )


async def test_an_app_that_never_answers_is_stopped_after_the_timeout() -> None:
    with pytest.raises(RuntimeError, match="did not answer"):
        await AppProcess.run_command("echo waiting; sleep 60", port=free_port(), timeout=0.5)
