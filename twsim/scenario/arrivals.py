"""When each student sends their first text: flash crowd, Poisson, ramp or constant rate."""

from __future__ import annotations

import math

from twsim.scenario.draws import Draws
from twsim.scenario.spec import Arrival, ArrivalKind

ARRIVAL = 10


def first_texts(arrival: Arrival, students: int, draws: Draws) -> list[float]:
    """Planned seconds (from the start) of each student's first text, in student order."""
    if arrival.kind is ArrivalKind.FLASH:
        return [draws.uniform(0.0, arrival.within_s, ARRIVAL, i) for i in range(students)]
    if arrival.kind is ArrivalKind.CONSTANT:
        return [i / arrival.rate for i in range(students)]
    if arrival.kind is ArrivalKind.POISSON:
        times, t = [], 0.0
        for i in range(students):
            times.append(t)
            t += -math.log(1.0 - draws.unit(ARRIVAL, i)) / arrival.rate
        return times
    return _ramp(arrival, students, draws)


def _ramp(arrival: Arrival, students: int, draws: Draws) -> list[float]:
    """Poisson arrivals whose rate grows linearly from start_rate to end_rate over duration_s,
    then stays at end_rate (thinning a process at the peak rate)."""
    peak = max(arrival.start_rate, arrival.end_rate)
    slope = (arrival.end_rate - arrival.start_rate) / arrival.duration_s
    times: list[float] = []
    t = 0.0
    step = 0
    while len(times) < students:
        t += -math.log(1.0 - draws.unit(ARRIVAL, 0, step)) / peak
        rate = arrival.start_rate + slope * min(t, arrival.duration_s)
        if draws.unit(ARRIVAL, 1, step) * peak <= rate:
            times.append(t)
        step += 1
    return times
