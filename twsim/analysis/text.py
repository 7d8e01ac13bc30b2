"""The report for a terminal: a few plain tables, readable in a CI log too."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from twsim.analysis.report import Report
from twsim.analysis.side_effects import COLUMNS, SideEffects
from twsim.core.errors import meaning


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _table(rows: list[list[str]], header: list[str]) -> list[str]:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  "
        + "  ".join(
            h.ljust(w) if i == 0 else h.rjust(w)
            for i, (h, w) in enumerate(zip(header, widths, strict=True))
        )
    ]
    for row in rows:
        lines.append(
            "  "
            + "  ".join(
                str(c).ljust(w) if i == 0 else str(c).rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    return lines


def _attribution_line(r: dict[str, Any]) -> str:
    """How each outbound message was tied to a text, and what no text caused."""
    counts = ", ".join(f"{how} {n}" for how, n in r["attribution"].items() if n)
    line = f"attributed: {counts or 'nothing sent'}"
    unattributed = r["unattributed"]
    if unattributed["count"]:
        line += (
            f"\nunattributed: {unattributed['count']} message(s) no text caused "
            f"({unattributed['segments']} segments, {unattributed['cost']}), "
            "in the totals above but not per text"
        )
    return line


def render(report: Report, title: str = "twsim report") -> str:
    """The whole report for a terminal: a title, then each section that has something."""
    r = report.to_json()
    cur = "$" if r["currency"] == "USD" else r["currency"] + " "
    out = [title, "=" * len(title)]
    for section in SECTIONS:
        out += section(report, r, cur)
    return "\n".join(out)


Section = Callable[[Report, dict[str, Any], str], list[str]]


def _stored_only(report: Report, r: dict[str, Any], cur: str) -> list[str]:
    if r["inbound"]["count"] and not r["webhook"]["requests"]:
        return [
            "NOTE: no webhook was sent: these texts were stored, not delivered to any app, "
            "so the figures below say nothing about an app"
        ]
    return []


def _totals(report: Report, r: dict[str, Any], cur: str) -> list[str]:
    def row(name: str, t: dict[str, Any]) -> list[str]:
        return [name, str(t["count"]), str(t["segments"]), cur + t["cost"]]

    by_origin = r["outbound"]["by_origin"]
    out = _table(
        [
            row("inbound", r["inbound"]),
            row("outbound", r["outbound"]),
            row("  TwiML replies", by_origin["reply"]),
            row("  REST API", by_origin["api"]),
            ["total", "", "", cur + r["total_cost"]],
        ],
        ["", "messages", "segments", "cost"],
    )
    if Decimal(r["carrier_fees"]):
        out.append(
            f"  (costs include {cur}{r['carrier_fees']} of carrier fees; a message's Twilio "
            "`price` leaves them out)"
        )
    return out


def _amplification(report: Report, r: dict[str, Any], cur: str) -> list[str]:
    amp = r["amplification"]
    out = [
        "",
        f"amplification: {amp['messages']:.2f} outbound messages, {amp['segments']:.2f} segments and "
        f"{cur}{amp['cost']:.4f} per inbound text ({amp['replies']:.2f} replies + {amp['api']:.2f} REST sends)",
        _attribution_line(r),
    ]
    if r["outbound"]["by_status"]:
        statuses = ", ".join(f"{k} {v}" for k, v in r["outbound"]["by_status"].items())
        out.append(f"outbound by status: {statuses}")
    return out


def _by_position(report: Report, r: dict[str, Any], cur: str) -> list[str]:
    if not r["by_position"]:
        return []
    rows = [
        [
            str(p["position"]),
            str(p["inbound"]),
            str(p["outbound"]),
            f"{p['amplification']:.2f}",
            cur + p["cost"],
            *_effect_cells(p),
        ]
        for p in r["by_position"][:8]
    ]
    heads = ["position", "inbound", "outbound", "per text", "cost", *_effect_heads(report)]
    return ["", "by burst position (1 = first text, 2 = first re-text, ...):", *_table(rows, heads)]


def _worst_senders(report: Report, r: dict[str, Any], cur: str) -> list[str]:
    if not r["worst_senders"]:
        return []
    rows = [
        [
            s["sender"],
            str(s["inbound"]),
            str(s["outbound"]),
            f"{s['amplification']:.2f}",
            cur + s["cost"],
            *_effect_cells(s),
        ]
        for s in r["worst_senders"]
    ]
    heads = ["sender", "texts", "caused", "per text", "cost", *_effect_heads(report)]
    return ["", f"worst senders (of {r['senders']}):", *_table(rows, heads)]


def _side_effects(report: Report, r: dict[str, Any], cur: str) -> list[str]:
    side = report.side_effects
    if side is None or not side.observed:
        return []
    return ["", *side_effect_lines(side)]


def _repeated(report: Report, r: dict[str, Any], cur: str) -> list[str]:
    repeated = [x for x in r["repeated_answers"] if "sender" in x]
    if not repeated:
        return []
    more = sum(x.get("more", 0) for x in r["repeated_answers"])
    out = ["", f"answered more than once for the same text: {len(repeated) + more} sender(s), e.g."]
    for item in repeated[:3]:
        out.append(f"  {item['sender']} {item['body']!r} answered {item['answered']} times")
    return out


def _webhooks(report: Report, r: dict[str, Any], cur: str) -> list[str]:
    webhook = r["webhook"]
    lat = webhook["latency_ms"]
    out = [
        "",
        f"webhooks: {webhook['requests']} requests, {webhook['failures']} failed; latency ms "
        f"p50 {_ms(lat['p50'])}  p90 {_ms(lat['p90'])}  p99 {_ms(lat['p99'])}  max {_ms(lat['max'])}",
    ]
    queued = webhook.get("queued", {})
    if queued.get("webhooks"):
        out.append(
            f"  {queued['webhooks']} waited for a free connection to their app first "
            f"(included above): p99 {_ms(queued['p99'])}  max {_ms(queued['max'])} ms"
        )
    if r["callbacks"]["requests"]:
        out.append(
            f"status callbacks: {r['callbacks']['requests']} requests, {r['callbacks']['failures']} failed"
        )
    late = r["lateness_ms"]
    if late["sends"]:
        out.append(
            f"schedule: {late['sends']} sends, lateness ms p50 {_ms(late['p50'])}  p99 {_ms(late['p99'])}  max {_ms(late['max'])}"
        )
    return out


def _errors(report: Report, r: dict[str, Any], cur: str) -> list[str]:
    if not r["errors"]:
        return ["errors by Twilio code: none"]
    named = ", ".join(f"{code} {meaning(int(code))} x{n}" for code, n in r["errors"].items())
    return [f"errors by Twilio code: {named}"]


def _ucs2(report: Report, r: dict[str, Any], cur: str) -> list[str]:
    ucs2 = r["ucs2"]
    if not ucs2["messages"]:
        return []
    chars = ", ".join(f"{c['char']!r} {c['codepoint']} in {c['messages']}" for c in ucs2["chars"])
    return [
        f"UCS-2: {ucs2['messages']} outbound message(s) forced to UCS-2 by {chars}; "
        f"{ucs2['extra_segments']} extra segment(s), {cur}{ucs2['extra_cost']}"
    ]


def _rejected(report: Report, r: dict[str, Any], cur: str) -> list[str]:
    out = []
    if r["rejected"]["inbound"] or r["rejected"]["outbound"]:
        out.append(
            f"rejected: {r['rejected']['inbound']} inbound, {r['rejected']['outbound']} outbound"
        )
    if r["auto_replies"]:
        out.append(f"opt-out auto-replies: {r['auto_replies']}")
    return out


SECTIONS: tuple[Section, ...] = (
    _stored_only,
    _totals,
    _amplification,
    _by_position,
    _worst_senders,
    _side_effects,
    _repeated,
    _webhooks,
    _errors,
    _ucs2,
    _rejected,
)


def _effect_heads(report: Report) -> list[str]:
    """Side-effect column headings (per text), when the run observed any."""
    side = report.side_effects
    return [f"{head}/text" for _, head in COLUMNS] if side and side.observed else []


def _effect_cells(row: dict[str, Any]) -> list[str]:
    return [f"{row[key]:.2f}" for key, _ in COLUMNS if key in row]


def side_effect_lines(side: SideEffects) -> list[str]:
    """The report's "side effects" block: per text, in total, and what no text was given."""
    t, u, n = side.total, side.unattributed, side.texts
    per = side.per_text

    def each(value: float) -> str:
        return f"{value / n:.2f}" if n else "-"

    rows = [
        ["emails", f"{per['emails']:.2f}", str(t.emails), str(u.emails)],
        ["log lines", f"{per['log_lines']:.2f}", str(t.log_lines), str(u.log_lines)],
        *(
            [
                [
                    f"  errors /{side.watched['log_level_regex']}/",
                    each(t.log_errors),
                    str(t.log_errors),
                    "",
                ]
            ]
            if side.watched.get("log_level_regex")
            else []
        ),
        ["db rows", f"{per['db_rows']:.2f}", str(t.db_rows), str(u.db_rows)],
        *[[f"  {name}", each(rows), str(rows), ""] for name, rows in side.rows_by_table.items()],
        ["app CPU ms", f"{per['app_cpu_ms']:.1f}", f"{t.app_cpu_ms:.1f}", f"{u.app_cpu_ms:.1f}"],
        ["app RSS peak MB", f"+{per['app_rss_peak_mb']:.3f}", f"{side.rss_peak:.1f}", ""],
    ]
    out = ["side effects (per inbound text, in total, and not attributed to any text):"]
    out += _table(rows, ["", "per text", "total", "unattributed"])
    missing = [
        name
        for name, key in (("email", "smtp"), ("logs", "logs"), ("databases", "databases"))
        if not side.watched.get(key)
    ] + ([] if side.watched.get("pids") else ["the app's process"])
    if missing:
        out.append(f"  (not watched: {', '.join(missing)})")
    if side.subjects:
        to = ", ".join(f"{who} ({count})" for who, count in list(side.recipients.items())[:3])
        out.append(f"inbox: {t.emails} email(s) to {to}")
        out += [f"  {count:>4} x {subject!r}" for subject, count in side.subjects]
    out += [f"observer warning: {warning}" for warning in side.warnings[:5]]
    return out


