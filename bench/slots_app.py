"""An app of known capacity: N slots, each serving one request in exactly S seconds.

    python -m bench.slots_app --slots N --service-ms S [--cpu C]

Requests take the slot that frees first, in arrival order (a FIFO queue in front of N
servers); each is answered when its slot's service ends, timed against absolute deadlines
so the capacity is exactly N / S whatever the timer jitter. Its latencies can therefore be
computed from the arrival times alone (`expected_latencies`), which is what `load --rate`
must report when it times every webhook from its planned start.
"""

from __future__ import annotations

import asyncio
import heapq
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from bench import serving


def expected_latencies(starts: list[float], slots: int, service_s: float) -> list[float]:
    """Latency of each request arriving at `starts` (sorted) at N slots of service S."""
    free = [0.0] * slots
    out = []
    for arrival in starts:
        earliest = heapq.heappop(free)
        finish = max(arrival, earliest) + service_s
        heapq.heappush(free, finish)
        out.append(finish - arrival)
    return out


def make_app(slots: int, service_s: float) -> web.Application:
    free = [0.0] * slots

    async def sms(request: web.Request) -> web.Response:
        await request.read()
        now = time.monotonic()
        earliest = heapq.heappop(free)
        finish = max(now, earliest) + service_s
        heapq.heappush(free, finish)
        await asyncio.sleep(finish - time.monotonic())
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/sms", sms)
    return app


def main() -> None:
    parser = serving.arguments("An app of known capacity for the load --rate benchmark.")
    parser.add_argument("--slots", type=int, required=True)
    parser.add_argument("--service-ms", type=float, required=True)
    args = parser.parse_args()

    async def start() -> tuple[str, Callable[[], Awaitable[None]]]:
        runner = web.AppRunner(
            make_app(args.slots, args.service_ms / 1000), access_log=None, handle_signals=False
        )
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=4096)
        await site.start()
        return f"http://127.0.0.1:{runner.addresses[0][1]}", runner.cleanup

    serving.main(start, args)


if __name__ == "__main__":
    main()
