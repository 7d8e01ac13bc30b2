"""A gateway soaked with inbound texts at a steady rate, in its own process, measuring its RSS.

    python -m bench.soak_gateway --app URL --checkpoints 50000,200000 --rate 1500 [--cpu N]

The gateway runs as `twsim serve` does (a `Simulator` with the default configuration and
retention, the collector tuned), its number pointed at the trivial app. Texts from a fixed
population of phones are taken in at `--rate` per second, planned on a timeline that does
not wait for answers, with at most `MAX_IN_FLIGHT` texts in flight. At each checkpoint the process waits until nothing
is in flight, collects garbage, and prints one JSON line with its RSS; it exits after the
last one.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import time

import psutil

from bench import affinity, loops

BODY = "HERE 4417"
TICK_S = 0.01
# Texts in flight at most: when the machine cannot keep the rate, the soak slows down
# rather than piling up a backlog whose peak would be measured instead of the retention.
MAX_IN_FLIGHT = 1000


async def soak(app_url: str, checkpoints: list[int], rate: float, phones: int) -> None:
    from twsim.config.models import Config
    from twsim.server.simulator import Simulator

    config = Config()
    config.numbers[0].sms_url = f"{app_url}/sms"
    sim = await Simulator(config, port=0).start()  # the collector is tuned by loops.run
    gateway = sim.gateway
    to = config.numbers[0].phone_number
    senders = [f"+1555{i:07d}" for i in range(phones)]
    process = psutil.Process()
    sent = 0
    started = time.perf_counter()
    longest_behind = 0
    try:
        for checkpoint in checkpoints:
            while sent < checkpoint:
                due = min(checkpoint, int((time.perf_counter() - started) * rate) + 1)
                longest_behind = max(longest_behind, due - sent)
                room = max(0, MAX_IN_FLIGHT - gateway.busy)  # a steady load, not a pile-up
                for _ in range(min(due - sent, room)):
                    gateway.accept(from_=senders[sent % phones], to=to, body=BODY, source="soak")
                    sent += 1
                await asyncio.sleep(TICK_S)
            elapsed = time.perf_counter() - started
            await gateway.quiet(300)
            gc.collect()
            report = sim.report.result()
            print(
                json.dumps(
                    {
                        "texts": sent,
                        "rss_bytes": process.memory_info().rss,
                        "seconds": round(elapsed, 1),
                        "rate_per_s": round(sent / elapsed, 1),
                        "most_behind_plan": longest_behind,
                        "events_kept": len(gateway.events),
                        "messages_kept": len(gateway.state.messages),
                        "report_inbound": report.inbound.count,
                        "report_outbound": report.outbound.count,
                    }
                ),
                flush=True,
            )
    finally:
        await sim.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--app", required=True)
    parser.add_argument("--checkpoints", required=True)
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--phones", type=int, default=5000)
    parser.add_argument("--cpu", type=int, default=None)
    args = parser.parse_args()
    affinity.pin(args.cpu)
    checkpoints = [int(c) for c in args.checkpoints.split(",")]
    loops.run(soak(args.app, checkpoints, args.rate, args.phones))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
