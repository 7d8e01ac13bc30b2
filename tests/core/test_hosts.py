"""Host names, loopback addresses and host patterns."""

from __future__ import annotations

import pytest

from twsim.core.hosts import HostPatterns, host_of, is_loopback


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.255.0.9", True),
        ("::1", True),
        ("[::1]", True),
        ("::ffff:127.0.0.1", True),
        ("localhost", True),
        ("LocalHost.", True),
        ("0.0.0.0", False),
        ("10.0.0.1", False),
        ("169.254.169.254", False),
        ("localhost.evil.example", False),
        ("example.com", False),
    ],
)
def test_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(
    ("value", "host"),
    [
        ("127.0.0.1:8910", "127.0.0.1"),
        ("[::1]:8910", "::1"),
        ("LOCALHOST", "localhost"),
        ("http://evil.example:8910/page", "evil.example"),
        ("https://user:pw@a.example/", "a.example"),
        ("", None),
        ("[::1", None),
    ],
)
def test_host_of(value: str, host: str | None) -> None:
    assert host_of(value) == host


@pytest.mark.parametrize(
    ("patterns", "host", "matches"),
    [
        (["app.example"], "APP.example.", True),
        (["app.example"], "x.app.example", False),
        (["*.app.example"], "x.app.example", True),
        (["*.app.example"], "app.example", False),
        (["*"], "anything.at.all", True),
        (["10.0.0.0/8"], "10.2.3.4", True),
        (["10.0.0.0/8"], "11.2.3.4", False),
        (["fd00::/8"], "[fd12::1]", True),
        (["192.168.1.20"], "192.168.1.20", True),
        ([], "127.0.0.1", False),
    ],
)
def test_patterns(patterns: list[str], host: str, matches: bool) -> None:
    assert HostPatterns.parse(patterns).matches_name(host) is matches


@pytest.mark.parametrize("bad", ["a b", "*.", "10.0.0.0/99", "http://x", "*x.example", ""])
def test_bad_patterns_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match=r"pattern|network"):
        HostPatterns.parse([bad])
