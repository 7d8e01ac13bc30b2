"""pytest fixtures for testing an app end to end against twsim (installed with the package).

The app under test, started from its command (or already running at a URL), with the
gateway wired to it: the gateway's number sends its webhooks to the app, and the app's
twilio-python / twilio-node REST calls reach the gateway through the same shim as
`twsim exec`. The app needs no change.

    @pytest.mark.twsim_app(command=["python", "app.py", "--port", "{port}"])
    def test_a_wrong_code_is_answered_once(twsim_app):
        twsim_app.text("+12025550123", "CS1O1")
        twsim_app.assert_replied("not today's code")
        twsim_app.text("+12025550123", "CS1O1")
        twsim_app.assert_no_reply()
        twsim_app.assert_amplification(max=1.2)

`{port}` in the command (and $PORT) is a free port chosen for each test, different in
every pytest-xdist worker. Configure the app with the `twsim_app` marker (on a test, a
class or a module's `pytestmark`) or override the `twsim_app_options` fixture; the
gateway's configuration is the `twsim_config` fixture. Lower-level fixtures:
`twsim_gateway` (a running gateway, `.url`, `.client()`, `.events`) and
`twsim_gateway_send` (text it and wait for the app's answer).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from twsim.analysis import report as reports
from twsim.analysis.report import Report
from twsim.config.models import Config
from twsim.gateway.inbound import InboundOutcome
from twsim.model.events import Event, EventType
from twsim.model.records import Message
from twsim.observe.app_process import AppProcess
from twsim.observe.ports import free_port
from twsim.observe.shim import shim_environment
from twsim.scenario.runner import run_burst
from twsim.scenario.spec import load_scenario
from twsim.server.simulator import Simulator, SimulatorThread

MARKER = "twsim_app"
# What the gateway itself does about an inbound; anything else is a side effect observed.
GATEWAY_EVENTS = frozenset(
    {
        EventType.API_REQUEST,
        EventType.INBOUND_RECEIVED,
        EventType.INBOUND_REJECTED,
        EventType.WEBHOOK_ATTEMPT,
        EventType.TWIML_EXECUTED,
        EventType.TWIML_WARNING,
        EventType.MESSAGE_CREATED,
        EventType.MESSAGE_REJECTED,
        EventType.MESSAGE_STATUS,
        EventType.MESSAGE_UPDATED,
        EventType.MESSAGE_DELETED,
        EventType.CALLBACK_ATTEMPT,
        EventType.CHARGE,
        EventType.OPT_OUT,
        EventType.AUTO_REPLY,
        EventType.NUMBER_CHANGED,
        EventType.SEND_PLANNED,
        EventType.RESET,
    }
)


@dataclass(slots=True)
class AppOptions:
    """The app under test: a `command` to start (with `{port}` filled in), or a `url`."""

    command: Sequence[str] | None = None
    url: str | None = None
    webhook: str = "/sms"  # the path of the app's messaging webhook
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str | Path | None = None
    start_timeout_s: float = 60.0
    gateway_port: int = 0  # fixed, for an app started elsewhere with `twsim exec --gateway`

    def __post_init__(self) -> None:
        if isinstance(self.command, str):
            raise TypeError("command is a list of arguments, e.g. ['python', 'app.py']")
        if (self.command is None) == (self.url is None):
            raise ValueError("give the app under test as command=[...] or url=...")


@dataclass(slots=True)
class Exchange:
    """What one text to the app caused: its replies, REST sends, errors, side effects."""

    inbound: Message
    outcome: InboundOutcome
    sends: list[Message]
    events: list[Event]
    report: Report

    @property
    def replies(self) -> list[str]:
        return [m.body for m in self.outcome.replies]

    @property
    def sent(self) -> list[str]:
        """Bodies of the messages the app created through the REST API meanwhile."""
        return [m.body for m in self.sends]

    @property
    def errors(self) -> dict[int, int]:
        """Twilio error codes raised while handling it, with their counts."""
        return dict(self.report.errors)

    @property
    def side_effects(self) -> list[Event]:
        """Observed effects beyond messages (emails, log lines, rows), when observed."""
        return [e for e in self.events if e.type not in GATEWAY_EVENTS]


class TwsimApp:
    """The app under test and the gateway wired to it: text it, then assert."""

    def __init__(self, runner: SimulatorThread, url: str, process: AppProcess | None) -> None:
        self._runner = runner
        assert runner.simulator is not None
        self.gateway: Simulator = runner.simulator
        self.url = url
        self.process = process
        self.exchanges: list[Exchange] = []

    @property
    def gateway_url(self) -> str:
        return self.gateway.url

    @property
    def number(self) -> str:
        return self.gateway.number

    def client(self) -> Any:
        """An official twilio Client aimed at the gateway (to look at what it holds)."""
        return self.gateway.client()

    def output(self, lines: int = 40) -> str:
        """The app's last lines of output (stdout and stderr)."""
        return self.process.tail(lines) if self.process else ""

    # -- doing ------------------------------------------------------------------------------
    def text(self, from_: str, body: str, *, to: str | None = None) -> Exchange:
        """Text the app as a phone would; returns once its webhook answer is carried out."""

        async def exchange() -> Exchange:
            sim = self.gateway
            start = sim.events.last_seq
            outcome = await sim.send(body, from_=from_, to=to)
            sid = outcome.inbound.sid
            events = [e for e in sim.events.since(start) if e.inbound == sid]
            sends = [
                m
                for m in sim.gateway.state.messages.values()
                if m.inbound_sid == sid and str(m.direction) == "outbound-api"
            ]
            report = reports.build(events, prices=sim.gateway.prices)
            return Exchange(outcome.inbound, outcome, sends, events, report)

        result = self._runner.run(exchange())
        self.exchanges.append(result)
        return result

    def burst(self, scenario: str = "classroom", *, speed: float = 1.0, **overrides: Any) -> Report:
        """Run a scenario (shipped name or path) against the app; its report.

        `overrides` replace the scenario's own fields, e.g. `students=12, seed=3`.
        """
        loaded = load_scenario(scenario)
        if overrides:
            loaded = dataclasses.replace(loaded, **overrides)
        result = self._runner.run(run_burst(loaded, sim=self.gateway, speed=speed))
        return result.report

    def report(self) -> Report:
        """The report of everything so far in this test."""

        async def build() -> Report:  # folded from the first event: exact past retention
            return self.gateway.report.result()

        return self._runner.run(build())

    # -- asserting --------------------------------------------------------------------------
    def _last(self) -> Exchange:
        if not self.exchanges:
            raise AssertionError("nothing was texted yet: call text(from_, body) first")
        return self.exchanges[-1]

    def assert_replied(self, *expected: str | re.Pattern[str]) -> None:
        """The last text was answered, each `expected` found in a reply (text or regex)."""
        replies = self._last().replies
        if not replies:
            raise AssertionError(f"no reply to the last text{self._context()}")
        for wanted in expected:
            if not any(_found(wanted, reply) for reply in replies):
                raise AssertionError(f"no reply matches {_shown(wanted)}; replies: {replies!r}")

    def assert_no_reply(self) -> None:
        """The last text got no reply (by TwiML or by a REST send to its sender)."""
        last = self._last()
        to_sender = [m.body for m in last.sends if m.to == last.inbound.from_]
        if last.replies or to_sender:
            raise AssertionError(f"expected no reply; got {[*last.replies, *to_sender]!r}")

    def assert_amplification(self, *, max: float) -> None:
        """Outbound messages per inbound text, over the whole test, at most `max`."""
        current = self.report()
        value = current.amplification["messages"]
        if value > max:
            raise AssertionError(
                f"amplification {value:g} outbound messages per inbound text > {max:g} "
                f"({current.outbound.count} outbound for {current.inbound.count} inbound: "
                f"{current.outbound_by_origin['reply'].count} replies, "
                f"{current.outbound_by_origin['api'].count} REST sends)"
            )

    def assert_cost(self, *, max: float | Decimal | str) -> None:
        """What the whole test cost (inbound and outbound), at most `max`."""
        current = self.report()
        limit = Decimal(str(max))
        if current.total_cost > limit:
            raise AssertionError(
                f"cost {current.total_cost} {current.currency} > {limit} "
                f"({current.inbound.count} inbound, {current.outbound.count} outbound, "
                f"{current.outbound.segments} outbound segments)"
            )

    def assert_no_errors(self) -> None:
        """No Twilio error, failed webhook or rejected message in the whole test."""
        current = self.report()
        problems = []
        if current.errors:
            problems.append(f"error codes {dict(current.errors)}")
        if current.webhook["failures"]:
            problems.append(f"{current.webhook['failures']} failed webhooks")
        if any(current.rejected.values()):
            problems.append(f"rejected {current.rejected}")
        if problems:
            raise AssertionError("; ".join(problems) + self._context())

    def _context(self) -> str:
        return f"\napp output:\n{self.output()}" if self.process else ""


