"""What each webhook attempt sent and got back, kept in memory for people to inspect.

The `webhook.attempt` event says where a request went and how it ended; the web page also
shows the signed parameters and the app's answer. Those stay here, not in the event log
(recordings keep no signatures and no answers), for the latest `limit` attempts only, and
each answer is kept up to `MAX_ANSWER_BYTES`.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from twsim.core.signature import Signer
from twsim.gateway.urls import Params, form_encode

DEFAULT_LIMIT = 10_000
MAX_ANSWER_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request to the app: the URL it was signed for, its parameters, the answer."""

    attempt: str
    account: str
    method: str
    url: str  # as dialled
    signed_url: str  # as the app sees it: what X-Twilio-Signature covers
    params: Params
    status: int | None
    content_type: str
    answer: bytes  # at most MAX_ANSWER_BYTES of it
    answer_bytes: int

    def signature(self, signer: Signer) -> str:
        """The X-Twilio-Signature of the first request: a POST signs the URL and its
        parameters, a GET the URL with the parameters in its query."""
        if self.method == "GET":
            query = form_encode(self.params)
            joiner = "&" if "?" in self.signed_url else "?"
            return signer.sign(f"{self.signed_url}{joiner}{query}" if query else self.signed_url)
        return signer.sign(self.signed_url, self.params)


class Exchanges:
    """The latest webhook exchanges by attempt SID; the oldest are forgotten first."""

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self.limit = limit
        self._items: OrderedDict[str, Exchange] = OrderedDict()

    def add(self, exchange: Exchange) -> None:
        items = self._items
        items[exchange.attempt] = exchange
        if len(items) > self.limit:
            items.popitem(last=False)

    def get(self, attempt: str) -> Exchange | None:
        return self._items.get(attempt)

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        self._items.clear()
