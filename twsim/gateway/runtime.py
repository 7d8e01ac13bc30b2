"""The running gateway: the state and its event log, and the parts that call the app.

`Gateway` makes each part and hands it the collaborators it uses: the webhook client and
the app caller, inbound handling, the carrier (which starts on every message the state
creates), the conversations' cookies, and the background work they share, so callers can
wait until it is quiet.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterable

from twsim.config.models import Config
from twsim.config.shipped import load_prices
from twsim.core.connection import default_settings
from twsim.core.ids import SidFactory
from twsim.core.pricing import PriceTable
from twsim.gateway.background import Background
from twsim.gateway.caller import AppCaller
from twsim.gateway.carrier import Carrier
from twsim.gateway.cookies import ConversationCookies
from twsim.gateway.egress import EgressPolicy
from twsim.gateway.exchanges import Exchanges
from twsim.gateway.inbound import InboundHandler, InboundOutcome
from twsim.gateway.media import MediaFetcher
from twsim.gateway.webhook_client import WebhookClient
from twsim.model.clock import Clock, SystemClock
from twsim.model.events import EventLog, MessageCreated
from twsim.model.state import Received, State


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
        self.events = EventLog(self.clock, retention=self.config.retention.events)
        self.state = State(self.config, clock=self.clock, prices=self.prices, events=self.events)
        self.background = Background()
        webhook = self.config.webhook
        self.egress = EgressPolicy(webhook.allow_hosts)
        self.client = WebhookClient(self.clock, webhook.max_connections_per_app, egress=self.egress)
        self.caller = AppCaller(
            self.client,
            settings=default_settings(
                webhook.connect_timeout_s, webhook.total_timeout_s, webhook.retries
            ),
            public_base_url=webhook.public_base_url,
            tokens=SidFactory(random.Random(f"{self.config.seed}/tokens")),
        )
        self.cookies = ConversationCookies(self.clock, webhook.cookie_ttl_s)
        self.carrier = Carrier(
            self.state,
            caller=self.caller,
            media=MediaFetcher(self.client, allows=self.egress.allows),
            background=self.background,
            timing=self.config.delivery.timing,
            clock=self.clock,
        )
        self.events.subscribe(self.carrier.on_event, MessageCreated)
        self.exchanges = Exchanges()
        self.inbound = InboundHandler(
            self.state,
            caller=self.caller,
            cookies=self.cookies,
            webhook=webhook,
            exchanges=self.exchanges,
        )
        self.events.subscribe(self.inbound.on_event, MessageCreated)
        # run once nothing is in flight, before `quiet` returns (observers take a last look)
        self.quiet_hooks: list[Callable[[], Awaitable[None]]] = []

    @property
    def busy(self) -> int:
        """Background work still running (webhooks, lifecycles, callbacks)."""
        return self.background.busy

    async def quiet(self, timeout: float | None = None) -> None:
        """Wait until no webhook, lifecycle step or callback is in flight."""
        await self.background.quiet(timeout)
        for hook in self.quiet_hooks:
            await hook()

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
        return received, self.background.spawn(self.inbound.handle(received))

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
        self.exchanges.clear()

    async def close(self) -> None:
        await self.background.close()
        await self.client.close()