def _found(wanted: str | re.Pattern[str], text: str) -> bool:
    return bool(wanted.search(text)) if isinstance(wanted, re.Pattern) else wanted in text


def _shown(wanted: str | re.Pattern[str]) -> str:
    return f"/{wanted.pattern}/" if isinstance(wanted, re.Pattern) else repr(wanted)


# -- hooks and fixtures -------------------------------------------------------------------------
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(command=None, url=None, webhook='/sms', env=None, cwd=None, "
        "start_timeout_s=60, gateway_port=0): the app under test for the twsim_app fixture",
    )


@pytest.fixture
def twsim_config() -> Config:
    """The gateway's configuration (override this fixture to point numbers at your app)."""
    return Config()


@pytest.fixture
def twsim_app_options(request: pytest.FixtureRequest) -> AppOptions:
    """The app under test, from the nearest `twsim_app` marker (override to set it here)."""
    marker = request.node.get_closest_marker(MARKER)
    if marker is None:
        raise pytest.UsageError(
            "twsim_app needs the app under test: mark the test "
            "@pytest.mark.twsim_app(command=[...]) or override the twsim_app_options fixture"
        )
    kwargs = dict(marker.kwargs)
    if marker.args:
        kwargs.setdefault("command", marker.args[0])
    if kwargs.get("env") is None:
        kwargs.pop("env", None)
    return AppOptions(**kwargs)


