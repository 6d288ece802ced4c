from __future__ import annotations

import os
import uuid

import pytest
import redis

# A database of its own (TEST_REDIS_URL, checked by `make test`'s preflight); each test also gets its own key prefix.
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/9")


@pytest.fixture
def database_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def redis_prefix():
    """A fresh key prefix on Redis database 9; every key under it is deleted afterwards (and only those)."""
    prefix = f"openiop-test:{uuid.uuid4().hex[:12]}"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}:*", count=500))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def redis_tasks(settings, redis_prefix):
    settings.TASKS = {
        "default": {
            "BACKEND": "openiop.jobs.backends.redis.RedisBackend",
            "OPTIONS": {"URL": REDIS_URL, "PREFIX": redis_prefix, "VISIBILITY_TIMEOUT": 30},
        }
    }
    from django_tasks import default_task_backend

    return default_task_backend
