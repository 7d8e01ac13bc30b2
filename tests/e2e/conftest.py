"""Fixtures for end-to-end tests: a validating loopback app for the gateway to call."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from apps import Gate, RawServer, TwilioApp, Unaccepting


@pytest.fixture
async def app(serve_app: Any) -> TwilioApp:
    """A started `TwilioApp` that checks signatures with the default auth token."""
    return await TwilioApp().start(serve_app)


@pytest.fixture
async def gate(app: TwilioApp) -> AsyncIterator[Gate]:
    """Holds slow handlers; released when the test ends, before the app stops."""
    held = Gate()
    yield held
    held.release()


@pytest.fixture
def unaccepting() -> Iterator[Unaccepting]:
    """A loopback port where connections are never accepted (connect timeouts)."""
    server = Unaccepting()
    yield server
    server.close()


@pytest.fixture
async def raw_server() -> AsyncIterator[Any]:
    """`await raw_server(answer_bytes, *later_parts, pause_s=...)` starts a `RawServer`;
    all are closed at the end."""
    started: list[RawServer] = []

    async def start(answer: bytes, *more: bytes, pause_s: float = 0.0) -> RawServer:
        server = await RawServer(answer, *more, pause_s=pause_s).start()
        started.append(server)
        return server

    yield start
    for server in started:
        await server.close()
