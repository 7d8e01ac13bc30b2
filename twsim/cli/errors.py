"""How a command fails: one line for the user and an exit status."""

from __future__ import annotations

EXIT_RUNTIME = 1
EXIT_USAGE = 2
EXIT_THRESHOLD = 3
EXIT_INTERRUPTED = 130


class CliError(Exception):
    """A problem to tell the user in one line (a hint may follow), with exit status `code`."""

    def __init__(self, message: str, code: int = EXIT_USAGE, hint: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.hint = hint


class Interrupted(CliError):
    """The run was told to stop at once (a second Ctrl-C): exit 130."""

    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_INTERRUPTED)
