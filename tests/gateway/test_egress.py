"""The egress policy: twsim dials loopback only, unless `webhook.allow_hosts` allows more.

Targets outside the policy are IP literals from a documentation range (203.0.113.0/24,
RFC 5737) and the cloud metadata address. Names are looked up through a stand-in resolver
(the machine's DNS is not the subject here), so a name can be made to point outside, or
to both outside and loopback, without any network. tests/e2e/test_dial_policy.py runs the
policy inside the gateway.
"""

from __future__ import annotations

import socket

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from twsim.gateway.egress import EgressPolicy

OUTSIDE = "203.0.113.5"
METADATA = "169.254.169.254"


class NamesResolver(AbstractResolver):
    """Answers names from a table, as a DNS server would; unknown names fail."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.asked: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.asked.append(host)
        addresses = self.table.get(host.rstrip("."))
        if addresses is None:
            raise OSError(f"no such name {host}")
        return [
            {
                "hostname": host,
                "host": a,
                "port": port,
                "family": socket.AF_INET6 if ":" in a else socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
            for a in addresses
        ]

    async def close(self) -> None:
        pass


# -- the rule, URL by URL -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "allow", "code"),
    [
        ("http://127.0.0.1:5000/sms", [], None),
        ("http://127.9.9.9/sms", [], None),
        ("http://[::1]:5000/sms", [], None),
        ("https://localhost/sms", [], None),
        ("http://app.example/sms", [], None),  # a name: judged by what it resolves to
        (f"http://{OUTSIDE}/sms", [], 11205),
        (f"http://{METADATA}/latest/meta-data/", [], 11205),
        ("http://0.0.0.0:5000/sms", [], 11205),
        ("http://[::ffff:203.0.113.5]/sms", [], 11205),
        ("http://10.1.2.3/sms", [], 11205),
        (f"http://{OUTSIDE}/sms", ["203.0.113.0/24"], None),
        (f"http://{OUTSIDE}/sms", [OUTSIDE], None),
        (f"http://{OUTSIDE}/sms", ["*"], None),
        ("http://10.1.2.3/sms", ["203.0.113.0/24"], 11205),
        ("ftp://127.0.0.1/sms", [], 11100),
        ("file:///etc/passwd", [], 11100),
        ("gopher://127.0.0.1:70/", ["*"], 11100),
        ("javascript:alert(1)", [], 11100),
        ("http:///no-host", [], 11100),
    ],
)
def test_refusal(url: str, allow: list[str], code: int | None) -> None:
    refusal = EgressPolicy(allow).refusal(url)
    assert (refusal.code if refusal else None) == code
    if refusal is not None and code == 11205:
        assert "webhook.allow_hosts" in refusal.reason


@pytest.mark.parametrize(
    ("name", "addresses", "allow", "admitted"),
    [
        ("app.test", ["127.0.0.1"], [], ["127.0.0.1"]),
        ("app.test", ["::1"], [], ["::1"]),
        ("evil.test", [OUTSIDE], [], None),
        ("rebind.test", [OUTSIDE, "127.0.0.1"], [], ["127.0.0.1"]),
        ("evil.test", [OUTSIDE], ["evil.test"], [OUTSIDE]),
        ("api.evil.test", [OUTSIDE], ["*.evil.test"], [OUTSIDE]),
        ("evil.test", [OUTSIDE], ["*.evil.test"], None),  # *.domain: names under it only
        ("evil.test", [OUTSIDE, "10.0.0.1"], ["203.0.113.0/24"], [OUTSIDE]),
    ],
)
async def test_names_are_judged_by_the_addresses_they_resolve_to(
    name: str, addresses: list[str], allow: list[str], admitted: list[str] | None
) -> None:
    resolver = EgressPolicy(allow, resolver=lambda: NamesResolver({name: addresses})).resolver()
    try:
        results = await resolver.resolve(name, 80, socket.AF_UNSPEC)
    except OSError as exc:
        assert admitted is None
        assert "webhook.allow_hosts" in str(exc)
        assert OUTSIDE in str(exc)
    else:
        assert [r["host"] for r in results] == admitted


async def test_check_resolves_names_before_handing_them_out() -> None:
    names = {"media.test": ["127.0.0.1"], "cdn.test": [METADATA]}
    policy = EgressPolicy(resolver=lambda: NamesResolver(names))
    assert await policy.check("http://media.test/a.png") is None
    refused = await policy.check("http://cdn.test/a.png")
    assert refused is not None and refused.code == 11205 and METADATA in refused.reason
    unknown = await policy.check("http://nowhere.test/a.png")
    assert unknown is not None and unknown.code == 11210
