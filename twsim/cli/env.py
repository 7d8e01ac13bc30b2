"""`twsim env`: the shims' variables as shell commands, for apps started some other way.

    eval "$(twsim env)"                         # bash, zsh
    twsim env --shell fish | source
    twsim env --shell powershell | Invoke-Expression

Each variable joins the value the shell has when the lines run (PYTHONPATH first,
NODE_OPTIONS and NO_PROXY appended, the Twilio credentials only when unset).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

from twsim.cli import options
from twsim.observe.shim import Combine, Variable, shim_variables

SHELLS = ("bash", "fish", "powershell")


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "env",
        help="print the variables that send an app's Twilio SDK traffic to twsim",
        description=(
            "Print shell commands that set the variables `twsim exec` gives an app, for apps "
            "started by a process manager, docker compose on the host network, an IDE."
        ),
    )
    parser.set_defaults(handler=run)
    parser.add_argument(
        "--gateway",
        metavar="URL",
        default=options.DEFAULT_SIM,
        help=f"the gateway (default {options.DEFAULT_SIM}, where twsim serve listens)",
    )
    parser.add_argument("--shell", choices=SHELLS, default="bash", help="syntax (default bash)")
    parser.add_argument(
        "--config", metavar="YAML", help="gateway configuration: its first account is used"
    )


def bash_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def bash(v: Variable) -> str:
    name, value = v.name, bash_quote(v.value)
    if v.combine is Combine.PATH_FIRST:
        return f'export {name}={value}"${{{name}:+{os.pathsep}${name}}}"'
    if v.combine is Combine.OPTION:
        return f'export {name}="${{{name}:+${name} }}"{value}'
    if v.combine is Combine.LIST:
        return f'export {name}="${{{name}:+${name},}}"{value}'
    if v.combine is Combine.DEFAULT:
        return f'export {name}="${{{name}:-{v.value}}}"'
    return f"export {name}={value}"


def fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def fish(v: Variable) -> str:
    name, value = v.name, fish_quote(v.value)
    if v.combine is Combine.PATH_FIRST:  # fish keeps *PATH variables as lists
        return f"set -gx {name} {value} ${name}"
    if v.combine is Combine.OPTION:
        return f"set -gx {name} (string join ' ' -- ${name} {value})"
    if v.combine is Combine.LIST:
        return f"set -gx {name} (string join , -- ${name} {value})"
    if v.combine is Combine.DEFAULT:
        return f'test -n "${name}"; or set -gx {name} {value}'
    return f"set -gx {name} {value}"


def powershell_quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def powershell(v: Variable) -> str:
    name, value = f"$env:{v.name}", powershell_quote(v.value)
    present = f"@({name} | Where-Object {{ $_ }})"
    if v.combine is Combine.PATH_FIRST:
        return f"{name} = (@({value}) + {present}) -join [IO.Path]::PathSeparator"
    if v.combine is Combine.OPTION:
        return f"{name} = ({present} + @({value})) -join ' '"
    if v.combine is Combine.LIST:
        return f"{name} = ({present} + @({value})) -join ','"
    if v.combine is Combine.DEFAULT:
        return f"if (-not {name}) {{ {name} = {value} }}"
    return f"{name} = {value}"


RENDER: dict[str, Callable[[Variable], str]] = {
    "bash": bash,
    "fish": fish,
    "powershell": powershell,
}
USAGE = {
    "bash": 'eval "$(twsim env)"',
    "fish": "twsim env --shell fish | source",
    "powershell": "twsim env --shell powershell | Invoke-Expression",
}


def lines(gateway: str, shell: str, args: argparse.Namespace) -> list[str]:
    account = options.config(args).accounts[0]
    render = RENDER[shell]
    head = f"# twsim: Twilio SDK traffic to {gateway}; use: {USAGE[shell]}"
    return [head, *(render(v) for v in shim_variables(gateway, account))]


def run(args: argparse.Namespace) -> int:
    print("\n".join(lines(args.gateway, args.shell, args)))
    return 0
