"""Where the gateway's time goes: a sampling profile of one run, summarised by function.

pyinstrument where installed (sampling, so it barely slows the run), cProfile otherwise.
"Self" time is time spent in the function's own code (and in C code it calls); time the
event loop spends polling sockets and in its C internals shows up as the self time of the
function that runs the loop.
"""

from __future__ import annotations

import contextlib
import cProfile
import pstats
from collections import defaultdict
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

TOP = 5


def _where(path: str | None, line: int | None) -> str:
    if not path:
        return ""
    parts = Path(path).parts
    for anchor in ("twsim", "bench", "site-packages", "python3.11", "lib"):
        if anchor in parts:
            index = len(parts) - 1 - parts[::-1].index(anchor)
            if anchor in ("twsim", "bench"):
                short = "/".join(parts[index:])
            else:
                short = "/".join(parts[index + 1 :])
            return f"{short}:{line}" if line else short
    return f"{path}:{line}" if line else path


def _area(path: str | None) -> str:
    """The package a function's time is charged to."""
    if not path:
        return "(native)"
    parts = Path(path).parts
    if "twsim" in parts:
        index = len(parts) - 1 - parts[::-1].index("twsim")
        return "twsim/" + "/".join(parts[index + 1 :])
    if "site-packages" in parts:
        index = parts.index("site-packages")
        return parts[index + 1] if index + 1 < len(parts) else "site-packages"
    if path.startswith("<"):
        return path
    return "stdlib " + Path(path).stem


class Profile:
    """Profiles the code run inside `capture()`; `summary()` gives the top costs."""

    def __init__(self) -> None:
        self.tool = "none"
        self._pyinstrument: Any = None
        self._cprofile: cProfile.Profile | None = None

    @contextlib.contextmanager
    def capture(self) -> Iterator[None]:
        try:
            from pyinstrument import Profiler
        except ImportError:
            self.tool = "cProfile (pyinstrument not installed)"
            self._cprofile = cProfile.Profile()
            self._cprofile.enable()
            try:
                yield
            finally:
                self._cprofile.disable()
            return
        self.tool = f"pyinstrument {metadata.version('pyinstrument')}"
        profiler = Profiler(interval=0.0002, async_mode="disabled")
        profiler.start()
        try:
            yield
        finally:
            profiler.stop()
            self._pyinstrument = profiler

    def summary(self, limit: int = 15) -> dict[str, Any]:
        if self._pyinstrument is not None:
            return self._pyinstrument_summary(limit)
        if self._cprofile is not None:
            return self._cprofile_summary(limit)
        return {"tool": self.tool, "top": []}

    def _pyinstrument_summary(self, limit: int) -> dict[str, Any]:
        session = self._pyinstrument.last_session
        root = session.root_frame(trim_stem=False)
        if root is None:
            return {"tool": self.tool, "top": []}
        own: dict[tuple[str, str | None, int | None], float] = defaultdict(float)
        inclusive: dict[tuple[str, str | None, int | None], float] = defaultdict(float)
        areas: dict[str, float] = defaultdict(float)
        stack: list[tuple[Any, frozenset[tuple[str, str | None, int | None]]]] = [
            (root, frozenset())
        ]
        while stack:
            frame, above = stack.pop()
            if frame.is_synthetic:
                continue
            key = (frame.function, frame.file_path, frame.line_no)
            own[key] += frame.total_self_time
            areas[_area(frame.file_path)] += frame.total_self_time
            if key not in above:
                inclusive[key] += frame.time
            inner = above | {key}
            stack.extend((child, inner) for child in frame.children)
        total = root.time or 1.0
        return {
            "tool": self.tool,
            "duration_s": round(session.duration, 3),
            "samples": session.sample_count,
            "top": _ranked(own, total, limit),
            "twsim_inclusive": _ranked(
                {k: v for k, v in inclusive.items() if k[1] and "/twsim/" in k[1]}, total, limit
            ),
            "by_area": [
                {"area": area, "share": round(t / total, 4)}
                for area, t in sorted(areas.items(), key=lambda kv: -kv[1])[:limit]
            ],
        }

    def _cprofile_summary(self, limit: int) -> dict[str, Any]:
        assert self._cprofile is not None
        stats = pstats.Stats(self._cprofile)
        raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
        total = sum(v[2] for v in raw.values()) or 1.0
        own = {(name, path, line): v[2] for (path, line, name), v in raw.items()}
        inclusive = {
            (name, path, line): v[3] for (path, line, name), v in raw.items() if "/twsim/" in path
        }
        areas: dict[str, float] = defaultdict(float)
        for (_, path, _), t in own.items():
            areas[_area(path if path != "~" else None)] += t
        return {
            "tool": self.tool,
            "top": _ranked(own, total, limit),
            "twsim_inclusive": _ranked(inclusive, total, limit),
            "by_area": [
                {"area": area, "share": round(t / total, 4)}
                for area, t in sorted(areas.items(), key=lambda kv: -kv[1])[:limit]
            ],
        }


# What some frames stand for, where the function name alone says little.
_LABELS = {
    ("run", "asyncio/runners.py"): "the event loop itself (uvloop's C code, socket I/O)",
    ("iterencode", "json/encoder.py"): "json encoding (the C encoder runs in this frame)",
    ("__init__", "<string>"): "generated dataclass __init__ methods",
}


def _label(name: str, where: str) -> str:
    for (function, place), label in _LABELS.items():
        if name == function and where.startswith(place):
            return label
    return ""


def _ranked(
    times: dict[tuple[str, str | None, int | None], float], total: float, limit: int
) -> list[dict[str, Any]]:
    ranked = sorted(times.items(), key=lambda kv: -kv[1])[:limit]
    out = []
    for (name, path, line), t in ranked:
        where = _where(path, line)
        item: dict[str, Any] = {"function": name, "where": where, "share": round(t / total, 4)}
        if label := _label(name, where):
            item["note"] = label
        out.append(item)
    return out
