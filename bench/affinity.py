"""Which cores the load generator and the app under test run on.

The benchmark process (the generator: twsim's gateway, or the bare client) takes one core;
every server it starts (the trivial app, a gateway serving HTTP) takes another, so the
two sides never compete for a core. Where pinning is impossible, the placement says why.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Placement:
    generator: int | None
    app: int | None
    note: str

    def to_json(self) -> dict[str, object]:
        return {"generator_core": self.generator, "app_core": self.app, "note": self.note}


def usable_cores() -> list[int]:
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def plan() -> Placement:
    """Generator on the first usable core, servers on the second, when there are two."""
    if not hasattr(os, "sched_setaffinity"):
        return Placement(None, None, "affinity unavailable on this platform: nothing pinned")
    cores = usable_cores()
    if len(cores) < 2:
        return Placement(
            None, None, f"only {len(cores)} usable core: generator and app share it, unpinned"
        )
    return Placement(
        cores[0],
        cores[1],
        f"generator pinned to core {cores[0]}, app/server processes to core {cores[1]} "
        "(os.sched_setaffinity)",
    )


def pin(core: int | None) -> bool:
    """Pin the calling process (its current and future threads) to `core`."""
    if core is None or not hasattr(os, "sched_setaffinity"):
        return False
    try:
        os.sched_setaffinity(0, {core})
    except OSError:
        return False
    return True


def cores_of(pid: int) -> list[int] | None:
    if not hasattr(os, "sched_getaffinity"):
        return None
    try:
        return sorted(os.sched_getaffinity(pid))
    except OSError:
        return None
