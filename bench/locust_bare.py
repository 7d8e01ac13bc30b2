"""Locust's FastHttpUser posting the bare webhook form (run only where locust is installed).

    python -m bench.locust_bare --url URL --users C --seconds S --form FILE [--cpu N]

Runs in its own process (locust patches the standard library with gevent on import) and
prints one JSON line: posts per second over the timed window, after a short warm-up.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from urllib.parse import urlsplit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--users", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--form", required=True)
    parser.add_argument("--cpu", type=int, default=None)
    args = parser.parse_args()

    from bench.affinity import pin

    pin(args.cpu)

    import gevent
    from locust import FastHttpUser, constant, task
    from locust.env import Environment

    form = Path(args.form).read_bytes()
    parts = urlsplit(args.url)
    host, path = f"{parts.scheme}://{parts.netloc}", parts.path or "/"

    class BarePost(FastHttpUser):
        wait_time = constant(0)

        @task
        def post(self) -> None:
            self.client.post(
                path, data=form, headers={"Content-Type": "application/x-www-form-urlencoded"}
            )

    BarePost.host = host
    env = Environment(user_classes=[BarePost])
    runner = env.create_local_runner()
    runner.start(args.users, spawn_rate=max(args.users * 20, 1))
    gevent.sleep(args.warmup)
    env.stats.reset_all()
    started = time.perf_counter()
    gevent.sleep(args.seconds)
    requests = env.stats.total.num_requests
    failures = env.stats.total.num_failures
    elapsed = time.perf_counter() - started
    runner.quit()
    print(
        json.dumps(
            {
                "rate": requests / elapsed,
                "requests": requests,
                "failures": failures,
                "seconds": round(elapsed, 3),
                "users": args.users,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
