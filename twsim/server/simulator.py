"""The `Simulator` facade: a gateway served over HTTP, started and stopped in one call.

    async with Simulator(port=0) as sim:
        client = sim.client()                       # official twilio Client aimed at sim
        outcome = await sim.send(from_="+15551230001", body="hello")

`SimulatorThread` runs the same in a background thread for synchronous code.
"""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Coroutine, Iterable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from aiohttp import web
from twilio.rest import Client

from twsim.config.models import DEFAULT_HOST, DEFAULT_PORT, Config
from twsim.core.pricing import PriceTable
from twsim.gateway.inbound import InboundOutcome
from twsim.gateway.runtime import Gateway
from twsim.model.clock import Clock
from twsim.observe.observers import Observers
from twsim.recording.journal import Recorder
from twsim.server.app import make_app
from twsim.server.live_report import LiveReport
from twsim.server.protocol import Runner
from twsim.server.sdk import client

T = TypeVar("T")


def tune_gc() -> None:
    """Fewer, cheaper garbage collections, for a process that runs a gateway under load.

    A gateway keeps every message and event; with the default thresholds the collector
    walks them all again and again, pausing the event loop for hundreds of milliseconds.
    Objects alive now are frozen out of collection, and young collections run less often.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 10)


class Simulator:
    def __init__(
        self,
        config: Config | None = None,
        *,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        clock: Clock | None = None,
        prices: PriceTable | None = None,
        record: str | Path | None = None,
        record_meta: dict[str, Any] | None = None,
        force: bool = False,
        series: bool = False,
    ) -> None:
        self.config = config or Config()
        self.host = host
        self.port = port
        self.gateway = Gateway(self.config, clock=clock, prices=prices)
        # from the first event: exact for the whole run (and its charts too, with `series`)
        self.report = LiveReport(self.gateway, series=series)
        self.recorder = (
            Recorder.create(
                record,
                self.gateway.events,
                seed=self.config.seed,
                prices=self.gateway.prices,
                meta=record_meta or {},
                force=force,
            )
            if record is not None
            else None
        )
        self.observers: Observers | None = None
        self._runner: Runner | None = None
        self.app: web.Application | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def account_sid(self) -> str:
        return self.config.accounts[0].sid

    @property
    def auth_token(self) -> str:
        return self.config.accounts[0].auth_token

    @property
    def number(self) -> str:
        return self.config.numbers[0].phone_number

    @property
    def events(self) -> Any:
        return self.gateway.events

    async def start(self) -> Simulator:
        app = self.app = make_app(self.gateway, host=self.host, report=self.report)
        self._runner = Runner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, backlog=1024)
        await site.start()
        if self.port == 0:
            self.port = self._runner.addresses[0][1]
        self.gateway.state.media_base_url = self.url
        if self.recorder is not None:
            self.recorder.start()
        if self.config.observe.active:
            try:
                await self._observe()
            except BaseException:
                await self.stop()
                raise
        return self

    async def _observe(self) -> None:
        """Start the observers of the app's side effects (and the app, with `app_cmd`)."""
        gateway = self.gateway
        self.observers = Observers(
            self.config.observe,
            gateway.events,
            gateway.state.effects,
            gateway.clock,
            app_port=_app_port(self.config),
            app_env={
                "TWSIM_URL": self.url,
                "TWILIO_ACCOUNT_SID": self.account_sid,
                "TWILIO_AUTH_TOKEN": self.auth_token,
                "TWSIM_NUMBER": self.number,
            },
        )
        gateway.quiet_hooks.append(self.observers.settle)
        await self.observers.start()

    async def stop(self) -> None:
        if self.observers is not None:  # first: the app's last mail and lines still count
            await self.observers.stop()
            self.gateway.quiet_hooks.remove(self.observers.settle)
            self.observers = None
        await self.gateway.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.recorder is not None:
            self.recorder.close()

    async def __aenter__(self) -> Simulator:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def client(self) -> Client:
        """An official `twilio.rest.Client` aimed at this simulator."""
        return client(self.url, self.account_sid, self.auth_token)

    async def send(
        self,
        body: str,
        *,
        from_: str,
        to: str | None = None,
        media_urls: Iterable[str] = (),
        source: str = "api",
    ) -> InboundOutcome:
        """Text one of the gateway's numbers and wait until the app's answer is carried out."""
        _, outcome = await self.gateway.receive(
            from_=from_,
            to=to or self.number,
            body=body,
            media_urls=media_urls,
            source=source,
            wait=True,
        )
        assert outcome is not None
        return outcome

    async def quiet(self, timeout: float | None = 30.0) -> None:
        await self.gateway.quiet(timeout)


def _app_port(config: Config) -> int | None:
    """The port of the first webhook URL that names one (where `app_cmd`'s app listens)."""
    for number in config.numbers:
        if number.sms_url:
            parts = urlsplit(number.sms_url)
            if parts.port:
                return parts.port
    return None


class SimulatorThread:
    """A Simulator running on its own event loop in a background thread."""

    def __init__(self, config: Config | None = None, **options: Any) -> None:
        options.setdefault("port", 0)
        self._config = config
        self._options = options
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="twsim", daemon=True)
        self.simulator: Simulator | None = None

    def _call(self, work: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result()

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        """Run `work` on the gateway's event loop and wait for its result."""
        result: T = self._call(work)
        return result

    def start(self) -> Simulator:
        self._thread.start()

        async def boot() -> Simulator:
            return await Simulator(self._config, **self._options).start()

        self.simulator = self._call(boot())
        return self.simulator

    def send(self, body: str, **kwargs: Any) -> InboundOutcome:
        assert self.simulator is not None
        return self._call(self.simulator.send(body, **kwargs))  # type: ignore[no-any-return]

    def quiet(self, timeout: float = 30.0) -> None:
        assert self.simulator is not None
        self._call(self.simulator.quiet(timeout))

    def stop(self) -> None:
        if self.simulator is not None:
            self._call(self.simulator.stop())
            self.simulator = None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
