"""The real application server for a bench run: gunicorn with sync workers on a free local port.

Besides starting and stopping it: warming every worker before timing (the bare read names the worker that
answered), and reading the workers' memory from /proc after the load.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from bench.database import SERVER_SETTINGS
from bench.load import BenchError, Request, Session

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class Server:
    """Start gunicorn on enter, stop it (and only it) on exit; its output goes to ``log_path``."""

    def __init__(self, env: dict[str, str], workers: int, log_path: Path) -> None:
        self.port = free_port()
        self.workers = workers
        self.log_path = log_path
        self.env = {**os.environ, **env, **SERVER_SETTINGS, "ALLOWED_HOSTS": HOST}
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def __enter__(self) -> Server:
        command = [
            sys.executable, "-m", "gunicorn", "openiop.wsgi:application", "--workers", str(self.workers),
            "--worker-class", "sync", "--bind", f"{HOST}:{self.port}", "--log-level", "warning",
        ]  # fmt: skip
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        self._wait_until_ready()
        return self

    def _wait_until_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        probe = Session(HOST, self.port, timeout=5)
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log_path}")
            try:
                if probe.request(Request("GET", "/healthz"), with_cookies=False).status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.__exit__(None, None, None)
        raise RuntimeError(f"gunicorn did not answer /healthz within {timeout:.0f}s; see {self.log_path}")

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # gunicorn's master stops its workers on SIGTERM
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def worker_pids(self) -> list[int]:
        """The gunicorn workers: the processes whose parent is the master this object started."""
        if self.process is None:
            return []
        master = self.process.pid
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # the process ended meanwhile
                continue
            # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after its last ")".
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[1]) == master:
                pids.append(int(entry.name))
        return sorted(pids)

    def warm_workers(self, per_worker: int, timeout: float = 120.0) -> dict[int, int]:
        """Send bare reads, several at a time, until every worker has answered ``per_worker`` of them.

        Sync workers take connections in turn from one listening socket, so concurrent requests reach all of
        them; the first requests of a worker pay its imports, URL resolution and database connection.
        """
        expected = set(self.worker_pids())
        if len(expected) != self.workers:
            raise BenchError(f"gunicorn has {len(expected)} workers, expected {self.workers}")
        answered: Counter[int] = Counter()
        lock = threading.Lock()
        deadline = time.monotonic() + timeout
        failure: list[str] = []

        def done() -> bool:
            return all(answered[pid] >= per_worker for pid in expected)

        def client(index: int) -> None:
            session = Session(HOST, self.port)
            row = index
            while time.monotonic() < deadline and not failure:
                with lock:
                    if done():
                        return
                row = row % 1000 + 1
                response = session.request(Request("GET", f"/bench/read/{row}/"), with_cookies=False)
                if response.status != 200:
                    failure.append(f"GET /bench/read/{row}/ answered {response.status}")
                    return
                with lock:
                    answered[int(json.loads(response.body)["pid"])] += 1

        threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(2 * self.workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if failure:
            raise BenchError(f"warming the workers: {failure[0]}")
        if not done():
            counts = ", ".join(f"{pid}: {answered[pid]}" for pid in sorted(expected))
            raise BenchError(f"not every worker answered {per_worker} requests within {timeout:.0f}s ({counts})")
        return {pid: answered[pid] for pid in sorted(expected)}

    def worker_memory(self) -> list[WorkerMemory]:
        return [memory for pid in self.worker_pids() if (memory := WorkerMemory.read(pid)) is not None]


@dataclass(frozen=True)
class WorkerMemory:
    pid: int
    rss_kib: int  # VmRSS: resident now
    hwm_kib: int  # VmHWM: the most it was ever resident

    @classmethod
    def read(cls, pid: int) -> WorkerMemory | None:
        try:
            lines = Path(f"/proc/{pid}/status").read_text().splitlines()
        except OSError:  # gone, or no /proc (not Linux)
            return None
        values = {}
        for line in lines:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0])  # "123456 kB"
        if len(values) != 2:
            return None
        return cls(pid, values["VmRSS"], values["VmHWM"])


def memory_summary(workers: list[WorkerMemory]) -> dict[str, float]:
    """Max and median, in MiB, of the workers' resident and peak memory."""
    rss = [w.rss_kib / 1024 for w in workers]
    hwm = [w.hwm_kib / 1024 for w in workers]
    return {
        "rss_max": max(rss),
        "rss_median": statistics.median(rss),
        "hwm_max": max(hwm),
        "hwm_median": statistics.median(hwm),
    }
