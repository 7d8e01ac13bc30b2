"""What the import contract in pyproject.toml (checked by `make lint`) cannot say itself.

Every package of twsim sits in a declared layer, core uses the standard library alone,
and no module imports twsim inside a function (the usual way to hide a cycle).
"""

from __future__ import annotations

import ast
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "twsim"
CONTRACTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"][
    "contracts"
]


def declared_layers() -> set[str]:
    (layers,) = [c for c in CONTRACTS if c["type"] == "layers"]
    return {name.strip() for line in layers["layers"] for name in line.split("|")}


def modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[1:2] == ["data"]:
            continue  # shipped files (the demo app), not part of the package's code
        if parts[-1] == "__init__":
            parts.pop()
        found.append((".".join(parts), path))
    return found


ALL = modules()
CORE = [(m, p) for m, p in ALL if m.startswith("twsim.core")]


def test_every_package_and_top_module_is_in_a_layer() -> None:
    layers = declared_layers()
    tops = {".".join(m.split(".")[:2]) for m, _ in ALL if m.count(".") >= 1}
    unplaced = {t for t in tops if t not in layers and t != "twsim.__main__"}
    assert not unplaced, f"add these to the layers contract in pyproject.toml: {sorted(unplaced)}"


@pytest.mark.parametrize(("module", "path"), CORE, ids=[m for m, _ in CORE])
def test_core_uses_the_standard_library_only(module: str, path: Path) -> None:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            top = name.split(".")[0]
            assert top in sys.stdlib_module_names or name.startswith("twsim.core"), (
                f"{module} imports {name}"
            )


@pytest.mark.parametrize(("module", "path"), ALL, ids=[m for m, _ in ALL])
def test_no_function_imports_twsim(module: str, path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("twsim"):
                pytest.fail(f"{module}:{node.lineno} imports {node.module} inside a function")
            if isinstance(node, ast.Import) and any(a.name.startswith("twsim") for a in node.names):
                pytest.fail(f"{module}:{node.lineno} imports twsim inside a function")


def test_the_rules_see_every_module() -> None:
    assert len(ALL) > 60
    assert {m for m, _ in CORE} >= {"twsim.core.segments", "twsim.core.signature"}
