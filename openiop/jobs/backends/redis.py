"""A django-tasks backend on Redis, for deployments where workers run on several machines.

Why our own (docs/decisions/0201-background-jobs.md): the RQ backend hands a killed worker's job to the failed
registry instead of running it again, and django-tasks-redis needs Django 6. This one is a reliable queue:

    P:task:<id>          hash: the task, its state and, once finished, its result (expires RESULT_TTL later)
    P:sequence:<queue>   counter giving each enqueued task its place in line
    P:ready:<queue>      sorted set of ids ready to run; score = priority band, then enqueue order (lowest first)
    P:scheduled:<queue>  sorted set of ids whose run_after is still ahead; score = run_after (ms)
    P:processing:<queue> sorted set of ids being run; score = the visibility deadline (ms)
    P:failed             sorted set of failed ids by finish time (the staff page's count)

A worker takes a task with one Lua script (atomic on the server): due scheduled tasks move to ready, tasks whose
deadline passed (their worker died without finishing) move back to ready, then the first ready id moves to
processing with a deadline ``VISIBILITY_TIMEOUT`` ahead. While the task runs the worker renews the deadline
(``renew``); when it finishes, ``set_successful``/``set_failed`` remove it from processing and store the result.
So a job is delivered at least once: a killed worker's job runs again on another worker once its deadline passes.
Task functions must therefore be idempotent (the periodic jobs are; see openiop/jobs/README.md).

Tracebacks are stored without the exception's message (messages can carry patient data); the class is kept.
Options (``TASKS["default"]["OPTIONS"]``): ``URL`` (redis://...), ``PREFIX`` (key prefix), ``VISIBILITY_TIMEOUT``
and ``RESULT_TTL`` in seconds.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TypeVar

import redis
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks.backends.base import BaseTaskBackend
from django_tasks.base import TASK_MAX_PRIORITY, Task, TaskError, TaskResult, TaskResultStatus
from django_tasks.exceptions import TaskResultDoesNotExist
from django_tasks.signals import task_enqueued
from django_tasks.utils import get_module_path, get_random_id, normalize_json
from typing_extensions import ParamSpec

T = TypeVar("T")
P = ParamSpec("P")

DEFAULT_URL = "redis://127.0.0.1:6379/0"
DEFAULT_PREFIX = "openiop:tasks"
DEFAULT_VISIBILITY_TIMEOUT = 60
DEFAULT_RESULT_TTL = 7 * 24 * 3600
# Priority bands are 10^13 enqueues wide, so the enqueue sequence never crosses into the next band, and the
# largest score (200 bands) stays below 2^53, where a double still holds every integer exactly.
_BAND = 10**13

# KEYS: ready, scheduled, processing. ARGV: now (ms), deadline (ms), task key prefix, worker id, now (ISO).
_CLAIM = """
local now = tonumber(ARGV[1])
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
for _, id in ipairs(due) do
  redis.call('ZREM', KEYS[2], id)
  local score = redis.call('HGET', ARGV[3] .. id, 'score')
  if score then redis.call('ZADD', KEYS[1], tonumber(score), id) end
end
local lost = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)
for _, id in ipairs(lost) do
  redis.call('ZREM', KEYS[3], id)
  local score = redis.call('HGET', ARGV[3] .. id, 'score')
  if score then
    redis.call('HSET', ARGV[3] .. id, 'status', 'READY')
    redis.call('ZADD', KEYS[1], tonumber(score), id)
  end
end
while true do
  local popped = redis.call('ZPOPMIN', KEYS[1])
  if #popped == 0 then return false end
  local id = popped[1]
  local key = ARGV[3] .. id
  if redis.call('EXISTS', key) == 1 then
    redis.call('ZADD', KEYS[3], tonumber(ARGV[2]), id)
    local workers = redis.call('HGET', key, 'worker_ids')
    if workers and workers ~= '' then workers = workers .. ',' .. ARGV[4] else workers = ARGV[4] end
    redis.call('HSET', key, 'status', 'RUNNING', 'started_at', ARGV[5], 'worker_ids', workers)
    return id
  end
