"""What a load run is asked to do: the endpoint, how many webhooks, how they are paced."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from twsim.config.models import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, DEFAULT_NUMBER


@dataclass(slots=True)
class LoadSpec:
    """A load run. With `rate`, webhooks start on an open schedule (R per second, each one's
    latency and timeout counted from its planned start); without it, `concurrency`
    connections each send their next webhook when the last one is answered (a closed
    model, like ab: a slow app slows the load)."""

    url: str
    requests: int = 1000
    concurrency: int = 10
    rate: float | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)
    account_sid: str = DEFAULT_ACCOUNT_SID
    auth_token: str = DEFAULT_AUTH_TOKEN
    to: str = DEFAULT_NUMBER
    method: str = "POST"
    timeout_s: float = 15.0
    seed: int = 0
    # open model only: connections open at once, at most (None: as many as file descriptors
    # allow); a webhook due while all are busy waits, and that wait is counted as queueing
    max_connections: int | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.timeout_s) and self.timeout_s > 0):
            raise ValueError(f"the timeout must be above 0 seconds, not {self.timeout_s!r}")
        if self.requests < 0 or self.concurrency < 1:
            raise ValueError("requests must be 0 or more, and concurrency at least 1")
        if self.rate is not None and not (math.isfinite(self.rate) and self.rate > 0):
            raise ValueError(f"the rate must be above 0 per second, not {self.rate!r}")
        if self.max_connections is not None and self.max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self.method = self.method.upper()
        if self.method not in ("POST", "GET"):
            raise ValueError(f"the webhook method is POST or GET, not {self.method!r}")
