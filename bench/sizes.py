"""How big each benchmark runs: `full` (the issue's sizes, for `make bench`) or `tiny`."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Size:
    name: str
    concurrency: int  # in-flight requests, the same for twsim and its bare counterpart
    warmup: int  # untimed operations before each timed round
    pipeline_inbound: int  # inbound texts per timed gateway round
    pipeline_bare: int  # bare posts per timed round
    profile_inbound: int  # inbound texts in the profiled round
    locust_seconds: float
    burst_students: int
    burst_retexts: int
    burst_rate: float  # planned texts per second
    rest_twsim: int  # Messages.json creates per twsim round
    rest_bare: int  # creates per canned-handler round
    phones: int
    messages: int
    recording_events: int
    load_requests: int  # webhooks per timed `twsim load` / `ab` round
    load_wrk_seconds: float  # wrk runs for a time, not a count
    honesty_slots: int  # the known-capacity app: N slots ...
    honesty_service_ms: float  # ... of a fixed service time
    honesty_rate: float  # planned above capacity (N / S)
    honesty_seconds: float  # how long the plan runs
    workers_requests: int  # webhooks per round of the workers figure
    soak_texts: tuple[int, int]  # RSS read after this many texts, then this many
    soak_rate: float  # texts per second taken in during the soak

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


FULL = Size(
    name="full",
    concurrency=32,
    warmup=300,
    pipeline_inbound=10_000,
    pipeline_bare=20_000,
    profile_inbound=5_000,
    locust_seconds=5.0,
    burst_students=2_500,
    burst_retexts=3,
    burst_rate=4_000.0,
    rest_twsim=10_000,
    rest_bare=20_000,
    phones=100_000,
    messages=100_000,
    recording_events=100_000,
    load_requests=30_000,
    load_wrk_seconds=4.0,
    honesty_slots=4,
    honesty_service_ms=10.0,
    honesty_rate=600.0,
    honesty_seconds=2.0,
    workers_requests=60_000,
    soak_texts=(50_000, 200_000),
    soak_rate=1_500.0,
)

TINY = Size(
    name="tiny",
    concurrency=8,
    warmup=20,
    pipeline_inbound=200,
    pipeline_bare=400,
    profile_inbound=150,
    locust_seconds=1.0,
    burst_students=25,
    burst_retexts=3,
    burst_rate=4_000.0,
    rest_twsim=200,
    rest_bare=400,
    phones=2_000,
    messages=2_000,
    recording_events=3_000,
    load_requests=500,
    load_wrk_seconds=0.5,
    honesty_slots=2,
    honesty_service_ms=10.0,
    honesty_rate=300.0,
    honesty_seconds=0.5,
    workers_requests=600,
    soak_texts=(500, 2_000),
    soak_rate=2_000.0,
)

SIZES = {s.name: s for s in (FULL, TINY)}
