"""Fixtures for the CLI tests: a counting SMS app on a loopback port."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from cli_harness import CountingApp


@pytest.fixture
async def counting_app(
    serve_app: Callable[[web.Application], Awaitable[Any]],
) -> AsyncIterator[CountingApp]:
    app = CountingApp()
    web_app = web.Application()
    web_app.router.add_post("/sms", app.sms)
    server = await serve_app(web_app)
    app.url = f"http://127.0.0.1:{server.port}/sms"
    yield app
    app.release()
