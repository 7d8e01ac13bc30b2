"""The running gateway: state, event log, webhook client, carrier and inbound handling.

One `Gateway` is passed to every part that needs the gateway's pieces. It owns the
background tasks (webhooks, lifecycles, callbacks) so callers can wait until it is quiet.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

from twsim.carrier import Carrier
from twsim.clock import Clock, SystemClock
from twsim.config import Config, load_prices
from twsim.cookies import ConversationCookies
from twsim.core.connection import ConnectionSettings, default_settings
from twsim.core.ids import SidFactory
from twsim.core.pricing import PriceTable
from twsim.core.signature import Signer
from twsim.delivery import WebhookClient
from twsim.events import EventLog
from twsim.inbound import InboundHandler, InboundOutcome
from twsim.model import Account
from twsim.state import Received, State


class Gateway:
    def __init__(
        self,
        config: Config | None = None,
        *,
        clock: Clock | None = None,
        prices: PriceTable | None = None,
    ) -> None:
        self.config = config or Config()
        self.clock = clock or SystemClock()
        self.prices = prices or load_prices(self.config.prices)
        self.events = EventLog(self.clock)
        self.state = State(self.config, clock=self.clock, prices=self.prices, events=self.events)
        self.client = WebhookClient()
        self.cookies = ConversationCookies(self.clock, self.config.webhook.cookie_ttl_s)
        self.connection: ConnectionSettings = default_settings(
            self.config.webhook.connect_timeout_s,
            self.config.webhook.total_timeout_s,
            self.config.webhook.retries,
        )
        self._tokens = SidFactory(random.Random(f"{self.config.seed}/tokens"))
        self._signers: dict[str, Signer] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._soon = 0
        self._quiet: asyncio.Event | None = None
        self.carrier = Carrier(self)
        self.inbound = InboundHandler(self)
        self.state.start_lifecycle = self.carrier.start

    # -- helpers the parts share ----------------------------------------------------------------
    def signer(self, account: Account) -> Signer:
        signer = self._signers.get(account.auth_token)
        if signer is None:
            signer = self._signers[account.auth_token] = Signer(account.auth_token)
        return signer

    def idempotency_token(self) -> str:
        return self._tokens.token()

    # -- background work -------------------------------------------------------------------------
    def spawn(self, work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        if self._quiet is not None:
            self._quiet.clear()
        task.add_done_callback(self._finished)
        return task

    def soon(self, work: Callable[..., None], *args: Any) -> None:
        """Run plain `work(*args)` on the next loop turn: a Task's cost without a Task."""
        self._soon += 1
        asyncio.get_running_loop().call_soon(self._run_soon, work, args)

    def _run_soon(self, work: Callable[..., None], args: tuple[Any, ...]) -> None:
        try:
            work(*args)
        except Exception as exc:
            self._report(exc)
        finally:
            self._soon -= 1
            self._check_quiet()

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._report(task.exception())
        self._check_quiet()

    def _report(self, exc: BaseException | None) -> None:
        asyncio.get_running_loop().call_exception_handler(
            {"message": "twsim background work failed", "exception": exc}
        )

    def _check_quiet(self) -> None:
        if not self._tasks and not self._soon and self._quiet is not None:
            self._quiet.set()

    @property
    def busy(self) -> int:
        """Background work still running (webhooks, lifecycles, callbacks)."""
        return len(self._tasks) + self._soon

    async def quiet(self, timeout: float | None = None) -> None:
        """Wait until no webhook, lifecycle step or callback is in flight."""
        while self.busy:
            if self._quiet is None:
                self._quiet = asyncio.Event()
            self._quiet.clear()
            await asyncio.wait_for(self._quiet.wait(), timeout)
            await asyncio.sleep(0)

    # -- the ingest path for every inbound -------------------------------------------------------
    def accept(
        self,
        *,
        from_: str | None,
        to: str | None,
        body: str = "",
        media_urls: Iterable[str] = (),
        source: str = "api",
        meta: dict[str, object] | None = None,
    ) -> tuple[Received, asyncio.Task[InboundOutcome]]:
        """Take an inbound text and start delivering its webhook in the background."""
        received = self.state.receive_inbound(
            from_=from_, to=to, body=body, media_urls=media_urls, source=source, meta=meta
        )
        return received, self.spawn(self.inbound.handle(received))

    async def receive(
        self,
        *,
        from_: str | None,
        to: str | None,
        body: str = "",
        media_urls: Iterable[str] = (),
        source: str = "api",
        meta: dict[str, object] | None = None,
        wait: bool = False,
    ) -> tuple[Received, InboundOutcome | None]:
        """Take an inbound text; with `wait`, answer once the app's answer is carried out."""
        received, task = self.accept(
            from_=from_, to=to, body=body, media_urls=media_urls, source=source, meta=meta
        )
        if not wait:
            return received, None
        return received, await asyncio.shield(task)

    def reset(self) -> None:
        self.state.reset()
        self.cookies.clear()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.client.close()
