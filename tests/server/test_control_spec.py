"""The control plane keeps to its own OpenAPI description, whatever it is sent.

A bounded, derandomized schemathesis run over every operation of `/_twsim/openapi.json`:
no 5xx, and every answer's status, content type and body are the ones the description
gives (errors are Twilio's JSON). The gateway runs in a background thread on a loopback
port; its one number answers nothing, so `wait=1` returns at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from twsim.server import control_spec
from twsim.server.simulator import Simulator, SimulatorThread

FUZZ = settings(
    max_examples=25,
    derandomize=True,  # the same examples on every run: never flaky
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

schema = schemathesis.openapi.from_dict(control_spec.document())


@schema.hook
def filter_query(ctx: Any, query: dict[str, Any] | None) -> bool:
    # `follow=1` streams events until the client leaves: it has its own tests
    return not (query and query.get("follow") is not None)


@pytest.fixture(scope="module")
def gateway() -> Iterator[Simulator]:
    running = SimulatorThread()
    yield running.start()
    running.stop()


def test_the_published_description_is_this_one(gateway: Simulator) -> None:
    served = requests.get(f"{gateway.url}/_twsim/openapi.json", timeout=30)
    assert served.status_code == 200
    document = served.json()
    assert document["paths"].keys() == control_spec.document()["paths"].keys()
    assert document["servers"] == [{"url": gateway.url}]


@schema.parametrize()
@FUZZ
def test_control_plane_keeps_to_its_description(case: Any, gateway: Simulator) -> None:
    if case.query and case.query.get("follow") is not None:
        return  # a stream that lasts until the client leaves: tested with the event feed
    response = case.call(base_url=gateway.url, timeout=30)
    case.validate_response(response, checks=CHECKS)
