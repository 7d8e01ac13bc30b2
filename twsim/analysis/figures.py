"""The report's derived tables: per text position, per sender, repeated answers, UCS-2.

Each reads the per-message tallies a `ReportBuilder` has folded (texts, outbound messages
and what they cost) and returns the JSON-ready rows of one section of the report.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from twsim.analysis.tallies import ZERO, OutboundTally, TextTally, ratio
from twsim.core.pricing import format_money
from twsim.core.segments import Encoding, segment


def by_position(texts: Iterable[TextTally]) -> list[dict[str, Any]]:
    groups: dict[int, list[TextTally]] = defaultdict(list)
    for item in texts:
        groups[item.position].append(item)
    rows = []
    for position in sorted(groups):
        items = groups[position]
        outbound = sum(i.outbound for i in items)
        rows.append(
            {
                "position": position,
                "inbound": len(items),
                "outbound": outbound,
                "amplification": ratio(outbound, len(items)),
                "cost": format_money(sum((i.cost for i in items), ZERO)),
            }
        )
    return rows


def worst_senders(texts: Iterable[TextTally], limit: int = 5) -> list[dict[str, Any]]:
    """The senders whose texts caused the most outbound messages (then the most cost)."""
    per: dict[str, list[TextTally]] = defaultdict(list)
    for item in texts:
        per[item.sender].append(item)
    rows = [
        (sum(i.outbound for i in items), sum((i.cost for i in items), ZERO), sender, items)
        for sender, items in per.items()
    ]
    rows.sort(key=lambda row: (-row[0], -row[1], row[2]))
    return [
        {
            "sender": sender,
            "inbound": len(items),
            "outbound": outbound,
            "amplification": ratio(outbound, len(items)),
            "cost": format_money(cost),
        }
        for outbound, cost, sender, items in rows[:limit]
    ]


def repeated_answers(texts: Iterable[TextTally], limit: int = 10) -> list[dict[str, Any]]:
    """Senders who got answers to the same body more than once."""
    answered: Counter[tuple[str, str]] = Counter()
    for item in texts:
        if item.answered:
            answered[(item.sender, item.body.strip().lower())] += 1
    repeated = [(k, v) for k, v in answered.items() if v > 1]
    repeated.sort(key=lambda kv: (-kv[1], kv[0]))
    return [
        {"sender": s, "body": body, "answered": count} for (s, body), count in repeated[:limit]
    ] + ([{"more": len(repeated) - limit}] if len(repeated) > limit else [])


def ucs2(outbound: Mapping[str, OutboundTally], costs: Mapping[str, Decimal]) -> dict[str, Any]:
    chars: Counter[str] = Counter()
    messages = 0
    extra_segments = 0
    extra_cost = ZERO
    for sid, message in outbound.items():
        if message.encoding != Encoding.UCS2:
            continue
        messages += 1
        for ch in set(message.ucs2_chars):
            chars[ch] += 1
        as_gsm = segment(
            "".join("?" if ch in message.ucs2_chars else ch for ch in message.body)
        ).count
        extra = max(0, message.segments - as_gsm)
        extra_segments += extra
        cost = costs.get(sid, ZERO)
        if extra and message.segments:
            extra_cost += cost * extra / message.segments
    return {
        "messages": messages,
        "chars": [
            {"char": ch, "codepoint": f"U+{ord(ch[0]):04X}", "messages": n}
            for ch, n in chars.most_common(10)
        ],
        "extra_segments": extra_segments,
        "extra_cost": format_money(extra_cost),
    }