def _side_figures(side: SideEffects | None) -> dict[str, Any]:
    """Side-effect rows of the side by side ("-" for a run that observed nothing)."""
    figures: dict[str, Any] = {
        "emails": "-",
        "  per text": "-",
        "log lines": "-",
        "  per text ": "-",
        "db rows": "-",
        "  per text  ": "-",
        "app CPU ms per text": "-",
        "app RSS peak MB": "-",
    }
    if side is not None and side.observed:
        per, t = side.per_text, side.total
        values = [
            t.emails,
            f"{per['emails']:.2f}",
            t.log_lines,
            f"{per['log_lines']:.2f}",
            t.db_rows,
            f"{per['db_rows']:.2f}",
            f"{per['app_cpu_ms']:.1f}",
            f"{side.rss_peak:.1f}",
        ]
        figures = dict(zip(figures, values, strict=True))
    return figures  # the "per text" keys differ by trailing spaces, hidden by the padding


def side_by_side(left: Report, right: Report, names: tuple[str, str]) -> str:
    """Two reports' headline figures next to each other."""

    def figures(report: Report) -> dict[str, Any]:
        r = report.to_json()
        return {
            "inbound texts": r["inbound"]["count"],
            "outbound messages": r["outbound"]["count"],
            "  TwiML replies": r["outbound"]["by_origin"]["reply"]["count"],
            "  REST sends": r["outbound"]["by_origin"]["api"]["count"],
            "outbound segments": r["outbound"]["segments"],
            "amplification (msgs/text)": f"{r['amplification']['messages']:.2f}",
            "cost per inbound text": f"{r['amplification']['cost']:.4f}",
            "total cost": r["total_cost"],
            "senders answered twice+": len([x for x in r["repeated_answers"] if "sender" in x])
            + sum(x.get("more", 0) for x in r["repeated_answers"]),
            "webhook p99 ms": _ms(r["webhook"]["latency_ms"]["p99"]),
            "errors": sum(r["errors"].values()),
            **(_side_figures(report.side_effects) if observed else {}),
        }

    observed = any(r.side_effects is not None and r.side_effects.observed for r in (left, right))
    a, b = figures(left), figures(right)
    return "\n".join(_table([[k, str(a[k]), str(b[k])] for k in a], ["", names[0], names[1]]))
