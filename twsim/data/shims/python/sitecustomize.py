"""twsim's Python shim: the twilio SDK's API traffic goes to a twsim gateway, none to Twilio.

`twsim exec` (and `twsim env`) put this directory first on PYTHONPATH and set
TWSIM_GATEWAY_URL; Python imports this module at startup, before the app. It

- routes every request made through a `twilio.http.HttpClient` (the SDK's own
  `TwilioHttpClient`, `AsyncTwilioHttpClient`, `ValidationClient`, and any subclass an app
  defines) to api.twilio.com, with or without an edge or region, to the gateway: whichever
  `Client` the app builds, whenever it builds it (twilio 6.x to 9.x);
- refuses, in this process, every other way to a Twilio host: an SDK request to a product
  the gateway does not simulate (messaging.twilio.com, verify.twilio.com, ...) and any
  name lookup of a `*.twilio.com` or `*.twil.io` host, whatever library makes it. The
  refusal is a `TwilioHostRefused` error (a `ConnectionRefusedError`) raised where the
  request is made, and a line on stderr; nothing is sent;
- then runs the `sitecustomize` it shadows, if there is one.

It imports nothing from twsim: the app may run in another interpreter or virtualenv.
"""

from __future__ import annotations

import functools
import importlib.machinery
import importlib.util
import os
import socket
import sys
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

GATEWAY = os.environ.get("TWSIM_GATEWAY_URL", "").strip().rstrip("/")
TWILIO_DOMAINS = ("twilio.com", "twil.io")
SDK_MODULE = "twilio.http"  # defines HttpClient, the base of every SDK HTTP client
_ROUTED = "_twsim_routed"
_told: set[str] = set()


class TwilioHostRefused(ConnectionRefusedError):
    """A request for a Twilio host that twsim's shim could not send to the gateway."""


def is_twilio_host(host: str | bytes | None) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    name = (host or "").lower().rstrip(".")
    return any(name == domain or name.endswith("." + domain) for domain in TWILIO_DOMAINS)


def is_api_host(host: str) -> bool:
    """api.twilio.com, api.REGION.twilio.com or api.EDGE.REGION.twilio.com."""
    labels = host.lower().rstrip(".").split(".")
    return labels[0] == "api" and labels[-2:] == ["twilio", "com"] and 3 <= len(labels) <= 5


def refuse(what: str, why: str) -> TwilioHostRefused:
    """The error for a refused request, told once per `what` on stderr too."""
    message = f"twsim: refused {what}: {why}; nothing was sent"
    if what not in _told:
        _told.add(what)
        print(message, file=sys.stderr, flush=True)
    return TwilioHostRefused(message)


def route(url: str) -> str:
    """The gateway's URL for a request to the Twilio REST API; other URLs unchanged."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if not is_twilio_host(host):
        return url
    if not GATEWAY:
        raise refuse(f"a request to {host}", "TWSIM_GATEWAY_URL is not set")
    if not is_api_host(host):
        raise refuse(
            f"a request to {parts.scheme}://{host}{parts.path}",
            f"the gateway at {GATEWAY} simulates the api.twilio.com REST API only",
        )
    gateway = urlsplit(GATEWAY)
    path = gateway.path.rstrip("/") + parts.path
    return urlunsplit((gateway.scheme, gateway.netloc, path, parts.query, parts.fragment))


def routed(request: Callable[..., Any]) -> Callable[..., Any]:
    """`HttpClient.request(method, url, ...)` with the URL routed (sync or async alike)."""

    @functools.wraps(request)
    def request_via_gateway(self: Any, *args: Any, **kwargs: Any) -> Any:
        if len(args) >= 2:
            args = (args[0], route(args[1]), *args[2:])
        else:
            for key in ("url", "uri"):
                if key in kwargs:
                    kwargs[key] = route(kwargs[key])
        return request(self, *args, **kwargs)

    setattr(request_via_gateway, _ROUTED, True)
    return request_via_gateway


def route_class(cls: type) -> None:
    request = cls.__dict__.get("request")
    if callable(request) and not getattr(request, _ROUTED, False):
        cls.request = routed(request)  # type: ignore[attr-defined]


def patch_sdk(module: Any) -> None:
    """Route the `request` of HttpClient's subclasses, those defined already and later."""
    found = getattr(module, "HttpClient", None)
    if not isinstance(found, type) or getattr(found, _ROUTED, False):
        return
    base: type = found
    previous = base.__dict__.get("__init_subclass__")

    def __init_subclass__(cls: Any, /, **kwargs: Any) -> None:
        if isinstance(previous, classmethod):
            previous.__func__(cls, **kwargs)
        else:
            super(base, cls).__init_subclass__(**kwargs)  # type: ignore[arg-type]
        route_class(cls)

    setattr(base, "__init_subclass__", classmethod(__init_subclass__))  # noqa: B010
    setattr(base, _ROUTED, True)
    pending = [base]
    while pending:
        cls = pending.pop()
        route_class(cls)
        pending.extend(cls.__subclasses__())


class AfterImport:
    """A meta path finder that calls `hook(module)` once `name` has been imported."""

    def __init__(self, name: str, hook: Callable[[Any], None]) -> None:
        self.name = name
        self.hook = hook

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name != self.name:
            return None
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            if finder is self or find is None:
                continue
            spec = find(name, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        exec_module = getattr(loader, "exec_module", None)
        if exec_module is None:
            return spec
        hook = self.hook

        def exec_then_hook(module: Any) -> None:
            exec_module(module)
            hook(module)

        loader.exec_module = exec_then_hook
        return spec


def guarded(lookup: Callable[..., Any]) -> Callable[..., Any]:
    """A name lookup (`socket.getaddrinfo` and kin) that refuses Twilio host names."""

    @functools.wraps(lookup)
    def lookup_unless_twilio(host: Any, *args: Any, **kwargs: Any) -> Any:
        if is_twilio_host(host):
            name = host.decode() if isinstance(host, bytes) else str(host)
            raise refuse(
                f"a connection to {name}",
                "a process run by twsim reaches no Twilio host "
                f"(the twilio SDK's REST API calls go to {GATEWAY or 'the gateway'})",
            )
        return lookup(host, *args, **kwargs)

    return lookup_unless_twilio


def guard_sockets() -> None:
    for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex"):
        lookup = getattr(socket, name)
        if not getattr(lookup, _ROUTED, False):
            wrapper = guarded(lookup)
            setattr(wrapper, _ROUTED, True)
            setattr(socket, name, wrapper)


def chain_sitecustomize() -> None:
    """Run the sitecustomize this module shadows (a distribution's or a virtualenv's)."""
    here = os.path.dirname(os.path.abspath(__file__))
    path = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", path)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)


def install() -> None:
    guard_sockets()
    if SDK_MODULE in sys.modules:
        patch_sdk(sys.modules[SDK_MODULE])
    elif not any(isinstance(f, AfterImport) for f in sys.meta_path):
        sys.meta_path.insert(0, AfterImport(SDK_MODULE, patch_sdk))


install()
chain_sitecustomize()
