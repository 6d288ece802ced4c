"""The real application server for a bench run: gunicorn with sync workers on a free local port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

from bench.load import Request, Session

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
        self.env = {
            **os.environ,
            **env,
            "DJANGO_SETTINGS_MODULE": "openiop.settings",
            "DEBUG": "false",
            "HTTPS": "false",
            "ALLOWED_HOSTS": HOST,
            # The measured user logs in with a password only; MFA has its own tests.
            "MFA_REQUIRED_ROLES": "",
            "OPENIOP_BENCH_ENDPOINTS": "true",
            "LOG_LEVEL": "WARNING",
        }
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
