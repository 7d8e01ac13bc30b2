"""The report's derived tables: per text position, per sender, repeated answers, UCS-2.

Each reads the tallies a `ReportBuilder` has folded (per position, per sender, per
answered body, per character) and returns the JSON-ready rows of one section of the report.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Mapping
from typing import Any

from twsim.analysis.tallies import GroupTally, Ucs2Tally, ratio
from twsim.core.pricing import format_money


def by_position(positions: Mapping[int, GroupTally]) -> list[dict[str, Any]]:
    return [
        {
            "position": position,
            "inbound": t.inbound,
            "outbound": t.outbound,
            "amplification": ratio(t.outbound, t.inbound),
            "cost": format_money(t.cost),
        }
        for position, t in sorted(positions.items())
    ]


def worst_senders(senders: Mapping[str, GroupTally], limit: int = 5) -> list[dict[str, Any]]:
    """The senders whose texts caused the most outbound messages (then the most cost)."""
    worst = heapq.nsmallest(
        limit, senders.items(), key=lambda item: (-item[1].outbound, -item[1].cost, item[0])
    )
    return [
        {
            "sender": sender,
            "inbound": t.inbound,
            "outbound": t.outbound,
            "amplification": ratio(t.outbound, t.inbound),
            "cost": format_money(t.cost),
        }
        for sender, t in worst
    ]


def repeated_answers(
    answered: Mapping[tuple[str, str], int], limit: int = 10
) -> list[dict[str, Any]]:
    """Senders who got answers to the same body more than once."""
    repeated = [(k, v) for k, v in answered.items() if v > 1]
    top = heapq.nsmallest(limit, repeated, key=lambda kv: (-kv[1], kv[0]))
    return [{"sender": s, "body": body, "answered": count} for (s, body), count in top] + (
        [{"more": len(repeated) - limit}] if len(repeated) > limit else []
    )


def ucs2(tally: Ucs2Tally, chars: Counter[str]) -> dict[str, Any]:
    return {
        "messages": tally.messages,
        "chars": [
            {"char": ch, "codepoint": f"U+{ord(ch[0]):04X}", "messages": n}
            for ch, n in chars.most_common(10)
        ],
        "extra_segments": tally.extra_segments,
        "extra_cost": format_money(tally.extra_cost),
    }
