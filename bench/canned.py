"""A target cheaper than any generator: canned HTTP answers from a bare asyncio protocol.

    python -m bench.canned [--cpu C]

It finds each request's end (head, then Content-Length bytes) and writes the same TwiML
answer; no routing, no parsing of the form. Used where the generator, not the app, must
be the bottleneck (the workers figure).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from bench import serving

BODY = b"<Response><Message>Checked in. See you in class!</Message></Response>"
ANSWER = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: "
    + str(len(BODY)).encode()
    + b"\r\n\r\n"
    + BODY
)


class Canned(asyncio.Protocol):
    def __init__(self) -> None:
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data
        answers = 0
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            head = buffer[:end].lower()
            at = head.find(b"content-length:")
            length = (
                int(head[at + 15 : head.find(b"\r\n", at) if head.find(b"\r\n", at) > 0 else None])
                if at >= 0
                else 0
            )
            if len(buffer) < end + 4 + length:
                break
            buffer = buffer[end + 4 + length :]
            answers += 1
        self.buffer = buffer
        if answers and self.transport is not None:
            self.transport.write(ANSWER * answers)


async def start() -> tuple[str, Callable[[], Awaitable[None]]]:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Canned, "127.0.0.1", 0, backlog=4096)
    port = server.sockets[0].getsockname()[1]

    async def stop() -> None:
        server.close()

    return f"http://127.0.0.1:{port}", stop


if __name__ == "__main__":
    serving.main(start, serving.arguments("A canned-answer target.").parse_args())
