"""Fetching an outbound MMS's media as Twilio does before it sends the message.

Every media URL is fetched (up to 5 MB for all of a message's media together); the
content type of each comes from its answer. A URL that cannot be fetched, answers with
nothing, or makes the total too large fails the message with 63019; one that answers
with an error status, 63045. Only hosts the gateway may dial are fetched (`allows`); the
media of any other host is left as given, its type guessed from the URL.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from twsim.core.limits import MAX_MEDIA_BYTES
from twsim.gateway.webhook_client import WebhookClient
from twsim.model.records import Message

FETCH_TIMEOUT_S = 15.0
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def loopback_only(url: str) -> bool:
    """Whether `url` names this machine (127.0.0.0/8, localhost or ::1)."""
    host = (urlsplit(url).hostname or "").lower()
    return host in LOOPBACK_HOSTS or host.startswith("127.")


class MediaFetcher:
    def __init__(self, client: WebhookClient, *, allows: Callable[[str], bool]) -> None:
        self.client = client
        self.allows = allows

    async def fetch(self, message: Message) -> int | None:
        """Fetch `message`'s media, noting each one's type; the error code that fails the
        message, or None when it may be sent."""
        left = MAX_MEDIA_BYTES
        for media in message.media:
            if not self.allows(media.url):
                continue
            got = await self.client.fetch(media.url, max_bytes=left, timeout_s=FETCH_TIMEOUT_S)
            if got.error is not None:
                return 63019
            assert got.status is not None
            if not 200 <= got.status < 300:
                return 63045
            if got.size == 0 or got.size > left:
                return 63019
            left -= got.size
            if got.content_type:
                media.content_type = got.content_type
        return None
