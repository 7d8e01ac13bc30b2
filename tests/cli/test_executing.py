"""`twsim exec` with real SDKs and unmodified apps: Flask on twilio-python 6 and 9, an
aiohttp app on the async client, Express on twilio-node 3, 4 and 5.

Each app builds its client as sample apps do (credentials from the environment or
literal, client at import time or per request, an edge and region set). Under
`twsim exec` its REST send lands in the gateway, its webhook answer becomes the reply, a
request for another Twilio product is refused inside the app, SIGTERM reaches it, and
twsim exits with its status. The whole tree runs under strace: every connection it opens
goes to a loopback address. Slow-ish: the SDKs are installed on first use (cached).
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sdk_envs import NODE_SDKS, PYTHON_SDKS, Sdk, runner

from twsim.observe.ports import free_port
from twsim.server.simulator import SimulatorThread

APPS = Path(__file__).parent / "sdk_apps"
LITERAL_ACCOUNT = """\
accounts:
  - sid: ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
    auth_token: bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
"""
START_TIMEOUT_S = 90.0  # an app's first start on a busy 2-core machine
TRACED = "connect,sendto,sendmsg"
ADDRESS = re.compile(r'inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)"')


def http(method: str, url: str, form: dict[str, str] | None = None) -> tuple[int, str]:
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@dataclass
class Traced:
    """`strace -f twsim exec ... -- APP`, its stderr collected as it comes."""

    process: subprocess.Popen[str]
    trace: Path
    lines: list[str] = field(default_factory=list)
    gateway: str = ""

    def collect(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)

    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, predicate: object, what: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not predicate():  # type: ignore[operator]
            if self.process.poll() is not None:
                pytest.fail(f"twsim exec ended before {what}:\n{self.output()}")
            if time.monotonic() > deadline:
                pytest.fail(f"no {what} within {START_TIMEOUT_S:g} s:\n{self.output()}")
            time.sleep(0.05)

    def exec_pid(self) -> int:
        """twsim's process, strace's child (signals go to it, not to strace)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return int(children.read_text().split()[0])


@pytest.fixture
def traced(tmp_path: Path) -> Iterator[object]:
    started: list[Traced] = []

    def start(sdk: Sdk, app: str, *, port: int, config: str | None = None) -> Traced:
        argv, extra_env = runner(sdk, APPS / app)
        options: list[str] = ["--sms-url", f"http://127.0.0.1:{port}/sms"]
        if config is not None:
            path = tmp_path / "twsim.yaml"
            path.write_text(config)
            options += ["--config", str(path)]
        trace = tmp_path / "trace.txt"
        command = [
            "strace", "-f", "-qq", "--seccomp-bpf", "-e", f"trace={TRACED}", "-o", str(trace),
            sys.executable, "-m", "twsim", "exec", *options, "--", *argv,
        ]  # fmt: skip
        env = {**subprocess_env(), **extra_env, "PORT": str(port)}
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        run = Traced(process, trace)
        started.append(run)
        threading.Thread(target=run.collect, daemon=True).start()
        run.wait_for(lambda: any("gateway at" in line for line in run.lines), "gateway")
        first = next(line for line in run.lines if "gateway at" in line)
        run.gateway = re.search(r"gateway at (\S+)", first).group(1)  # type: ignore[union-attr]
        run.wait_for(lambda: accepts(port), f"app listening on port {port}")
        return run

    yield start
    for run in started:
        if run.process.poll() is None:
            run.process.kill()
            run.process.wait(timeout=30)


def subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWSIM_GATEWAY_URL"):
        env.pop(name, None)
    return env


def accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def peers(trace: Path) -> list[str]:
    """Every inet address the traced processes connected or sent to."""
    found = []
    for line in trace.read_text().splitlines():
        for v4, v6 in ADDRESS.findall(line):
            found.append(v4 or v6)
    return found


SDKS = {**PYTHON_SDKS, **NODE_SDKS}
KILLED = 128 + signal.SIGTERM  # the app dies of the SIGTERM twsim passed on ...
STOPPED = 0  # ... or handles it and exits cleanly (aiohttp's run_app)
CASES = [
    ("twilio-python 6", "flask_import_time.py", None, KILLED),
    ("twilio-python 6", "flask_per_request.py", LITERAL_ACCOUNT, KILLED),
    ("twilio-python 9", "flask_import_time.py", None, KILLED),
    ("twilio-python 9", "flask_per_request.py", LITERAL_ACCOUNT, KILLED),
    ("twilio-python 9", "aiohttp_async_client.py", None, STOPPED),
    ("twilio-node 3 (request)", "express_import_time.js", None, KILLED),
    ("twilio-node 3 (request)", "express_per_request.js", LITERAL_ACCOUNT, KILLED),
    ("twilio-node 4", "express_import_time.js", None, KILLED),
    ("twilio-node 4", "express_per_request.js", LITERAL_ACCOUNT, KILLED),
    ("twilio-node 5", "express_import_time.js", None, KILLED),
    ("twilio-node 5", "express_per_request.js", LITERAL_ACCOUNT, KILLED),
]


