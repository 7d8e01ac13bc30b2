"""The data twsim ships inside its package: price tables, scenarios, the demo app, shims.

Found through `importlib.resources`, so an installed wheel finds them as a source
checkout does. A user's own files are given by path.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from twsim.config.schema import SchemaError, load_yaml_file
from twsim.core.price_table_reader import read_price_table
from twsim.core.pricing import PriceTable

DATA = resources.files("twsim.data")


def shipped(kind: str) -> list[str]:
    """The names of the shipped files of one kind (`prices`, `scenarios`), sorted."""
    return sorted(
        entry.name.removesuffix(".yaml")
        for entry in DATA.joinpath(kind).iterdir()
        if entry.name.endswith(".yaml")
    )


def shipped_file(kind: str, name: str) -> Traversable | None:
    """The shipped `kind/name.yaml`, or None when twsim ships no such file."""
    entry = DATA.joinpath(kind, f"{name}.yaml")
    return entry if entry.is_file() else None


def demo_app() -> Traversable:
    """The shipped attendance app (`python attendance.py --port N [--fixed]`)."""
    return DATA.joinpath("apps", "attendance.py")


SHIMS = {"python": ("shims", "python"), "node": ("shims", "node", "twsim-preload.js")}


def shim_path(language: str) -> Path:
    """The shim for `python` (a directory for PYTHONPATH) or `node` (a file to --require).

    Apps load them from disk, so they are real files: twsim is installed unzipped.
    """
    return Path(str(DATA.joinpath(*SHIMS[language])))


def looks_like_path(name_or_path: str) -> bool:
    """A file path rather than a shipped name: it has a suffix or a directory part."""
    return bool(Path(name_or_path).suffix) or "/" in name_or_path or "\\" in name_or_path


def load_prices(name_or_path: str) -> PriceTable:
    """A shipped price table by name (`us`), or a table from a YAML file."""
    if looks_like_path(name_or_path):
        path = Path(name_or_path)
        data = load_yaml_file(path)
        name = path.stem
    else:
        entry = shipped_file("prices", name_or_path)
        if entry is None:
            raise SchemaError(
                "prices",
                f"no shipped price table {name_or_path!r} (shipped: {', '.join(shipped('prices'))}); "
                "give a path to use your own",
            )
        data = load_yaml_file(entry)
        name = name_or_path
    try:
        return read_price_table(data, name=name)
    except ValueError as exc:
        raise SchemaError("", str(exc), source=str(name_or_path)) from exc


def ui_asset(name: str) -> str:
    """A file of the shipped web page (`charts.js`, `vendor/uPlot.iife.min.js`...), as text."""
    return DATA.joinpath("ui", *name.split("/")).read_text("utf-8")
