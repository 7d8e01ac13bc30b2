"""Opt-out keywords: which bodies are STOP, START or HELP, and Twilio's default answers."""

from __future__ import annotations

from enum import StrEnum

from twsim.core.pricing import NumberType


class Keyword(StrEnum):
    STOP = "STOP"
    START = "START"
    HELP = "HELP"


_WORDS: dict[str, Keyword] = {
    **dict.fromkeys(
        ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"),
        Keyword.STOP,
    ),
    **dict.fromkeys(("START", "YES", "UNSTOP"), Keyword.START),
    **dict.fromkeys(("HELP", "INFO"), Keyword.HELP),
}

# Toll-free opt-in only answers to UNSTOP on the carrier network.
_TOLL_FREE_START = frozenset({"UNSTOP", "START", "YES"})

_LONG_CODE_REPLIES = {
    Keyword.STOP: (
        "You have successfully been unsubscribed. You will not receive any more messages "
        "from this number. Reply START to resubscribe."
    ),
    Keyword.START: (
        "You have successfully been re-subscribed to messages from this number. Reply HELP "
        "for help. Reply STOP to unsubscribe. Msg&Data Rates May Apply."
    ),
    Keyword.HELP: "Reply STOP to unsubscribe. Msg&Data Rates May Apply.",
}
_TOLL_FREE_REPLIES = {
    Keyword.STOP: (
        'NETWORK MSG: You replied with the word "stop" which blocks all texts sent from this '
        'number. Text back "unstop" to receive messages again.'
    ),
    Keyword.START: (
        'NETWORK MSG: You have replied "unstop" and will begin receiving messages again from '
        "this number."
    ),
}


def classify(body: str) -> Keyword | None:
    """The keyword a body is, when the whole body (any case, outer spaces aside) is one."""
    if len(body) > 16:
        return None
    return _WORDS.get(body.strip().upper())


def handles_keywords(number_type: NumberType) -> bool:
    """Twilio filters keywords on long codes and toll-free numbers, not on short codes."""
    return number_type is not NumberType.SHORT_CODE


def auto_reply(keyword: Keyword, number_type: NumberType, *, opted_out: bool) -> str | None:
    """Twilio's default automatic answer to a keyword, or None when it sends none.

    `opted_out` is the sender's state before this keyword.
    """
    if number_type is NumberType.SHORT_CODE:
        return None
    if number_type is NumberType.TOLL_FREE:
        if keyword is Keyword.HELP and opted_out:
            return None
        return _TOLL_FREE_REPLIES.get(keyword, _LONG_CODE_REPLIES.get(keyword))
    return _LONG_CODE_REPLIES[keyword]
