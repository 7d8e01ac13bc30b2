"""twsim's gateway serving HTTP in its own process, for the REST API benchmark.

    python -m bench.sim_server [--cpu N] [--app URL]

A `Simulator` with the built-in configuration on 127.0.0.1, a free port, its first number's
texts going to `--app` when given; it prints `listening on URL` once ready.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from bench import serving


async def start(app: str | None) -> tuple[str, Callable[[], Awaitable[None]]]:
    from twsim.config.models import Config
    from twsim.server.simulator import Simulator

    config = Config()
    config.numbers[0].sms_url = app
    sim = await Simulator(config, port=0).start()
    return sim.url, sim.stop


if __name__ == "__main__":
    parser = serving.arguments("twsim's gateway in its own process, for the benchmarks.")
    parser.add_argument("--app", default=None, help="where the first number's texts go")
    args = parser.parse_args()
    serving.main(functools.partial(start, args.app), args)
