"""Fixtures for driving the gateway's Twilio REST API the way an app does.

The official `twilio` client is synchronous, and the gateway runs in the test's event loop,
so every client call goes through `asyncio.to_thread` (the `sdk` and `sdk_error` fixtures).
`http` is a plain aiohttp session for what the client cannot send (no credentials, garbage
bodies, wrong methods). `openapi` validates raw JSON against Twilio's OpenAPI schemas.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from twilio.base.exceptions import TwilioException, TwilioRestException

from twsim.model.events import ApiRequest
from twsim.server.simulator import Simulator

# the messaging subset of Twilio's OpenAPI document, committed with its source and licence
SPEC = Path(__file__).resolve().parents[1] / "data" / "twilio_api_v2010.messaging.json"

Sdk = Callable[..., Awaitable[Any]]
SdkError = Callable[..., Awaitable[TwilioRestException]]


async def _sdk(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return await asyncio.to_thread(call, *args, **kwargs)


async def _sdk_error(call: Callable[..., Any], *args: Any, **kwargs: Any) -> TwilioRestException:
    with pytest.raises(TwilioRestException) as caught:
        await asyncio.to_thread(call, *args, **kwargs)
    return caught.value


async def _sdk_list_error(call: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[int, int]:
    # twilio-python reports a failed list page as a bare TwilioException carrying the
    # HTTP response, not as a TwilioRestException; read Twilio's error JSON from it.
    with pytest.raises(TwilioException) as caught:
        await asyncio.to_thread(call, *args, **kwargs)
    error = caught.value
    if isinstance(error, TwilioRestException):
        return error.status, error.code  # type: ignore[return-value]
    assert error.args[0] == "Unable to fetch page"
    response = error.args[1]
    return response.status_code, json.loads(response.text)["code"]


@pytest.fixture
def sdk() -> Sdk:
    """`await sdk(client.messages.create, to=..., ...)`: a client call off the event loop."""
    return _sdk


@pytest.fixture
def sdk_error() -> SdkError:
    """`error = await sdk_error(call, ...)`: the TwilioRestException the call must raise."""
    return _sdk_error


@pytest.fixture
def sdk_list_error() -> Callable[..., Awaitable[tuple[int, int]]]:
    """`status, code = await sdk_list_error(client.messages.list)`: a list call's error."""
    return _sdk_list_error


def basic_auth(username: str, password: str) -> str:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return f"Basic {token}"


def api_requests(sim: Simulator) -> list[dict[str, Any]]:
    """The data of every `api.request` event so far."""
    return [e.data() for e in sim.events.of_type(ApiRequest)]


@pytest.fixture
def api_log() -> Callable[[Simulator], list[dict[str, Any]]]:
    return api_requests


@dataclass(slots=True)
class Answer:
    status: int
    content_type: str
    text: str
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.text)


class Http:
    """Raw HTTP to a simulator, with the account's credentials unless told otherwise."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def __call__(
        self,
        sim: Simulator,
        method: str,
        path: str,
        *,
        auth: tuple[str, str] | bool | None = True,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> Answer:
        sent = dict(headers or {})
        if auth is True:
            sent["Authorization"] = basic_auth(sim.account_sid, sim.auth_token)
        elif isinstance(auth, tuple):
            sent["Authorization"] = basic_auth(*auth)
        url = path if path.startswith("http") else sim.url + path
        async with self.session.request(
            method, url, headers=sent, allow_redirects=False, **kwargs
        ) as response:
            return Answer(
                response.status,
                response.content_type,
                await response.text(errors="replace"),
                dict(response.headers),
            )


@pytest.fixture
async def http() -> AsyncIterator[Http]:
    async with aiohttp.ClientSession() as session:
        yield Http(session)


def account_path(sim: Simulator, rest: str = "") -> str:
    return f"/2010-04-01/Accounts/{sim.account_sid}{rest}"


@pytest.fixture
def paths() -> Callable[[Simulator, str], str]:
    """`paths(sim, "/Messages.json")`: a path under the simulator's first account."""
    return account_path


class OpenApi:
    """Twilio's v2010 OpenAPI document, and validation of JSON against its schemas.

    Schemas are addressed by JSON pointer into the document, so their `$ref`s resolve
    against the document's components.
    """

    URN = "urn:twilio-api-v2010"

    def __init__(self, spec: dict[str, Any]) -> None:
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT4

        self.spec = spec
        resource: Resource[Any] = Resource.from_contents(spec, default_specification=DRAFT4)
        self._registry: Registry[Any] = Registry().with_resource(self.URN, resource)

    def errors(self, pointer: str, instance: Any) -> list[str]:
        """Every way `instance` breaks the schema at `pointer` (e.g. "/components/...")."""
        from openapi_schema_validator import OAS30Validator, oas30_format_checker

        validator = OAS30Validator(
            {"$ref": f"{self.URN}#{quote(pointer, safe='/~')}"},
            registry=self._registry,
            format_checker=oas30_format_checker,
        )
        return [
            f"{'/'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message}"
            for e in validator.iter_errors(instance)
        ]

    def component_errors(self, name: str, instance: Any) -> list[str]:
        return self.errors(f"/components/schemas/{name}", instance)

    def list_errors(self, path: str, instance: Any) -> list[str]:
        """Errors against the 200 answer of `GET path` (a list envelope)."""
        escaped = path.replace("~", "~0").replace("/", "~1")
        return self.errors(
            f"/paths/{escaped}/get/responses/200/content/application~1json/schema", instance
        )

    def patched(self, component: str, field: str, schema: dict[str, Any]) -> OpenApi:
        """A copy whose `component` schema has `field` replaced by `schema`."""
        spec = copy.deepcopy(self.spec)
        spec["components"]["schemas"][component]["properties"][field] = schema
        return OpenApi(spec)


@pytest.fixture(scope="session")
def openapi() -> OpenApi:
    return OpenApi(json.loads(SPEC.read_text()))
