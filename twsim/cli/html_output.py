"""Writing a command's HTML report (`--html OUT.html`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from twsim.analysis.html import render
from twsim.cli.errors import CliError


def save(path: str, document: dict[str, Any]) -> None:
    """Write `document` as a self-contained page at `path`; say so on stderr."""
    target = Path(path)
    try:
        target.write_text(render(document), encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror or exc}") from None
    print(f"HTML report written to {target}", file=sys.stderr)
