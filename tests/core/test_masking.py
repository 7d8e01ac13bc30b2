"""Secrets are masked the same way in every text twsim writes or prints."""

from __future__ import annotations

import pytest

from twsim.core.masking import (
    is_secret_name,
    mask_bytes,
    mask_headers,
    mask_params,
    mask_text,
    mask_url,
)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("https://user:pa55@app.example/sms", "https://user:***@app.example/sms"),
        ("http://u:p@127.0.0.1:5000/a?b=1", "http://u:***@127.0.0.1:5000/a?b=1"),
        ("https://app.example/sms?AuthToken=abc&x=1", "https://app.example/sms?AuthToken=***&x=1"),
        ("/path?api_key=k1&client_secret=s2&page=3", "/path?api_key=***&client_secret=***&page=3"),
        ("?Signature=zz#frag", "?Signature=***#frag"),
        ("?token=t&PageToken=PA12", "?token=***&PageToken=PA12"),  # paging tokens are no secret
        ('{"url":"http://a:b@h/x?password=p"}', '{"url":"http://a:***@h/x?password=***"}'),
        ("no secrets here: a=b c=d", "no secrets here: a=b c=d"),
        ("https://app.example/sms", "https://app.example/sms"),
        ("mailto:someone@example.com", "mailto:someone@example.com"),
    ],
)
def test_mask_text_and_bytes_agree(text: str, masked: str) -> None:
    assert mask_text(text) == masked
    assert mask_bytes(text.encode()) == masked.encode()
    assert mask_url(text) == masked


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("AuthToken", True),
        ("auth_token", True),
        ("Password", True),
        ("X-Twilio-Signature", True),
        ("ApiKeySecret", True),
        ("access_token", True),
        ("token", True),
        ("PageToken", False),
        ("Body", False),
        ("From", False),
        ("MessagingServiceSid", False),
    ],
)
def test_secret_names(name: str, secret: bool) -> None:
    assert is_secret_name(name) is secret


def test_params_and_headers() -> None:
    assert mask_params({"AuthToken": "t", "To": "+1"}) == {"AuthToken": "***", "To": "+1"}
    headers = {
        "Authorization": "Basic abc",
        "Cookie": "s=1",
        "X-Twsim-Token": "t",
        "X-Twilio-Signature": "sig",
        "Content-Type": "text/xml",
    }
    assert mask_headers(headers) == {
        "Authorization": "***",
        "Cookie": "***",
        "X-Twsim-Token": "***",
        "X-Twilio-Signature": "***",
        "Content-Type": "text/xml",
    }
    assert mask_url(None) is None