@pytest.mark.timeout(600)  # the first run installs the SDK (npm, pip)
@pytest.mark.parametrize(
    ("sdk", "app", "config", "status"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES]
)
def test_an_unmodified_app_talks_to_the_gateway_and_to_no_one_else(
    traced: object, sdk: str, app: str, config: str | None, status: int
) -> None:
    port = free_port()
    run: Traced = traced(SDKS[sdk], app, port=port, config=config)  # type: ignore[operator]

    answer, body = http(
        "POST",
        f"{run.gateway}/_twsim/inbound?wait=1",
        {"From": "+12025550123", "To": "+15005550006", "Body": "hello"},
    )
    assert answer == 200, body
    outcome = json.loads(body)
    assert [r["body"] for r in outcome["replies"]] == ["Thanks for your text!"]

    _, body = http("GET", f"{run.gateway}/_twsim/messages?direction=outbound-api")
    sent = json.loads(body)["messages"]
    assert [(m["to"], m["body"]) for m in sent] == [("+12025550199", "New text: hello")]

    answer, body = http("GET", f"http://127.0.0.1:{port}/services")
    assert answer == 502
    assert "twsim: refused a request to https://messaging.twilio.com/v1/Services" in body
    assert "nothing was sent" in body

    pid = run.exec_pid()
    os.kill(pid, signal.SIGTERM)
    assert run.process.wait(timeout=60) == status, run.output()
    assert "refused a request to https://messaging.twilio.com" in run.output()  # said loudly

    addresses = peers(run.trace)
    assert "127.0.0.1" in addresses  # the trace saw the app and the gateway talk
    outside = sorted({a for a in addresses if not ipaddress.ip_address(a).is_loopback})
    assert outside == [], f"connections to non-loopback addresses: {outside}"


# -- the command itself, with this interpreter as the app ---------------------------------------
def twsim(*args: str, **options: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "twsim", *args],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        **options,  # type: ignore[call-overload]
    )


def test_the_child_gets_the_variables_and_its_status_is_twsims() -> None:
    code = (
        "import os, sys; "
        "print(os.environ['TWSIM_GATEWAY_URL'], os.environ['TWILIO_ACCOUNT_SID'], "
        "os.environ['PYTHONPATH'].split(os.pathsep)[0].endswith('shims/python'), "
        "'twsim-preload.js' in os.environ['NODE_OPTIONS']); sys.exit(3)"
    )
    done = twsim("exec", "--", sys.executable, "-c", code)
    assert done.returncode == 3, done.stderr
    url, sid, python_shim, node_shim = done.stdout.split()
    assert url.startswith("http://127.0.0.1:") and sid == "AC0123456789abcdef0123456789abcdef"
    assert python_shim == node_shim == "True"
    assert f"twsim exec: gateway at {url} (started for this app)" in done.stderr


def test_the_apps_own_credentials_are_kept() -> None:
    code = "import os; print(os.environ['TWILIO_ACCOUNT_SID'], os.environ['TWILIO_AUTH_TOKEN'])"
    env = {**subprocess_env(), "TWILIO_ACCOUNT_SID": "ACmine", "TWILIO_AUTH_TOKEN": "secret"}
    done = subprocess.run(
        [sys.executable, "-m", "twsim", "exec", "--", sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.stdout.split() == ["ACmine", "secret"], done.stderr


def test_a_running_gateway_is_used_with_dash_dash_gateway() -> None:
    code = (
        "from twilio.rest import Client; "
        "m = Client().messages.create(to='+12025550199', from_='+15005550006', body='hi'); "
        "print(m.sid)"
    )
    with SimulatorThread() as sim:
        done = twsim("exec", "--gateway", sim.url, "--", sys.executable, "-c", code)
        assert done.returncode == 0, done.stderr
        sid = done.stdout.strip()
        message = sim.gateway.state.messages[sid]
        assert (message.to, message.body, str(message.direction)) == (
            "+12025550199",
            "hi",
            "outbound-api",
        )
    assert f"gateway at {sim.url} (running)" in done.stderr


def test_a_gateway_that_does_not_answer_is_an_error() -> None:
    done = twsim("exec", "--gateway", f"http://127.0.0.1:{free_port()}", "--", "true")
    assert done.returncode == 1
    assert "no twsim gateway answers at http://127.0.0.1:" in done.stderr


def test_a_missing_command_is_127_and_no_command_a_usage_error() -> None:
    done = twsim("exec", "--", "no-such-command-for-twsim")
    assert done.returncode == 127
    assert "no-such-command-for-twsim: command not found" in done.stderr
    done = twsim("exec")
    assert done.returncode == 2
    assert "give the app to run after --" in done.stderr


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_signals_reach_the_child(sig: signal.Signals) -> None:
    # Not in a terminal's foreground group: SIGINT too is passed on by twsim.
    code = (
        "import signal, sys; "
        "signal.signal(signal.SIGINT, lambda *a: sys.exit(40)); "
        "signal.signal(signal.SIGTERM, lambda *a: sys.exit(41)); "
        "signal.signal(signal.SIGHUP, lambda *a: sys.exit(42)); "
        "print('ready', flush=True); signal.pause()"
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "twsim", "exec", "--", sys.executable, "-c", code],
        env=subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # no controlling terminal, as under a process manager
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
        process.send_signal(sig)
        status = process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert status == {signal.SIGINT: 40, signal.SIGTERM: 41, signal.SIGHUP: 42}[sig]
