"""The package as a user gets it: a wheel (built from the sdist) in a fresh virtualenv.

Builds the sdist and, from it, the wheel; installs the wheel outside the source tree into a
new virtualenv with every dependency at its floor (pyproject's `>=` versions, exactly), and
runs `twsim serve`, `twsim burst classroom --app ...` and `twsim demo` from there. So the
package data ships, the commands find it through importlib.resources, and the floors hold.

Slow for a reason (about a minute): a virtualenv, an install and three real commands.
The dependency wheels are downloaded once into `.cache/wheelhouse/` (git-ignored), so later
runs install offline.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import tarfile
import tomllib
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
WHEELHOUSE = ROOT / ".cache" / "wheelhouse"
DATA = [
    "twsim/data/prices/us.yaml",
    "twsim/data/scenarios/classroom.yaml",
    "twsim/data/apps/attendance.py",
]

pytestmark = pytest.mark.timeout(600)


def floors() -> list[str]:
    """Every dependency pinned to its floor: `aiohttp>=3.10.10` becomes `aiohttp==3.10.10`."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = []
    for requirement in project["dependencies"]:
        found = re.fullmatch(
            r"([A-Za-z0-9_.-]+)(\[[a-z,]+\])?>=([0-9.]+)", requirement.split(";")[0].strip()
        )
        assert found, f"a dependency without a plain floor: {requirement}"
        pins.append(f"{found[1]}=={found[3]}")  # constraints take no extras
        if found[2] == "[binary]":  # psycopg's compiled half comes at the same version
            pins.append(f"{found[1]}-binary=={found[3]}")
    return pins


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, (
        f"{args[:3]} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    )
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the built wheel and the dependency floors; its bin folder."""
    work = tmp_path_factory.mktemp("wheel")
    dist = work / "dist"
    run(sys.executable, "-m", "build", "--no-isolation", "--outdir", dist, ROOT, cwd=work)
    (sdist,) = dist.glob("twsim-*.tar.gz")
    (wheel,) = dist.glob("twsim-*.whl")
    with tarfile.open(sdist) as archive:
        names = archive.getnames()
    assert all(any(n.endswith(path) for n in names) for path in DATA), names
    with zipfile.ZipFile(wheel) as archive:
        assert set(DATA) <= set(archive.namelist())

    venv = work / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=work)
    pip = [venv / "bin" / "python", "-m", "pip", "--disable-pip-version-check"]
    constraints = work / "floors.txt"
    constraints.write_text("\n".join(floors()) + "\n", encoding="utf-8")
    offline = [*pip, "install", "--no-index", "--find-links", WHEELHOUSE, "-c", constraints, wheel]
    first = subprocess.run(list(map(str, offline)), cwd=work, capture_output=True, text=True)
    if first.returncode != 0:  # the first run (or new floors): fetch the dependency wheels once
        WHEELHOUSE.mkdir(parents=True, exist_ok=True)
        run(
            *pip,
            "download",
            "--only-binary=:all:",
            "-d",
            WHEELHOUSE,
            "-c",
            constraints,
            wheel,
            cwd=work,
        )
        for stale in WHEELHOUSE.glob("twsim-*"):
            stale.unlink()
        run(*offline, cwd=work)
    versions = run(*pip, "list", "--format=json", cwd=work)
    have = {p["name"].lower(): p["version"] for p in json.loads(versions)}
    for pin in floors():
        name, version = pin.split("==")
        assert Version(have[name.lower()]) == Version(version), (name, have)
    where = run(venv / "bin" / "python", "-c", "import twsim; print(twsim.__file__)", cwd=work)
    assert where.startswith(str(venv)), where  # the installed package, not the source tree
    return venv / "bin"


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


def test_installed_serve_answers_health(installed: Path, tmp_path: Path) -> None:
    serve = subprocess.Popen(
        [str(installed / "twsim"), "serve", "--port", "0"],
        cwd=tmp_path,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert serve.stdout is not None
    try:
        banner = serve.stdout.readline()
        assert "Twilio gateway at" in banner, banner + (serve.stderr.read() if serve.stderr else "")
        url = banner.rsplit(" at ", 1)[1].strip()
        with urllib.request.urlopen(f"{url}/_twsim/health", timeout=30) as response:
            assert json.loads(response.read())["status"] == "ok"
    finally:
        serve.send_signal(signal.SIGINT)
        out, err = serve.communicate(timeout=60)
    assert serve.returncode == 0, err
    assert "twsim serve: stopped after" in out


async def test_installed_burst_runs_the_shipped_classroom(
    installed: Path, tmp_path: Path, serve_app: Any
) -> None:
    async def sms(request: web.Request) -> web.Response:
        await request.post()
        return web.Response(
            text="<Response><Message>Invalid code, try again</Message></Response>",
            content_type="text/xml",
        )

    app = web.Application()
    app.router.add_post("/sms", sms)
    server = await serve_app(app)
    burst = await asyncio.create_subprocess_exec(
        str(installed / "twsim"),
        *("burst", "classroom", "--app", f"http://127.0.0.1:{server.port}/sms"),
        *("--port", "0", "--quiet", "--json"),
        cwd=tmp_path,
        env=clean_env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(burst.communicate(), 300)
    assert burst.returncode == 0, err.decode()
    report = json.loads(out)
    assert (
        report["inbound"]["count"] >= 60 and report["outbound"]["by_origin"]["reply"]["count"] > 0
    )


def test_installed_demo_finds_its_app(installed: Path, tmp_path: Path) -> None:
    out = run(installed / "twsim", "demo", "--quiet", cwd=tmp_path, env=clean_env())
    assert "the professor's inbox" in out
    assert "The naive app: " in out and "The fixed app: " in out
