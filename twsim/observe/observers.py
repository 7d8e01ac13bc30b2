"""The observers of one run, built from an `ObserveConfig` and looked at together.

    observers = Observers(config.observe, events, effects, clock, app_port=5000)
    await observers.start()     # the SMTP sink listens, files and tables get their start,
                                # `--app-cmd` is started and waited for, probes begin
    await observers.settle()    # look at everything now (the gateway's quiet points)
    await observers.stop()      # the app stopped first (its last mail and lines count),
                                # then a last look at everything

Between those, every observer is looked at each `interval_s` on the injected clock.
An `observe.started` event names what is watched, so a report can tell "no email" from
"email not watched".
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping

from twsim.config.observing import ObserveConfig
from twsim.model.clock import Clock
from twsim.model.effect_attribution import EffectAttribution
from twsim.model.events import EventLog, ObserveStarted
from twsim.observe.app_process import AppProcess
from twsim.observe.databases import DatabaseObserver
from twsim.observe.log_watcher import LogWatcher
from twsim.observe.process_probe import ProcessProbe, listening_pid
from twsim.observe.smtp_sink import SmtpSink
from twsim.observe.witness import Observer, Witness


class ObserveError(RuntimeError):
    """The observers could not start (a port taken, no such process, the app did not start)."""


class Observers:
    """Every observer of a run, with the app process when twsim starts it."""

    def __init__(
        self,
        config: ObserveConfig,
        events: EventLog,
        effects: EffectAttribution,
        clock: Clock,
        *,
        app_port: int | None = None,
        app_env: Mapping[str, str] | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.witness = Witness(events, effects)
        self.app_port = config.ports[0] if config.ports else app_port
        self.app_env = dict(app_env or {})
        self.smtp: SmtpSink | None = None
        self.app: AppProcess | None = None
        self.probes: list[ProcessProbe] = []
        self._observers: list[Observer] = []
        self._app_probe: ProcessProbe | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._unwatch: Callable[[], None] | None = None

    async def start(self) -> None:
        config, witness = self.config, self.witness
        self._unwatch = witness.effects.watch()
        if config.app_cmd and self.app_port is None:
            raise ObserveError(
                "--app-cmd needs the port the app listens on: --observe-port PORT "
                "(or an app URL with a port)"
            )
        try:
            if config.smtp is not None:
                self.smtp = SmtpSink(witness, *config.smtp)
                await self._add(self.smtp)
            if config.logs:
                await self._add(LogWatcher(witness, config.logs, config.log_level_regex))
            for url in config.databases:
                await self._add(DatabaseObserver(witness, url))
            pids = list(config.pids)
            if config.app_cmd:
                assert self.app_port is not None
                self.app = await AppProcess.run_command(
                    config.app_cmd, port=self.app_port, env=self._env()
                )
                pids.append(self.app.pid)
            else:
                pids += [listening_pid(port) for port in config.ports]
            for pid in pids:
                probe = ProcessProbe(witness, pid)
                await self._add(probe)
                self.probes.append(probe)
                if self.app is not None and pid == self.app.pid:
                    self._app_probe = probe
        except (OSError, LookupError, RuntimeError, ValueError) as exc:
            await self.stop()
            raise ObserveError(str(exc)) from exc
        except BaseException:
            await self.stop()
            raise
        witness.events.emit(
            ObserveStarted(
                smtp=self.smtp.address if self.smtp else None,
                logs=list(config.logs),
                log_level_regex=config.log_level_regex if config.logs else None,
                databases=self.databases,
                pids=pids,
                interval_s=config.interval_s,
            )
        )
        self._ticker = asyncio.get_running_loop().create_task(self._tick())

    @property
    def databases(self) -> list[str]:
        """The watched databases, as they may be shown (passwords masked)."""
        return [o.shown for o in self._observers if isinstance(o, DatabaseObserver)]

    async def watch_process(self, pid: int) -> ProcessProbe:
        """Sample one more process tree from now on (an app started after the observers)."""
        probe = ProcessProbe(self.witness, pid)
        await self._add(probe)
        self.probes.append(probe)
        self.witness.events.emit(ObserveStarted(pids=[pid], interval_s=self.config.interval_s))
        return probe

    async def unwatch(self, probe: ProcessProbe) -> None:
        """A last look at a process about to be stopped, and no more after."""
        if probe in self._observers:
            await self._look(probe)
            self._observers.remove(probe)

    def _env(self) -> dict[str, str]:
        env = dict(self.app_env)
        if self.smtp is not None:
            env.update(TWSIM_SMTP_HOST=self.smtp.host, TWSIM_SMTP_PORT=str(self.smtp.port))
        return env

    async def _add(self, observer: Observer) -> None:
        await observer.start()
        self._observers.append(observer)

    async def _tick(self) -> None:
        while True:
            await self.clock.sleep(self.config.interval_s)
            await self.settle()

    async def settle(self) -> None:
        """Look at everything now."""
        for observer in self._observers:
            await self._look(observer)

    async def _look(self, observer: Observer) -> None:
        try:
            await observer.look()
        except Exception as exc:  # an observer's trouble never stops the run
            self.witness.warn(observer.name, f"{type(exc).__name__}: {exc}")

    async def stop(self) -> None:
        """Stop the app (if twsim started it), take a last look, and close everything."""
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        if self.app is not None:
            if self._app_probe is not None:
                await self.unwatch(self._app_probe)
                self._app_probe = None
            await self.app.stop()
        for observer in reversed(self._observers):
            try:
                await observer.stop()
            except Exception as exc:
                self.witness.warn(observer.name, f"{type(exc).__name__}: {exc}")
        self._observers.clear()
        if self._unwatch is not None:
            self._unwatch()
            self._unwatch = None
