"""The import rules of DESIGN.md, checked with `ast`.

core <- model <- edges <- simulator <- scenario <- cli: a lower layer never imports a higher
one; twsim/core uses the standard library only; aiohttp lives at the edges and above;
yaml only where files are read.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "twsim"

LAYERS = {
    "core": 0,
    "model": 1,
    "edges": 2,
    "simulator": 3,
    "scenario": 4,
    "cli": 5,
}

MODEL = {
    "clock", "config", "events", "state", "model", "schema", "optouts", "reply_loop", "attribution",
    "usage", "webhook_params", "cookies", "report", "report_text", "recording", "diff", "thresholds",
    "billing", "directory", "outbound", "report_figures",
}  # fmt: skip
EDGES = {
    "delivery",
    "carrier",
    "inbound",
    "gateway",
    "server",
    "sdk",
    "progress",
    "loadgen",
    "importer",
    "anonymize",
}
SIMULATOR = {"simulator"}
SCENARIO = {"scenario"}
CLI = {"cli", "commands", "demo", "pytest_plugin", "__main__"}

# third-party packages and the lowest layer allowed to use them
ALLOWED_FROM = {
    "uvloop": 5,
    "pytest": 5,
    "aiohttp": 2,
    "yarl": 2,
    "multidict": 2,
    "yaml": 1,
    "twilio": 2,
    "faker": 2,
    "hdrh": 1,
    "orjson": 1,
}
YAML_READERS = {"twsim.schema"}


def layer_of(module: str) -> int:
    parts = module.split(".")
    if parts[0] != "twsim":
        raise ValueError(module)
    if len(parts) == 1:
        return LAYERS["cli"]  # the package's own __init__ exposes conveniences lazily
    head = parts[1]
    for name, members in (
        ("core", {"core"}),
        ("model", MODEL),
        ("edges", EDGES),
        ("simulator", SIMULATOR),
        ("scenario", SCENARIO),
        ("cli", CLI),
    ):
        if head in members:
            return LAYERS[name]
    raise AssertionError(f"twsim.{head} is in no layer: add it to tests/test_layers.py")


def modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(relative.parts)
        if parts[-1] == "__init__":
            parts.pop()
        found.append((".".join(parts), path))
    return found


def imports(path: Path) -> list[tuple[str, bool]]:
    """Modules imported by a file, and whether the import only happens for type checking."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in ast.walk(node):
                typing_only.add(id(inner))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, id(node) in typing_only) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "twsim":  # `from twsim import report` imports twsim.report
                found += [
                    (f"twsim.{a.name}", id(node) in typing_only)
                    for a in node.names
                    if a.name != "__version__"
                ]
            else:
                found.append((node.module, id(node) in typing_only))
    return found


ALL = modules()


@pytest.mark.parametrize(("module", "path"), ALL, ids=[m for m, _ in ALL])
def test_no_layer_imports_a_higher_one(module: str, path: Path) -> None:
    own = layer_of(module)
    for imported, typing_only in imports(path):
        if imported.split(".")[0] != "twsim" or typing_only or module == "twsim":
            continue
        assert layer_of(imported) <= own, (
            f"{module} (layer {own}) imports {imported} (layer {layer_of(imported)})"
        )


@pytest.mark.parametrize(("module", "path"), ALL, ids=[m for m, _ in ALL])
def test_third_party_packages_stay_where_they_belong(module: str, path: Path) -> None:
    own = layer_of(module)
    stdlib = sys.stdlib_module_names
    for imported, typing_only in imports(path):
        top = imported.split(".")[0]
        if top == "twsim" or top in stdlib or typing_only:
            continue
        assert top in ALLOWED_FROM, f"{module} imports {top}, which no layer expects"
        assert own >= ALLOWED_FROM[top], f"{module} (layer {own}) may not import {top}"
        if top == "yaml":
            assert module in YAML_READERS, f"{module} reads YAML itself; use twsim.schema"


CORE = [(m, p) for m, p in ALL if m.startswith("twsim.core")]


@pytest.mark.parametrize(("module", "path"), CORE, ids=[m for m, _ in CORE])
def test_core_uses_the_standard_library_only(module: str, path: Path) -> None:
    for imported, _ in imports(path):
        top = imported.split(".")[0]
        assert top in sys.stdlib_module_names or imported.startswith("twsim.core"), (
            f"{module} imports {imported}"
        )


def test_the_rules_see_every_module() -> None:
    assert len(ALL) > 40
    assert {m for m, _ in CORE} >= {
        "twsim.core.segments",
        "twsim.core.signature",
        "twsim.core.twiml",
        "twsim.core.pricing",
    }
