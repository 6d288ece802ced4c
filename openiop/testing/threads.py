"""Run calls at the same moment, each in its own thread with its own database connection (the race tests)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any


def together(calls: Sequence[Callable[..., Any]]) -> list[Any]:
    """Each call in a thread of its own, released at once by a barrier; their results in order (an exception in any
    is raised here). Each thread closes its connection, so the test database can be dropped afterwards."""
    from django.db import connection

    barrier = threading.Barrier(len(calls))

    def run(call: Callable[..., Any]) -> Any:
        try:
            barrier.wait(timeout=30)
            return call()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(run, call) for call in calls]
        return [f.result() for f in futures]
