"""Ports for apps told their port: free, below the ephemeral range, never handed out twice."""

from __future__ import annotations

import socket

from twsim.observe.ports import LOWEST, ephemeral_start, free_port


def test_ports_are_free_distinct_and_below_the_ephemeral_range() -> None:
    ports = [free_port() for _ in range(5)]
    assert len(set(ports)) == 5
    for port in ports:
        assert LOWEST <= port < ephemeral_start()
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))  # still free
