"""The gateway's parts wired by hand around one state, as `Gateway` wires them, so each
can be tested on its own (on a manual clock, against a real loopback app)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from twsim.config.models import Config
from twsim.config.shipped import load_prices
from twsim.core.connection import default_settings
from twsim.core.ids import SidFactory
from twsim.gateway.background import Background
from twsim.gateway.caller import AppCaller
from twsim.gateway.carrier import Carrier
from twsim.gateway.cookies import ConversationCookies
from twsim.gateway.inbound import InboundHandler
from twsim.gateway.media import MediaFetcher, loopback_only
from twsim.gateway.webhook_client import WebhookClient
from twsim.model.clock import Clock
from twsim.model.events import EventLog
from twsim.model.state import State


@dataclass
class Parts:
    state: State
    client: WebhookClient
    caller: AppCaller
    background: Background
    carrier: Carrier
    inbound: InboundHandler

    async def close(self) -> None:
        await self.background.close()
        await self.client.close()


def wire(config: Config, clock: Clock) -> Parts:
    events = EventLog(clock)
    state = State(config, clock=clock, prices=load_prices("us"), events=events)
    client = WebhookClient(clock, config.webhook.max_connections_per_app)
    caller = AppCaller(
        client,
        settings=default_settings(
            config.webhook.connect_timeout_s, config.webhook.total_timeout_s, config.webhook.retries
        ),
        public_base_url=None,
        tokens=SidFactory(random.Random("tokens")),
    )
    background = Background()
    carrier = Carrier(
        state,
        caller=caller,
        media=MediaFetcher(client, allows=loopback_only),
        background=background,
        timing=config.delivery.timing,
        clock=clock,
    )
    events.subscribe(carrier.on_event)
    inbound = InboundHandler(
        state, caller=caller, cookies=ConversationCookies(clock), webhook=config.webhook
    )
    events.subscribe(inbound.on_event)
    return Parts(state, client, caller, background, carrier, inbound)
