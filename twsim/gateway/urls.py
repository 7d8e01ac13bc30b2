"""URLs as the app sees them and as the gateway dials them, and the form encoding of
parameters.

Behind `webhook.public_base_url` (a tunnel, a proxy), the app signs and writes its URLs
under the public base; the gateway signs for that URL and dials the configured origin.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import quote_plus, urlsplit, urlunsplit

Params = list[tuple[str, str]]

_quote = lru_cache(maxsize=16384)(quote_plus)


def form_encode(params: Params) -> str:
    """``application/x-www-form-urlencoded``, as `urlencode` writes it, several times faster:
    names and the values that repeat across webhooks are quoted once."""
    return "&".join([_quote(name) + "=" + _quote(value) for name, value in params])


def signing_url(url: str, public_base_url: str | None) -> str:
    """The URL the app will see: the configured one, or its path under the public base URL."""
    if not public_base_url:
        return url
    base = urlsplit(public_base_url)
    target = urlsplit(url)
    path = base.path.rstrip("/") + target.path
    return urlunsplit((base.scheme, base.netloc, path, target.query, ""))


def dialled_url(url: str, public_base_url: str | None, local_url: str) -> str:
    """The URL to dial for `url` taken from the app's answer.

    An app behind `public_base_url` writes absolute URLs under that base; they are dialled
    on the origin of `local_url` (the configured URL), the inverse of `signing_url`.
    """
    if not public_base_url:
        return url
    base = urlsplit(public_base_url)
    target = urlsplit(url)
    prefix = base.path.rstrip("/")
    if (target.scheme, target.netloc) != (base.scheme, base.netloc) or not (
        target.path == prefix or target.path.startswith(prefix + "/")
    ):
        return url
    local = urlsplit(local_url)
    path = target.path[len(prefix) :] or "/"
    return urlunsplit((local.scheme, local.netloc, path, target.query, target.fragment))
