"""Several machines, in processes: two gunicorn app servers and one `openiop worker`, sharing the test database and
Redis the way separate hosts would (docs/operations.md#more-than-one-machine), configured only by the environment
variables a deploy sets (SESSION_STORE=cache, CACHE_URL, TASKS_BACKEND=redis, REDIS_URL).

One test, since starting the processes is most of its cost: a login on app A is a login on app B; a task enqueued by
app A runs once, on the worker; a seat race split between A and B books exactly the session's capacity. The worker
tests' helpers start the processes and bound every wait (openiop/jobs/tests/test_worker_processes.py).
"""

from __future__ import annotations

import http.client
import json
import re
import signal
import subprocess
import sys
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest
import redis
from django.conf import settings
from django_tasks import TaskResultStatus, default_task_backend, task_backends

from openiop.jobs.backends.redis import RedisBackend
from openiop.jobs.tests import testjobs
from openiop.jobs.tests.conftest import REDIS_URL, redis_prefix, redis_tasks  # noqa: F401 (fixtures)
from openiop.jobs.tests.test_worker_processes import Workers, wait_for, workers  # noqa: F401 (a fixture)
from openiop.scheduling.models import Booking
from openiop.scheduling.tests.test_booking_race import _post, _token_for
from openiop.testing.scheduling import admit, local_at, make_session

pytestmark = [pytest.mark.process, pytest.mark.django_db(transaction=True)]

CAPACITY = 4
RACERS = 12  # six through each app
PASSWORD = "several-machines-password"  # a test user's


class Browser:
    """Just enough of one: a cookie jar that ignores the port, as browsers do, so app B gets app A's cookies."""

    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}

    def request(self, port: int, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, str, str]:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            for header in response.msg.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    self.cookies[name] = morsel.value
            return response.status, response.getheader("Location", ""), response.read().decode()
        finally:
            connection.close()


def _start_app(w: Workers, name: str) -> tuple[subprocess.Popen, int]:
    """gunicorn on a free loopback port (the kernel picks it; gunicorn logs which), one process of 8 threads."""
    log = w.tmp / f"{name}.log"
    command = [sys.executable, "-m", "gunicorn", "openiop.wsgi", "--bind", "127.0.0.1:0", "--worker-class", "gthread"]
    proc = subprocess.Popen(  # noqa: S603 (our own interpreter and gunicorn, fixed arguments)
        [*command, "--workers", "1", "--threads", "8", "--graceful-timeout", "5"],
        cwd=settings.PROJECT_DIR,
        env=w.env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    w.procs.append(proc)
    ports: list[int] = []

    def listening() -> bool:
        found = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", log.read_text())
        if found:
            ports.append(int(found.group(1)))
        return bool(found)

    wait_for(f"{name} to listen", listening, [proc], w)
    return proc, ports[0]


def _answers(port: int) -> bool:
    try:
        return Browser().request(port, "GET", "/accounts/login/")[0] == 200
    except OSError:
        return False  # still loading the app


def _race(ports: list[int], path: str, token: str, bodies: list[dict]) -> list[int]:
    barrier = threading.Barrier(len(bodies))
    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        futures = [
            pool.submit(_post, f"http://127.0.0.1:{ports[i % 2]}", path, token, body, barrier)
            for i, body in enumerate(bodies)
        ]
        return [f.result().status for f in futures]


def test_two_app_servers_and_a_worker_share_sessions_tasks_and_seats(
    workers,  # noqa: F811
    redis_tasks,  # noqa: F811
    redis_prefix,  # noqa: F811
    clinic,
):
    director = clinic.director
    director.set_password(PASSWORD)
    director.save(update_fields=["password"])
    racers = [admit(clinic, f"Racer{i:02d}") for i in range(RACERS)]
    session = make_session(clinic.mh, local_at(clinic.mh, 2, 9), capacity=CAPACITY)
    token = _token_for(clinic.frontdesk)

    w: Workers = workers(
        DJANGO_SETTINGS_MODULE="openiop.core.tests.multinode_settings",
        SESSION_STORE="cache",
        CACHE_URL=REDIS_URL,
        CACHE_KEY_PREFIX=redis_prefix,
        TASKS_BACKEND="redis",
        REDIS_URL=REDIS_URL,
        REDIS_TASKS_PREFIX=redis_prefix,
        MFA_REQUIRED_ROLES="",
        LOG_LEVEL="WARNING",
    )
    (app_a, port_a), (app_b, port_b) = _start_app(w, "app-a"), _start_app(w, "app-b")
    worker = w.start("mn-worker", "--no-scheduler")
    procs = [app_a, app_b, worker]
    try:
        wait_for("both apps to answer", lambda: _answers(port_a) and _answers(port_b), procs, w)

        # A login on A is a login on B: the session lives in Redis, not in either process.
        browser = Browser()
        assert browser.request(port_b, "GET", "/jobs/")[0] == 302  # not signed in yet
        assert browser.request(port_a, "GET", "/accounts/login/")[0] == 200
        status, location, _ = browser.request(
            port_a,
            "POST",
            "/accounts/login/",
            {"username": director.username, "password": PASSWORD, "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
        )
        assert status == 302 and "/accounts/login/" not in location, w.log("app-a")[-2000:]
        status, _, page = browser.request(port_b, "GET", "/jobs/")
        assert status == 200, w.log("app-b")[-2000:]
        assert 'action="/accounts/logout/"' in page
        client = redis.Redis.from_url(REDIS_URL)
        try:
            assert list(client.scan_iter(match=f"{redis_prefix}:sessions:*", count=500))
        finally:
            client.close()

        # A task enqueued by app A runs once, on the worker.
        task_token = uuid.uuid4().hex
        status, _, body = Browser().request(port_a, "POST", f"/multinode-test/enqueue/{task_token}/", {})
        assert status == 200, w.log("app-a")[-2000:]
        result_id = json.loads(body)["id"]

        def ran() -> list[tuple[str, str, int, str]]:
            return [r for r in testjobs.probe_rows() if r[1] == task_token]

        def finished() -> bool:
            result.refresh()
            return result.status == TaskResultStatus.SUCCESSFUL

        result = default_task_backend.get_result(result_id)
        wait_for("the task to run and its result", finished, procs, w)
        assert sorted((r[3], r[2]) for r in ran()) == [("end", worker.pid), ("start", worker.pid)]
        assert result.worker_ids == ["mn-worker"] and result.return_value == task_token
        backend = task_backends["default"]
        assert isinstance(backend, RedisBackend)
        assert backend.counts() == {"queued": 0, "running": 0, "failed": 0}

        # The seat race, split between the two apps: exactly the capacity is booked.
        bodies = [{"episode": str(e.public_id)} for e in racers]
        statuses = _race([port_a, port_b], f"/sessions/{session.public_id}/bookings", token, bodies)
        assert sorted(statuses) == [201] * CAPACITY + [409] * (RACERS - CAPACITY)
        session.refresh_from_db()
        assert session.booked_count == CAPACITY
        assert Booking.objects.filter(session=session, status=Booking.Status.BOOKED).count() == CAPACITY
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=30)
