"""The app's process: its whole process tree sampled with psutil on a short interval.

Each look sums, over the process and all its descendants, the CPU time used since the
last look (processes that started meanwhile count from their start; children that ended
and were waited for count through their parent), resident memory, open file descriptors
and threads, and reports them as an `app.sample` event. The tree itself is listed again
every `TREE_EVERY` looks (a child that lives between two listings still counts, through
its parent, once it has ended).
"""

from __future__ import annotations

import psutil

from twsim.model.events import AppSample
from twsim.observe.witness import Witness

MB = 1024 * 1024
# listing a tree reads every process of the machine: done every few looks, not every look
TREE_EVERY = 4


def listening_pid(port: int) -> int:
    """The process listening on TCP `port` (on any local address)."""
    for connection in psutil.net_connections(kind="tcp"):
        if (
            connection.status == psutil.CONN_LISTEN
            and connection.laddr
            and connection.laddr.port == port
            and connection.pid
        ):
            return connection.pid
    raise LookupError(f"no process of ours is listening on port {port}")


class ProcessProbe:
    """Samples a process tree: CPU used since the last look, RSS, open files, threads."""

    def __init__(self, witness: Witness, pid: int) -> None:
        self.witness = witness
        self.pid = pid
        self.name = f"process {pid}"
        self._root: psutil.Process | None = None
        self._cpu: dict[int, float] = {}  # CPU seconds of each process at the last look
        self._reaped = 0.0  # CPU seconds of the root's waited-for children
        self._since = 0.0
        self._tree: list[psutil.Process] = []
        self._looks = 0
        self.cpu_s = 0.0
        self.rss_peak_mb = 0.0

    async def start(self) -> None:
        try:
            self._root = psutil.Process(self.pid)
        except psutil.Error as exc:
            raise LookupError(f"cannot observe process {self.pid}: {exc}") from None
        self._sample()  # the starting point: CPU used before it does not count
        self._since = self.witness.now()

    async def look(self) -> None:
        since = self._since
        sample = self._sample()
        if sample is None:
            return
        self._since = self.witness.now()
        self.witness.saw(sample, since=since)

    async def stop(self) -> None:
        await self.look()

    def _sample(self) -> AppSample | None:
        root = self._root
        if root is None:
            return None
        try:
            with root.oneshot():
                times = root.cpu_times()
                reaped = times.children_user + times.children_system
            if self._looks % TREE_EVERY == 0:
                self._tree = [root, *root.children(recursive=True)]
            self._looks += 1
            tree = self._tree
        except psutil.Error:
            self.witness.warn(self.name, f"process {self.pid} has ended")
            self._root = None
            return None
        cpu: dict[int, float] = {}
        used = max(0.0, reaped - self._reaped) if self._cpu else 0.0
        rss = files = threads = 0
        for process in tree:
            try:
                with process.oneshot():
                    t = process.cpu_times()
                    seconds = t.user + t.system
                    rss += process.memory_info().rss
                    files += process.num_fds()
                    threads += process.num_threads()
            except psutil.Error:
                continue  # ended between listing and reading: its time shows as reaped
            cpu[process.pid] = seconds
            if self._cpu:
                used += max(0.0, seconds - self._cpu.get(process.pid, 0.0))
        self._cpu, self._reaped = cpu, reaped
        self.cpu_s += used
        rss_mb = rss / MB
        self.rss_peak_mb = max(self.rss_peak_mb, rss_mb)
        return AppSample(
            pid=self.pid,
            processes=len(cpu),
            cpu_ms=round(used * 1000, 3),
            rss_mb=round(rss_mb, 3),
            open_files=files,
            threads=threads,
        )
