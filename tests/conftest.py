"""Shared fixtures: a gateway on a loopback port, and loopback apps for it to call."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import psycopg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from browsing import chromium
from pg_server import PostgresServer

from twsim.config.models import Config
from twsim.config.reader import config_from_dict
from twsim.server.simulator import Simulator

SimFactory = Callable[..., Awaitable[Simulator]]


@pytest.fixture
async def make_sim() -> AsyncIterator[SimFactory]:
    """Start Simulators on port 0: `await make_sim(config_or_dict, **options)`."""
    started: list[Simulator] = []

    async def make(config: Config | dict[str, Any] | None = None, **options: Any) -> Simulator:
        if isinstance(config, dict):
            config = config_from_dict(config)
        options.setdefault("port", 0)
        sim = await Simulator(config, **options).start()
        started.append(sim)
        return sim

    yield make
    for sim in started:
        await sim.stop()


@pytest.fixture
async def sim(make_sim: SimFactory) -> Simulator:
    """A gateway with the built-in defaults (one account, one number, no webhook)."""
    return await make_sim()


AppFactory = Callable[[web.Application], Awaitable[TestServer]]


@pytest.fixture
async def serve_app(aiohttp_server: Any) -> AppFactory:
    """Serve an aiohttp application on a loopback port: `server = await serve_app(app)`."""

    async def serve(app: web.Application) -> TestServer:
        return await aiohttp_server(app, host="127.0.0.1")  # type: ignore[no-any-return]

    return serve


@pytest.fixture
def make_browser(tmp_path: Any) -> Any:
    """Headless Chromium with a fresh profile: `browser = make_browser(width, height)`."""
    started: list[Any] = []

    def make(width: int = 1280, height: int = 800) -> Any:
        browser = chromium(tmp_path / f"profile-{len(started)}", width, height)
        started.append(browser)
        return browser

    yield make
    for browser in started:
        browser.quit()


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """A real PostgreSQL server for the session (on loopback, in a temporary folder): its URL."""
    server = PostgresServer().start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
async def pg_database(postgres: str) -> AsyncIterator[str]:
    """A fresh database on the session's PostgreSQL server (dropped at the end): its URL."""
    name = "app_" + uuid.uuid4().hex[:12]
    async with await psycopg.AsyncConnection.connect(postgres, autocommit=True) as admin:
        await admin.execute(f'CREATE DATABASE "{name}"')
    yield postgres.rpartition("/")[0] + "/" + name
    async with await psycopg.AsyncConnection.connect(postgres, autocommit=True) as admin:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
