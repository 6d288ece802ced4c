"""A small browser-like HTTP client and the load loop: N threads, warm-up, then a timed phase.

Standard library only. Each request opens its own connection, as gunicorn's sync workers close every
connection after one response anyway.
"""

from __future__ import annotations

import http.client
import math
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlencode

CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken"\s+value="([^"]+)"')
USER_AGENT = "openiop-bench/1"


class BenchError(RuntimeError):
    pass


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    form: dict[str, str] | None = None
    headers: dict[str, str] | None = None
    body: bytes | None = None  # sent as is (e.g. JSON for the API; give its Content-Type in headers)


@dataclass(frozen=True)
class Response:
    status: int
    location: str
    body: bytes


class Session:
    """Cookies plus a request method; ``login`` goes through the real login form, CSRF token and all."""

    def __init__(self, host: str, port: int, timeout: float = 60.0) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.logged_in_at: float | None = None  # time.monotonic() of the last login

    def request(self, request: Request, *, with_cookies: bool = True) -> Response:
        headers = {"User-Agent": USER_AGENT, "Host": f"{self.host}:{self.port}"}
        body: bytes | None = None
        if request.form is not None:
            body = urlencode(request.form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif request.body is not None:
            body = request.body
        if with_cookies and self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            if request.method == "POST" and "csrftoken" in self.cookies:
                headers["X-CSRFToken"] = self.cookies["csrftoken"]  # as the pages' HTMX requests send it
        headers.update(request.headers or {})
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            conn.request(request.method, request.path, body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            if with_cookies:
                self._remember(response.headers.get_all("Set-Cookie") or [])
            return Response(response.status, response.headers.get("Location", ""), payload)
        finally:
            conn.close()

    def _remember(self, set_cookies: list[str]) -> None:
        for header in set_cookies:
            jar: SimpleCookie = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def login(self, username: str, password: str) -> None:
        self.cookies.clear()
        page = self.request(Request("GET", "/accounts/login/"))
        match = CSRF_FIELD.search(page.body.decode(errors="replace"))
        if page.status != 200 or match is None:
            raise BenchError(f"GET /accounts/login/ answered {page.status} without a CSRF token")
        form = {"csrfmiddlewaretoken": match.group(1), "username": username, "password": password}
        response = self.request(Request("POST", "/accounts/login/", form))
        if response.status != 302 or "sessionid" not in self.cookies:
            raise BenchError(f"login as {username} failed: HTTP {response.status}")
        if "/mfa/" in response.location:
            raise BenchError(f"login as {username} stopped at {response.location}: start the server without MFA")
        self.logged_in_at = time.monotonic()


@dataclass
class Measurement:
    clients: int
    latencies: list[float] = field(default_factory=list)  # seconds, successful requests only
    errors: int = 0
    first_error: str = ""
    elapsed: float = 0.0

    @property
    def requests(self) -> int:
        return len(self.latencies) + self.errors

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def percentile(self, q: float) -> float:
        """Nearest-rank percentile in milliseconds."""
        if not self.latencies:
            return math.nan
        ordered = sorted(self.latencies)
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)] * 1000


def run_load(
    sessions: list[Session],
    make_request: Callable[[random.Random], Request],
    *,
    expect: int,
    with_cookies: bool,
    requests: int,
    duration: float | None,
    warmup: int,
    seed: int,
) -> Measurement:
    """Each session gets a thread; all warm up, wait for each other, then run the timed phase together.

    The timed phase is ``requests`` requests in all (shared out evenly), or ``duration`` seconds if given.
    """
    clients = len(sessions)
    result = Measurement(clients=clients)
    lock = threading.Lock()
    started: list[float] = []
    barrier = threading.Barrier(clients, action=lambda: started.append(time.perf_counter()))
    quotas = [requests // clients + (1 if i < requests % clients else 0) for i in range(clients)]

    def one(session: Session, rng: random.Random) -> tuple[float, str]:
        request = make_request(rng)
        begin = time.perf_counter()
        try:
            response = session.request(request, with_cookies=with_cookies)
        except (OSError, http.client.HTTPException) as exc:
            return time.perf_counter() - begin, f"{request.method} {request.path}: {exc!r}"
        took = time.perf_counter() - begin
        if response.status != expect:
            where = f" -> {response.location}" if response.location else ""
            return took, f"{request.method} {request.path}: HTTP {response.status}{where}"
        return took, ""

    def worker(index: int) -> None:
        session = sessions[index]
        rng = random.Random(seed * 1000 + index)
        for _ in range(warmup):
            one(session, rng)
        barrier.wait()
        deadline = started[0] + duration if duration else math.inf
        done = 0
        latencies: list[float] = []
        errors: list[str] = []
        while (done < quotas[index]) if duration is None else (time.perf_counter() < deadline):
            took, error = one(session, rng)
            if error:
                errors.append(error)
            else:
                latencies.append(took)
            done += 1
        with lock:
            result.latencies.extend(latencies)
            result.errors += len(errors)
            if errors and not result.first_error:
                result.first_error = errors[0]

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.elapsed = time.perf_counter() - started[0]
    return result
