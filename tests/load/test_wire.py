"""The load path's HTTP/1.1 connection against raw servers on loopback that answer in
every way HTTP allows (and some it does not): whole answers or Twilio's failure codes."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from twsim.config.shipped import load_prices
from twsim.load.generator import Load
from twsim.load.result import LoadResult
from twsim.load.spec import LoadSpec

TWIML = b"<Response><Message>Checked in.</Message></Response>"
Answerer = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
Raw = Callable[[Answerer], Awaitable[str]]


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """One whole request (head and Content-Length body); b"" at the end of the stream."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return b""
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return head + await reader.readexactly(length)


@pytest.fixture
async def raw() -> AsyncIterator[Raw]:
    servers: list[asyncio.Server] = []

    async def start(answer: Answerer) -> str:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                await answer(reader, writer)
            finally:
                writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        servers.append(server)
        return f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/sms"

    yield start
    for server in servers:
        server.close()


def keep_alive(*parts: bytes) -> Answerer:
    """Answer every request on the connection with the same bytes."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await read_request(reader):
            for part in parts:
                writer.write(part)
                await writer.drain()

    return answer


async def load(url: str, n: int = 6, concurrency: int = 2) -> LoadResult:
    spec = LoadSpec(url=url, requests=n, concurrency=concurrency, timeout_s=10)
    return await Load(spec, load_prices("us")).run()


def xml(body: bytes, *headers: bytes) -> bytes:
    extra = b"".join(h + b"\r\n" for h in headers)
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=utf-8\r\n"
        + extra
        + b"Content-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )


async def test_keep_alive_answers_are_read_whole_and_connections_reused(raw: Raw) -> None:
    result = await load(await raw(keep_alive(xml(TWIML))), n=20, concurrency=2)
    assert (result.successes, result.replies, result.connections) == (20, 20, 2)


async def test_an_answer_in_pieces_is_read_whole(raw: Raw) -> None:
    whole = xml(TWIML)
    result = await load(await raw(keep_alive(whole[:30], whole[30:70], whole[70:])))
    assert (result.successes, result.replies) == (6, 6)


async def test_chunked_answers_are_reassembled(raw: Raw) -> None:
    half = len(TWIML) // 2
    chunked = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n"
        + f"{half:x}\r\n".encode()
        + TWIML[:half]
        + b"\r\n"
        + f"{len(TWIML) - half:x}\r\n".encode()
        + TWIML[half:]
        + b"\r\n0\r\n\r\n"
    )
    result = await load(await raw(keep_alive(chunked)))
    assert (result.successes, result.replies) == (6, 6)


async def test_gzip_answers_are_decompressed(raw: Raw) -> None:
    result = await load(await raw(keep_alive(xml(gzip.compress(TWIML), b"Content-Encoding: gzip"))))
    assert (result.successes, result.replies) == (6, 6)


async def test_connection_close_answers_open_a_new_connection_each_time(raw: Raw) -> None:
    result = await load(await raw(keep_alive(xml(TWIML, b"Connection: close"))), n=5)
    assert (result.successes, result.replies, result.connections) == (5, 5, 5)


async def test_an_answer_ended_by_closing_the_connection_is_whole(raw: Raw) -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n\r\n" + TWIML)
        await writer.drain()

    result = await load(await raw(answer), n=4)
    assert (result.successes, result.replies) == (4, 4)


async def test_an_answer_cut_mid_body_is_a_protocol_failure_11206(raw: Raw) -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(xml(TWIML)[:-10])
        await writer.drain()

    result = await load(await raw(answer), n=4)
    assert result.successes == 0
    assert dict(result.failures) == {
        (11206, "the connection closed before the answer was complete"): 4
    }


async def test_garbage_instead_of_http_is_a_protocol_failure_11206(raw: Raw) -> None:
    result = await load(await raw(keep_alive(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")), n=3, concurrency=1)
    assert result.successes == 0
    assert {code for code, _ in result.failures} == {11206}
    assert all("not a valid HTTP answer" in reason for _, reason in result.failures)


async def test_an_oversized_twiml_answer_is_12100(raw: Raw) -> None:
    big = b"<Response><Message>" + b"x" * (70 * 1024) + b"</Message></Response>"
    result = await load(await raw(keep_alive(xml(big))), n=2, concurrency=1)
    assert result.successes == 0
    ((code, reason),) = result.failures
    assert code == 12100 and "byte limit" in reason
