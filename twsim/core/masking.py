"""Secrets masked, the same way wherever twsim writes or prints: recordings, events, logs,
the `serve` banner and reports.

A secret is the password in a URL's user info (`https://user:password@host/...`, which
Twilio turns into HTTP basic auth), the value of a query or form parameter whose name
says it is one (`AuthToken`, `Password`, `client_secret`, `X-Twilio-Signature`...), and
the value of a credential header (`Authorization`, `Cookie`, `X-Twsim-Token`...). Each is
replaced by `***`; everything else is kept as written.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

MASK = "***"

# Parameter names (lower case, without "-" and "_") that are secrets wherever they appear
# in the name. "token" alone would also catch Twilio's PageToken, which is not a secret.
_SECRET_WORDS = (
    "password",
    "passwd",
    "secret",
    "signature",
    "authtoken",
    "accesstoken",
    "refreshtoken",
    "idtoken",
    "apikey",
    "controltoken",
    "credential",
    "privatekey",
)
_SECRET_NAMES = frozenset({"token", "auth", "authorization", "key", "pass", "pwd", "sig"})
_SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxyauthorization",
        "cookie",
        "setcookie",
        "xtwiliosignature",
        "xtwsimtoken",
    }
)

# `scheme://user:password@` anywhere in a text
_USERINFO = r"(?P<lead>\b[A-Za-z][A-Za-z0-9+.\-]*://[^/\s:@\"'<>\\]*):[^/\s@\"'<>\\]*@"
# `?name=value` or `&name=value` anywhere in a text (a URL's query, a logged query string)
_PARAM = r"(?P<sep>[?&;])(?P<name>[A-Za-z0-9_.\-\[\]]+)=(?P<value>[^&#\s\"'<>\\;]*)"
_TEXT = re.compile(f"{_USERINFO}|{_PARAM}")
_BYTES = re.compile(f"{_USERINFO}|{_PARAM}".encode())

T = TypeVar("T")


@functools.lru_cache(maxsize=1024)  # asked for every parameter of every API request
def is_secret_name(name: str) -> bool:
    """True when a parameter or header named `name` carries a secret."""
    folded = name.lower().replace("-", "").replace("_", "")
    return folded in _SECRET_NAMES or any(word in folded for word in _SECRET_WORDS)


def mask_text(text: str) -> str:
    """`text` with URL passwords and secret query parameters masked."""
    if "://" not in text and "=" not in text:
        return text
    return _TEXT.sub(_masked_text, text)


def mask_bytes(line: bytes) -> bytes:
    """`mask_text` for bytes (a recording line as encoded)."""
    if b"://" not in line and b"=" not in line:
        return line
    return _BYTES.sub(_masked_bytes, line)


def mask_url(url: str | None) -> str | None:
    """A URL (or a text naming one) with its password and secret query parameters masked;
    None stays None."""
    if url is None or ("@" not in url and "=" not in url):
        return url
    return mask_text(url)


def mask_params(params: Mapping[str, T]) -> dict[str, T | str]:
    """Parameters (a query, a form) with the values of secret names masked."""
    return {k: (MASK if is_secret_name(k) else v) for k, v in params.items()}


def mask_pairs(pairs: Iterable[tuple[str, T]]) -> list[tuple[str, T | str]]:
    """`mask_params` for a list of (name, value) pairs, repeats kept."""
    return [(k, MASK if is_secret_name(k) else v) for k, v in pairs]


def mask_headers(headers: Mapping[str, Any]) -> dict[str, Any]:
    """Headers with credentials (Authorization, Cookie, signatures, tokens) masked."""
    out: dict[str, Any] = {}
    for name, value in headers.items():
        folded = name.lower().replace("-", "").replace("_", "")
        out[name] = MASK if folded in _SECRET_HEADERS or is_secret_name(name) else value
    return out


def _masked_text(match: re.Match[str]) -> str:
    if match.group("lead") is not None:
        return f"{match.group('lead')}:{MASK}@"
    if is_secret_name(match.group("name")):
        return f"{match.group('sep')}{match.group('name')}={MASK}"
    return match.group(0)


def _masked_bytes(match: re.Match[bytes]) -> bytes:
    if match.group("lead") is not None:
        return match.group("lead") + b":***@"
    if is_secret_name(match.group("name").decode("latin-1")):
        return match.group("sep") + match.group("name") + b"=***"
    return match.group(0)
