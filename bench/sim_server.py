"""twsim's gateway serving HTTP in its own process, for the REST API benchmark.

    python -m bench.sim_server [--cpu N]

A `Simulator` with the built-in configuration on 127.0.0.1, a free port; it prints
`listening on URL` once ready.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bench import serving


async def start() -> tuple[str, Callable[[], Awaitable[None]]]:
    from twsim.server.simulator import Simulator

    sim = await Simulator(port=0).start()
    return sim.url, sim.stop


if __name__ == "__main__":
    serving.main(start, serving.arguments("twsim's gateway for the REST benchmark.").parse_args())
