"""Fixtures for the recording tests: a loopback app in the test's own event loop."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from harness import ClassroomApp


@pytest.fixture
async def classroom_app(serve_app: Any) -> ClassroomApp:
    """A started `ClassroomApp`; its URL is `classroom_app.url`."""
    app = ClassroomApp()
    web_app = web.Application()
    web_app.router.add_post("/{tail:.*}", app.handle)
    server = await serve_app(web_app)
    app.url = f"http://127.0.0.1:{server.port}"
    return app
