"""Running a command's async work: an error's traceback is the error's own, never chained to
the optional uvloop's absence."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_tracebacks_are_not_chained_to_a_missing_uvloop() -> None:
    program = textwrap.dedent(
        """
        import sys
        sys.modules["uvloop"] = None  # as if the optional package were not installed
        from twsim.cli.running import run

        async def fail():
            raise ValueError("the real error")

        run(fail())
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 1
    assert "ValueError: the real error" in result.stderr
    assert "uvloop" not in result.stderr
    assert "During handling of the above exception" not in result.stderr
    assert "ModuleNotFoundError" not in result.stderr
