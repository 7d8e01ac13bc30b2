"""The load mode reads answers as the gateway does, Twilio's limits included."""

from __future__ import annotations

from twsim.load.answers import read

XML = "text/xml"


def document(messages: int) -> bytes:
    return ("<Response>" + "<Message>hi</Message>" * messages + "</Response>").encode()


def test_ten_replies_at_most_the_rest_is_warning_14109() -> None:
    verdict = read(200, XML, document(12))
    assert len(verdict.replies) == 10
    assert [w.code for w in verdict.warnings] == [14109]
    assert "2 <Message>" in verdict.warnings[0].reason


def test_ten_replies_are_all_sent() -> None:
    verdict = read(200, XML, document(10))
    assert len(verdict.replies) == 10 and verdict.warnings == ()
