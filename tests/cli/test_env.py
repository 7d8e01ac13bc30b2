"""`twsim env`: the shims' variables as shell lines, run by a real bash and a real fish."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from twsim.cli.env import lines
from twsim.cli.main import build_parser
from twsim.config.shipped import shim_path

PRINT = "import os; print('|'.join(os.environ.get(n, '-') for n in {names!r}))"
NAMES = ["TWSIM_GATEWAY_URL", "PYTHONPATH", "NODE_OPTIONS", "TWILIO_ACCOUNT_SID", "NO_PROXY"]


def rendered(shell: str, *extra: str) -> str:
    args = build_parser().parse_args(["env", "--shell", shell, *extra])
    return "\n".join(lines(args.gateway, args.shell, args))


def run_in(shell: list[str], script: str, env: dict[str, str]) -> list[str]:
    base = {k: v for k, v in os.environ.items() if k not in {*NAMES, "TWILIO_AUTH_TOKEN"}}
    done = subprocess.run(
        [*shell, script], env={**base, **env}, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().split("|")


def program() -> str:
    return f'{sys.executable} -c "{PRINT.format(names=NAMES)}"'


@pytest.mark.parametrize("shell", [["bash", "-c"], ["fish", "-c"]], ids=["bash", "fish"])
def test_the_lines_set_the_variables_and_keep_the_apps_own(shell: list[str]) -> None:
    script = rendered(shell[0], "--gateway", "http://127.0.0.1:8999/") + "\n" + program()
    own = {
        "PYTHONPATH": "/srv/app/lib",
        "NODE_OPTIONS": "--max-old-space-size=512",
        "TWILIO_ACCOUNT_SID": "ACmine",
        "NO_PROXY": "corp.example",
    }
    gateway, path, node, sid, no_proxy = run_in(shell, script, own)
    assert gateway == "http://127.0.0.1:8999"
    assert path == f"{shim_path('python')}{os.pathsep}/srv/app/lib"
    assert node == f'--max-old-space-size=512 --require "{shim_path("node")}"'
    assert sid == "ACmine"
    assert no_proxy == "corp.example,127.0.0.1,localhost,::1,.twilio.com,.twil.io"

    gateway, path, node, sid, no_proxy = run_in(shell, script, {})
    assert path == str(shim_path("python"))
    assert node == f'--require "{shim_path("node")}"'
    assert sid == "AC0123456789abcdef0123456789abcdef"
    assert no_proxy == "127.0.0.1,localhost,::1,.twilio.com,.twil.io"


def test_the_node_preload_named_in_the_lines_exists() -> None:
    assert Path(shim_path("node")).is_file()
    assert (Path(shim_path("python")) / "sitecustomize.py").is_file()


def test_powershell_lines() -> None:
    text = rendered("powershell", "--gateway", "http://127.0.0.1:8999")
    assert "$env:TWSIM_GATEWAY_URL = 'http://127.0.0.1:8999'" in text
    assert (
        f"$env:PYTHONPATH = (@('{shim_path('python')}') + "
        "@($env:PYTHONPATH | Where-Object { $_ })) -join [IO.Path]::PathSeparator"
    ) in text
    assert "if (-not $env:TWILIO_AUTH_TOKEN) { $env:TWILIO_AUTH_TOKEN = 'fedcba98" in text
    assert text.splitlines()[0].endswith("twsim env --shell powershell | Invoke-Expression")


def test_the_config_gives_the_account(tmp_path: Path) -> None:
    config = tmp_path / "twsim.yaml"
    config.write_text(
        "accounts:\n  - sid: ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"
        "    auth_token: bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n"
    )
    text = rendered("bash", "--config", str(config))
    assert 'export TWILIO_ACCOUNT_SID="${TWILIO_ACCOUNT_SID:-ACaaaaaaaa' in text
    assert "export TWSIM_GATEWAY_URL='http://127.0.0.1:8910'" in text