end
"""


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _iso(moment: datetime | None) -> str:
    return moment.astimezone(UTC).isoformat() if moment is not None else ""


def _from_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def safe_traceback(exc: BaseException) -> str:
    """Where it was raised and the exception's class, without its message (which may quote patient data)."""
    stack = "".join(traceback.format_tb(exc.__traceback__))
    return f"Traceback (most recent call last):\n{stack}{get_module_path(type(exc))} (message not stored)\n"


class RedisBackend(BaseTaskBackend):
    supports_defer = True
    supports_get_result = True
    supports_priority = True
    supports_async_task = False

    def __init__(self, alias: str, params: dict) -> None:
        super().__init__(alias, params)
        options = {str(k).upper(): v for k, v in self.options.items()}
        self.url: str = options.get("URL") or DEFAULT_URL
        self.prefix: str = options.get("PREFIX") or DEFAULT_PREFIX
        self.visibility_timeout = float(options.get("VISIBILITY_TIMEOUT") or DEFAULT_VISIBILITY_TIMEOUT)
        self.result_ttl = int(options.get("RESULT_TTL") or DEFAULT_RESULT_TTL)
        if self.visibility_timeout <= 0:
            raise ImproperlyConfigured("VISIBILITY_TIMEOUT must be positive")
        self._client: redis.Redis | None = None
        self._claim_script: Any = None

    # --- Keys and connection -------------------------------------------------------------------------------------

    @property
    def client(self) -> redis.Redis:
        if self._client is None:
            self._client = redis.Redis.from_url(self.url, decode_responses=True, health_check_interval=30)
        return self._client

    def _task_key(self, result_id: str) -> str:
        return f"{self.prefix}:task:{result_id}"

    def _key(self, kind: str, queue_name: str) -> str:
        return f"{self.prefix}:{kind}:{queue_name}"

    @property
    def _failed_key(self) -> str:
        return f"{self.prefix}:failed"

    # --- The django-tasks API ------------------------------------------------------------------------------------

    def enqueue(
        self,
        task: Task[P, T],
        args: P.args,  # type: ignore[valid-type]
        kwargs: P.kwargs,  # type: ignore[valid-type]
    ) -> TaskResult[T]:
        self.validate_task(task)
        result_id = get_random_id()
        now = timezone.now()
        args_kwargs = normalize_json({"args": args, "kwargs": kwargs})
        # A counter, not the clock: tasks enqueued in the same millisecond (or on machines whose clocks differ)
        # still run first in, first out within their priority band.
        sequence = int(self.client.incr(self._key("sequence", task.queue_name)))
        score = (TASK_MAX_PRIORITY - task.priority) * _BAND + sequence
        fields = {
            "task_path": task.module_path,
            "queue_name": task.queue_name,
            "priority": task.priority,
            "backend": self.alias,
            "args_kwargs": json.dumps(args_kwargs),
            "status": TaskResultStatus.READY.value,
            "enqueued_at": _iso(now),
            "run_after": _iso(task.run_after),
            "started_at": "",
            "finished_at": "",
            "worker_ids": "",
            "score": score,
        }
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(self._task_key(result_id), mapping=fields)  # type: ignore[arg-type]
        if task.run_after is not None and task.run_after > now:
            pipe.zadd(self._key("scheduled", task.queue_name), {result_id: _ms(task.run_after)})
        else:
            pipe.zadd(self._key("ready", task.queue_name), {result_id: score})
        pipe.execute()
        result: TaskResult[T] = TaskResult(
            task=task,
            id=result_id,
            status=TaskResultStatus.READY,
            enqueued_at=now,
            started_at=None,
            last_attempted_at=None,
            finished_at=None,
            args=args_kwargs["args"],
            kwargs=args_kwargs["kwargs"],
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )
        task_enqueued.send(type(self), task_result=result)
        return result

    def get_result(self, result_id: str) -> TaskResult:
        data: dict[str, str] = self.client.hgetall(self._task_key(result_id))  # type: ignore[assignment]
        if not data:
            raise TaskResultDoesNotExist(result_id)
        return self._result_from(result_id, data)

    def _result_from(self, result_id: str, data: dict[str, str]) -> TaskResult:
        task = import_string(data["task_path"])
        if not isinstance(task, Task):
            raise SuspiciousOperation(f"Task {result_id} does not point to a Task")
        run_after = _from_iso(data.get("run_after"))
        args_kwargs = json.loads(data["args_kwargs"])
        status = TaskResultStatus(data["status"])
        errors = []
        if status == TaskResultStatus.FAILED:
            errors.append(
                TaskError(
                    exception_class_path=data.get("exception_class_path", ""), traceback=data.get("traceback", "")
                )
            )
        started_at = _from_iso(data.get("started_at"))
        result: TaskResult[Any] = TaskResult(
            task=task.using(
                priority=int(data["priority"]),
                queue_name=data["queue_name"],
                run_after=run_after,
                backend=data["backend"],
            ),
            id=result_id,
            status=status,
            enqueued_at=_from_iso(data.get("enqueued_at")),
            started_at=started_at,
            last_attempted_at=started_at,
            finished_at=_from_iso(data.get("finished_at")),
            args=args_kwargs["args"],
            kwargs=args_kwargs["kwargs"],
            backend=data["backend"],
            errors=errors,
            worker_ids=[w for w in data.get("worker_ids", "").split(",") if w],
        )
        if data.get("return_value"):
            object.__setattr__(result, "_return_value", json.loads(data["return_value"]))
        return result

    # --- What the worker uses ------------------------------------------------------------------------------------

    def claim(self, worker_id: str, queue_names: Iterable[str] | None = None) -> TaskResult | None:
        """Take the next ready task for ``worker_id`` (re-delivering any whose worker's deadline passed), or None."""
        if self._claim_script is None:
            self._claim_script = self.client.register_script(_CLAIM)
        for queue_name in sorted(queue_names or self.queues):
            now = timezone.now()
            deadline = _ms(now) + int(self.visibility_timeout * 1000)
            keys = [self._key(kind, queue_name) for kind in ("ready", "scheduled", "processing")]
            result_id = self._claim_script(
                keys=keys, args=[_ms(now), deadline, f"{self.prefix}:task:", worker_id, _iso(now)]
            )
            if result_id:
                return self.get_result(result_id)
        return None

    def renew(self, result: TaskResult) -> None:
        """Push a running task's deadline ahead again (only while it is still ours to run)."""
        deadline = _ms(timezone.now()) + int(self.visibility_timeout * 1000)
        self.client.zadd(self._key("processing", result.task.queue_name), {result.id: deadline}, xx=True)

    def set_successful(self, result: TaskResult, return_value: Any) -> None:
        self._finish(
            result,
            {
                "status": TaskResultStatus.SUCCESSFUL.value,
                "return_value": json.dumps(normalize_json(return_value)),
                "exception_class_path": "",
                "traceback": "",
            },
        )

    def set_failed(self, result: TaskResult, exc: BaseException) -> None:
        self._finish(
            result,
            {
                "status": TaskResultStatus.FAILED.value,
                "return_value": "",
                "exception_class_path": get_module_path(type(exc)),
                "traceback": safe_traceback(exc),
            },
            failed=True,
        )

    def _finish(self, result: TaskResult, fields: dict[str, str], *, failed: bool = False) -> None:
        now = timezone.now()
        key = self._task_key(result.id)
        mapping: dict[Any, Any] = {**fields, "finished_at": _iso(now)}
        pipe = self.client.pipeline(transaction=True)
        pipe.zrem(self._key("processing", result.task.queue_name), result.id)
        pipe.hset(key, mapping=mapping)
        pipe.expire(key, self.result_ttl)
        pipe.zremrangebyscore(self._failed_key, "-inf", _ms(now) - self.result_ttl * 1000)
        if failed:
            pipe.zadd(self._failed_key, {result.id: _ms(now)})
        pipe.execute()

    def counts(self) -> dict[str, int]:
        """Queued (ready and scheduled), running and failed (within RESULT_TTL) tasks, for the staff page."""
        now = _ms(timezone.now())
        pipe = self.client.pipeline(transaction=False)
        for queue_name in sorted(self.queues):
            pipe.zcard(self._key("ready", queue_name))
            pipe.zcard(self._key("scheduled", queue_name))
            pipe.zcard(self._key("processing", queue_name))
        pipe.zcount(self._failed_key, now - self.result_ttl * 1000, "+inf")
        answers = [int(n) for n in pipe.execute()]
        queued = sum(answers[i] + answers[i + 1] for i in range(0, len(answers) - 1, 3))
        running = sum(answers[i + 2] for i in range(0, len(answers) - 1, 3))
        return {"queued": queued, "running": running, "failed": answers[-1]}