@pytest.fixture
def twsim_thread(twsim_config: Config) -> Iterator[SimulatorThread]:
    runner = SimulatorThread(twsim_config, port=0)
    runner.start()
    yield runner
    runner.stop()


@pytest.fixture
def twsim_app(twsim_config: Config, twsim_app_options: AppOptions) -> Iterator[TwsimApp]:
    """The app under test, started and waited for, the gateway wired to it; stopped after."""
    options = twsim_app_options
    runner = SimulatorThread(twsim_config, port=options.gateway_port)
    sim = runner.start()
    process: AppProcess | None = None
    try:
        if options.command is not None:
            port = free_port()
            argv = [str(part).replace("{port}", str(port)) for part in options.command]
            env = shim_environment(sim.url, twsim_config.accounts[0])
            env.update({"PORT": str(port), **options.env})
            process = runner.run(
                AppProcess.start_on_port(
                    argv, port=port, env=env, cwd=options.cwd, timeout=options.start_timeout_s
                )
            )
            url = process.url
        else:
            assert options.url is not None
            url = options.url.rstrip("/")
        webhook = url + "/" + options.webhook.lstrip("/")
        for number in sim.gateway.state.numbers.values():
            number.sms_url = webhook
        app = TwsimApp(runner, url, process)
        yield app
    finally:
        if process is not None:
            runner.run(process.stop())
            print(f"twsim_app: the app's last output\n{process.tail()}")
        runner.stop()


@pytest.fixture
def twsim_gateway(twsim_thread: SimulatorThread) -> Simulator:
    """A running gateway on a free loopback port (`.url`, `.client()`, `.events`)."""
    assert twsim_thread.simulator is not None
    return twsim_thread.simulator


@pytest.fixture
def twsim_gateway_send(twsim_thread: SimulatorThread) -> Callable[..., InboundOutcome]:
    """Text the gateway's number and wait for the app's answer: `send(body, from_=...)`."""

    def send(body: str, **kwargs: Any) -> InboundOutcome:
        return twsim_thread.send(body, **kwargs)

    return send
