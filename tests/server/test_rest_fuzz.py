"""Twilio's REST API as twsim serves it never fails with a 5xx, whatever it is sent.

A bounded, derandomized schemathesis run over every operation twsim implements, as
Twilio's own OpenAPI document describes them (its messaging subset, committed under
tests/data/). Requests carry the account's credentials and its real SID, and message and
number SIDs that exist, so the fuzzing reaches the handlers rather than stopping at 401
and 404. Every answer is below 500, and every 4xx is Twilio's error JSON.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from twsim.server.simulator import Simulator, SimulatorThread

SPEC = Path(__file__).resolve().parents[1] / "data" / "twilio_api_v2010.messaging.json"
FUZZ = settings(
    max_examples=10,
    derandomize=True,  # the same examples on every run: never flaky
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)

schema = schemathesis.openapi.from_dict(json.loads(SPEC.read_text()))
KNOWN: dict[str, str] = {}  # what exists on the gateway, filled by the fixture


@schema.hook
def map_path_parameters(ctx: Any, path_parameters: dict[str, Any] | None) -> Any:
    if not path_parameters or not KNOWN:
        return path_parameters
    if ctx.operation.method.upper() == "DELETE" and "AccountSid" in path_parameters:
        path_parameters["AccountSid"] = KNOWN["account"]
        return path_parameters  # deletes aim at random SIDs: the known ones stay for the rest
    path = ctx.operation.path
    for name in path_parameters:
        if name == "AccountSid":
            path_parameters[name] = KNOWN["account"]
        elif name == "MessageSid":
            path_parameters[name] = KNOWN["message"]
        elif name == "Sid" and path == "/2010-04-01/Accounts/{Sid}.json":
            path_parameters[name] = KNOWN["account"]
        elif name == "Sid" and path.endswith("/Messages/{Sid}.json"):
            path_parameters[name] = KNOWN["message"]
        elif name == "Sid" and "/IncomingPhoneNumbers/" in path:
            path_parameters[name] = KNOWN["number"]
    return path_parameters


@pytest.fixture(scope="module")
def gateway() -> Iterator[Simulator]:
    running = SimulatorThread()
    sim = running.start()
    client = sim.client()
    message = client.messages.create(
        to="+15557654321", from_=sim.number, body="hi", media_url=["http://127.0.0.1:9/a.png"]
    )
    number = client.incoming_phone_numbers.list()[0]
    KNOWN.update(account=sim.account_sid, message=message.sid, number=number.sid)
    yield sim
    KNOWN.clear()
    running.stop()


def _credentials(sim: Simulator) -> str:
    token = base64.b64encode(f"{sim.account_sid}:{sim.auth_token}".encode()).decode()
    return f"Basic {token}"


@schema.parametrize()
@FUZZ
def test_rest_api_never_fails_with_a_5xx(case: Any, gateway: Simulator) -> None:
    response = case.call(
        base_url=gateway.url, headers={"Authorization": _credentials(gateway)}, timeout=30
    )
    case.validate_response(response, checks=[not_a_server_error])
    if 400 <= response.status_code < 500:
        error = response.json()
        assert set(error) >= {"code", "message", "more_info", "status"}, error
        assert error["status"] == response.status_code
