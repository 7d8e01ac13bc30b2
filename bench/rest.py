"""Figure 4: REST `Messages.json` creates per second, twsim against a canned handler.

One keep-alive aiohttp session with HTTP Basic auth posts `To`, `From` and `Body` forms
at a fixed concurrency, first (or second) to twsim's gateway serving HTTP in its own
process, then to the trivial app's handler that answers a canned 201 JSON body, both on
the app core. The figure is twsim's creates/s divided by the canned handler's.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import aiohttp

from bench import loops
from bench.affinity import Placement
from bench.children import Child
from bench.figures import Figure, Target
from bench.load import Clock, Round, drive
from bench.pipeline import phones
from bench.sizes import Size
from bench.stats import spread

TARGET = 0.6


async def create_round(
    server: Child,
    account_sid: str,
    auth_token: str,
    sender: str,
    count: int,
    concurrency: int,
    warmup: int,
    offset: int,
) -> tuple[Round, dict[str, Any]]:
    url = f"{server.url}/2010-04-01/Accounts/{account_sid}/Messages.json"
    recipients = phones(warmup + count, offset)
    statuses: Counter[int] = Counter()
    connector = aiohttp.TCPConnector(limit=concurrency)
    auth = aiohttp.BasicAuth(account_sid, auth_token)
    async with aiohttp.ClientSession(connector=connector, auth=auth) as session:

        async def one(index: int) -> None:
            form = {
                "To": recipients[index],
                "From": sender,
                "Body": "Your class moved to room 204.",
            }
            async with session.post(url, data=form) as response:
                await response.read()
                statuses[response.status] += 1

        await drive(warmup, concurrency, one)
        clock = Clock(server.cpu_seconds)
        await drive(count, concurrency, one, start=warmup)
        result = clock.round(count)
    return result, {"statuses": {str(k): v for k, v in sorted(statuses.items())}}


def run(size: Size, repeats: int, placement: Placement) -> list[Figure]:
    from twsim.config.models import Config

    config = Config()
    account = config.accounts[0]
    sender = config.numbers[0].phone_number
    ratios, twsim_rates, bare_rates, server_cpu = [], [], [], []
    rounds: list[dict[str, Any]] = []
    warnings: list[str] = []
    offset = 0
    with (
        Child.start("bench.sim_server", core=placement.app) as sim,
        Child.start("bench.app", core=placement.app) as canned,
    ):
        for repeat in range(repeats):
            order = ("canned", "twsim") if repeat % 2 == 0 else ("twsim", "canned")
            results: dict[str, tuple[Round, dict[str, Any]]] = {}
            for side in order:
                server, count = (
                    (sim, size.rest_twsim) if side == "twsim" else (canned, size.rest_bare)
                )
                work = create_round(
                    server,
                    account.sid,
                    account.auth_token,
                    sender,
                    count,
                    size.concurrency,
                    size.warmup,
                    offset,
                )
                offset += count + size.warmup
                results[side] = loops.run(asyncio.wait_for(work, 60 + count / 200))
            (t, t_info), (c, c_info) = results["twsim"], results["canned"]
            for side, info in (("twsim", t_info), ("canned", c_info)):
                if set(info["statuses"]) != {"201"}:
                    warnings.append(f"repeat {repeat + 1}: {side} answered {info['statuses']}")
            ratios.append(t.rate / c.rate)
            twsim_rates.append(t.rate)
            bare_rates.append(c.rate)
            if t.app_cpu_us is not None:
                server_cpu.append(t.app_cpu_us)
            rounds.append(
                {
                    "order": list(order),
                    "twsim": {"per_s": round(t.rate, 1), "server_cpu_us": _r(t.app_cpu_us)}
                    | t_info,
                    "canned": {"per_s": round(c.rate, 1), "server_cpu_us": _r(c.app_cpu_us)}
                    | c_info,
                }
            )
        cores = {"twsim": sim.cores, "canned": canned.cores}
    details: dict[str, Any] = {
        "concurrency": size.concurrency,
        "creates_per_round": {"twsim": size.rest_twsim, "canned": size.rest_bare},
        "twsim_creates_per_s": spread(twsim_rates).to_json(1),
        "canned_creates_per_s": spread(bare_rates).to_json(1),
        "server_cores": cores,
        "rounds": rounds,
    }
    if server_cpu:
        details["twsim_server_cpu_us_per_create"] = spread(server_cpu).to_json(1)
    return [
        Figure(
            "rest_vs_canned",
            "4. REST Messages.json creates/s ÷ canned 201 handler",
            "",
            spread(ratios),
            Target(">=", TARGET),
            details=details,
            warnings=warnings,
        )
    ]


def _r(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None
