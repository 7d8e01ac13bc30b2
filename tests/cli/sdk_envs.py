"""Real Twilio SDKs for the exec tests: virtualenvs and npm folders, made once and cached.

They live under `.cache/sdk/` at the top of the checkout (git-ignored); a folder is used
only once its install finished (a `.ready` stamp), and a lock keeps parallel workers from
installing the same one twice. First run: about a minute on a 2-core machine; later runs
reuse them.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

CACHE = Path(__file__).resolve().parents[2] / ".cache" / "sdk"
INSTALL_TIMEOUT_S = 600


@dataclass(frozen=True, slots=True)
class Sdk:
    """One SDK version to install: `language` python or node, and the package specs."""

    name: str
    language: str
    packages: tuple[str, ...]

    @property
    def folder(self) -> Path:
        tag = (
            f"py{sys.version_info.major}{sys.version_info.minor}-"
            if self.language == "python"
            else ""
        )
        return CACHE / f"{tag}{self.name}"


PYTHON_SDKS = {
    "twilio-python 6": Sdk("twilio-6", "python", ("twilio==6.50.1", "flask>=3,<4")),
    "twilio-python 9": Sdk("twilio-9", "python", ("twilio>=9,<10", "flask>=3,<4")),
}
NODE_SDKS = {
    "twilio-node 3 (request)": Sdk("twilio-node-3.37", "node", ("twilio@3.37", "express@4")),
    "twilio-node 4": Sdk("twilio-node-4", "node", ("twilio@4", "express@4")),
    "twilio-node 5": Sdk("twilio-node-5", "node", ("twilio@5", "express@4")),
}


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _run(argv: list[str], cwd: Path | None = None) -> None:
    done = subprocess.run(
        argv, cwd=cwd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        )


def installed(sdk: Sdk) -> Path:
    """The SDK's folder, installed first if it is not ready yet."""
    folder = sdk.folder
    stamp = folder / ".ready"
    with _locked(folder):
        if stamp.exists() and json.loads(stamp.read_text()) == list(sdk.packages):
            return folder
        shutil.rmtree(folder, ignore_errors=True)
        if sdk.language == "python":
            _run([sys.executable, "-m", "venv", str(folder)])
            pip = [str(folder / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
            _run([*pip, "install", "--quiet", *sdk.packages])
        else:
            folder.mkdir(parents=True)
            (folder / "package.json").write_text('{"private": true}\n')
            _run(["npm", "install", "--silent", "--no-audit", "--no-fund", *sdk.packages], folder)
        stamp.write_text(json.dumps(list(sdk.packages)))
    return folder


def version(sdk: Sdk) -> str:
    """The twilio version installed in the SDK's folder."""
    folder = installed(sdk)
    if sdk.language == "python":
        python = str(folder / "bin" / "python")
        code = "import twilio; print(twilio.__version__)"
        return subprocess.run(
            [python, "-c", code], capture_output=True, text=True, check=True
        ).stdout.strip()
    manifest = folder / "node_modules" / "twilio" / "package.json"
    return str(json.loads(manifest.read_text())["version"])


def runner(sdk: Sdk, app: Path) -> tuple[list[str], dict[str, str]]:
    """How to run `app` with the SDK: its argv and the variables it needs."""
    folder = installed(sdk)
    if sdk.language == "python":
        return [str(folder / "bin" / "python"), str(app)], {}
    node_path = os.pathsep.join(
        p for p in (str(folder / "node_modules"), os.environ.get("NODE_PATH")) if p
    )
    return ["node", str(app)], {"NODE_PATH": node_path}
