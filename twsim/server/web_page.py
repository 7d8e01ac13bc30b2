"""The web page at /_twsim/ui/: static files shipped in the package, served as they are.

The page (HTML, CSS, JavaScript and the vendored chart library) lives in `twsim/data/ui/`; it
reads the control plane and follows `/_twsim/events?follow=1`. A strict Content Security
Policy lets it load nothing but its own files and talk to nothing but this gateway.
"""

from __future__ import annotations

import mimetypes
from importlib.resources.abc import Traversable

from aiohttp import web

from twsim.config.shipped import DATA

PATH = "/_twsim/ui/"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
_TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html"}


def _files(folder: Traversable, prefix: str = "") -> dict[str, Traversable]:
    found: dict[str, Traversable] = {}
    for entry in folder.iterdir():
        name = prefix + entry.name
        if entry.is_dir():
            found.update(_files(entry, name + "/"))
        elif not entry.name.endswith((".md", ".py", ".pyc")):
            found[name] = entry
    return found


class WebPage:
    """The page's files by path under /_twsim/ui/, read once."""

    def __init__(self) -> None:
        self.files = _files(DATA.joinpath("ui"))
        self._cache: dict[str, bytes] = {}

    def read(self, name: str) -> bytes | None:
        if name not in self.files:
            return None
        body = self._cache.get(name)
        if body is None:
            body = self._cache[name] = self.files[name].read_bytes()
        return body

    async def serve(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info.get("name") or "index.html"
        body = self.read(name)
        if body is None:
            raise web.HTTPNotFound()
        suffix = name[name.rfind(".") :]
        content_type = _TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "text/plain"
        charset = "utf-8" if content_type.startswith("text/") else None
        return web.Response(
            body=body, content_type=content_type, charset=charset, headers=SECURITY_HEADERS
        )


async def _to_page(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound(PATH)


def add_routes(router: web.UrlDispatcher) -> None:
    page = WebPage()
    router.add_get(PATH.rstrip("/"), _to_page)
    router.add_get(PATH, page.serve)
    router.add_get(PATH + "{name:.+}", page.serve)
