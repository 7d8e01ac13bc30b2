"""pytest fixtures for apps tested against twsim (installed with the package).

    def test_signup_texts_a_code(twsim_gateway):          # a gateway in a background thread
        client = twsim_gateway.client()                    # official twilio Client aimed at it
        ...
        outcome = twsim_gateway_send("hello", from_="+12025550123")

`twsim_config` can be overridden to give the gateway your numbers and webhook URLs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from twsim.config.models import Config
from twsim.gateway.inbound import InboundOutcome
from twsim.server.simulator import Simulator, SimulatorThread


@pytest.fixture
def twsim_config() -> Config:
    """The gateway's configuration (override this fixture to point numbers at your app)."""
    return Config()


@pytest.fixture
def twsim_thread(twsim_config: Config) -> Iterator[SimulatorThread]:
    runner = SimulatorThread(twsim_config, port=0)
    runner.start()
    yield runner
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
