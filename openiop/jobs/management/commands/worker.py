"""`openiop worker`: run background tasks and the periodic jobs. The one command an operator runs beside the web
server; run it on as many machines as you like (each slot of each periodic job still runs once)."""

from __future__ import annotations

import logging
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS
from django_tasks.exceptions import InvalidTaskBackendError

from openiop.jobs.worker import Worker


def _positive(value: str) -> float:
    number = float(value)
    if number <= 0:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = (
        "Run queued background tasks (database or Redis backend, as TASKS_BACKEND says) and the periodic jobs "
        "(alert escalation, reminders, daily deadlines...). SIGTERM stops it after the current task."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--backend", default=DEFAULT_TASK_BACKEND_ALIAS, help="TASKS alias (default: default)")
        parser.add_argument("--queue", action="append", dest="queues", help="a queue to take tasks from (repeat)")
        parser.add_argument("--once", action="store_true", help="one scheduler pass, run what is queued, then exit")
        parser.add_argument("--max-tasks", type=int, default=None, help="exit after running this many tasks")
        parser.add_argument("--no-scheduler", action="store_true", help="run tasks only, not the periodic jobs")
        parser.add_argument("--poll", type=_positive, default=1.0, help="seconds between looks at an empty queue")
        parser.add_argument(
            "--scheduler-every", type=_positive, default=5.0, help="seconds between scheduler passes (default 5)"
        )
        parser.add_argument("--worker-id", default=None, help="unique name of this worker (default host:pid:random)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["verbosity"] > 0:
            log = logging.getLogger("openiop.jobs")
            log.setLevel(logging.DEBUG if options["verbosity"] > 1 else logging.INFO)
        if options["max_tasks"] is not None and options["max_tasks"] < 1:
            raise CommandError("--max-tasks must be at least 1")
        try:
            worker = Worker(
                backend=options["backend"],
                queues=options["queues"],
                poll=options["poll"],
                scheduler=not options["no_scheduler"],
                scheduler_every=options["scheduler_every"],
                once=options["once"],
                max_tasks=options["max_tasks"],
                worker_id=options["worker_id"],
            )
        except (InvalidTaskBackendError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        worker.install_signals()
        ran = worker.run()
        if options["verbosity"] > 0:
            self.stdout.write(f"worker {worker.worker_id}: {ran} task(s) run, {worker.ticks} scheduler pass(es)")
