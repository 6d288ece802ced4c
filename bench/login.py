"""Login cost: the password hasher's parameters against OWASP's guidance, and what one login costs.

OWASP's Password Storage Cheat Sheet (Argon2id) gives five equivalent minimum configurations, each trading memory
for passes, all with a parallelism of 1: m=47104 KiB (46 MiB) t=1, m=19456 KiB (19 MiB) t=2, m=12288 KiB t=3,
m=9216 KiB t=4, m=7168 KiB t=5. A configuration meets the guidance when it is Argon2id and at least one of them has
no more memory and no more passes than it. Parallelism above 1 is not counted against it: the lanes split the same
memory and passes, so an attacker's memory-time cost per guess stays the same while the server may use more cores.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

from bench.load import CSRF_FIELD, Measurement, Request, Session

OWASP_ARGON2ID = ((47104, 1), (19456, 2), (12288, 3), (9216, 4), (7168, 5))  # (memory KiB, passes), p=1
OWASP_SOURCE = "OWASP Password Storage Cheat Sheet, Argon2id"


@dataclass(frozen=True)
class Hasher:
    name: str  # the dotted path of PASSWORD_HASHERS[0]
    algorithm: str
    variant: str = ""  # "ID" for Argon2id
    time_cost: int = 0
    memory_cost: int = 0  # KiB
    parallelism: int = 0

    @property
    def is_argon2(self) -> bool:
        return self.algorithm == "argon2"

    @property
    def meets_owasp(self) -> bool:
        return (
            self.is_argon2
            and self.variant.upper() == "ID"
            and self.parallelism >= 1
            and any(self.memory_cost >= m and self.time_cost >= t for m, t in OWASP_ARGON2ID)
        )

    def describe(self) -> str:
        if not self.is_argon2:
            return f"{self.name} ({self.algorithm}): not Argon2"
        return (
            f"{self.name}: Argon2{self.variant.lower()} t={self.time_cost} m={self.memory_cost} KiB "
            f"({self.memory_cost / 1024:.0f} MiB) p={self.parallelism}"
        )


def configured_hasher() -> Hasher:
    """PASSWORD_HASHERS[0], the one new and upgraded passwords are stored with (Django must be set up)."""
    from django.conf import settings
    from django.contrib.auth.hashers import get_hasher

    hasher = get_hasher("default")
    name = settings.PASSWORD_HASHERS[0]
    if hasher.algorithm != "argon2":
        return Hasher(name, str(hasher.algorithm))
    # Django's Argon2PasswordHasher.params() builds the argon2-cffi parameters it hashes with, variant included.
    params = hasher.params()  # type: ignore[attr-defined]
    return Hasher(
        name,
        "argon2",
        variant=params.type.name,
        time_cost=int(params.time_cost),
        memory_cost=int(params.memory_cost),
        parallelism=int(params.parallelism),
    )


def owasp_line() -> str:
    options = ", ".join(f"m={m} KiB t={t}" for m, t in OWASP_ARGON2ID)
    return f"{OWASP_SOURCE}: p=1 and one of {options}"


def verify_times(samples: int) -> list[float]:
    """Seconds per ``check_password`` with the configured hasher, in this process (no database, no server)."""
    from django.contrib.auth.hashers import check_password, make_password

    encoded = make_password("bench-login-cost-password")
    times = []
    for _ in range(samples):
        began = time.perf_counter()
        if not check_password("bench-login-cost-password", encoded):
            raise RuntimeError("the configured hasher did not verify its own hash")
        times.append(time.perf_counter() - began)
    return times


def median_ms(seconds: list[float]) -> float:
    return statistics.median(seconds) * 1000


def time_logins(host: str, port: int, username: str, password: str, duration: float, warmup: int = 2) -> Measurement:
    """Real logins through the server, one client: each a fresh browser that GETs the form (not timed), then POSTs it.

    Only the POST is timed: it is the request that verifies the password, rotates the session and writes it. The
    throughput is successful logins per second of POST time.
    """
    result = Measurement(clients=1)

    def login_once() -> tuple[float, str]:
        session = Session(host, port)
        page = session.request(Request("GET", "/accounts/login/"))
        match = CSRF_FIELD.search(page.body.decode(errors="replace"))
        if page.status != 200 or match is None:
            return 0.0, f"GET /accounts/login/ answered {page.status}"
        form = {"csrfmiddlewaretoken": match.group(1), "username": username, "password": password}
        began = time.perf_counter()
        response = session.request(Request("POST", "/accounts/login/", form))
        took = time.perf_counter() - began
        if response.status != 302 or "sessionid" not in session.cookies:
            return took, f"POST /accounts/login/ answered {response.status}"
        return took, ""

    for _ in range(warmup):
        login_once()
    deadline = time.perf_counter() + duration
    while time.perf_counter() < deadline:
        took, error = login_once()
        if error:
            result.errors += 1
            result.first_error = result.first_error or error
            if result.errors >= 3:  # stop before the lockout (django-axes) would lock the bench user out
                break
        else:
            result.latencies.append(took)
    result.elapsed = sum(result.latencies)
    return result
