"""twsim: a local Twilio Messaging simulator plus a burst and replay harness.

The public API, for scripts and tests:

    from twsim import Simulator, load_config, load_scenario, read_recording, client
"""

from __future__ import annotations

from importlib.metadata import version

from twsim.config.models import Config
from twsim.config.reader import load_config
from twsim.recording.journal import Recording, read_recording
from twsim.scenario.spec import Scenario, load_scenario
from twsim.server.sdk import client
from twsim.server.simulator import Simulator, SimulatorThread

__version__ = version("twsim")

__all__ = [
    "Config",
    "Recording",
    "Scenario",
    "Simulator",
    "SimulatorThread",
    "__version__",
    "client",
    "load_config",
    "load_scenario",
    "read_recording",
]
