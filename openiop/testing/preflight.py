"""Checks run by `make test` before pytest: in CI a missing required part fails here, loudly."""

from __future__ import annotations

import os
import shutil
import sys


def main() -> int:
    ci = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
    problems: list[str] = []
    url = os.environ.get("DATABASE_URL", "")
    if url:
        try:
            import psycopg

            conninfo = url.replace("postgres://", "postgresql://", 1)
            with psycopg.connect(conninfo, connect_timeout=5) as conn:
                conn.execute("SELECT 1")
            print(f"preflight: database reachable ({url.split('@')[-1]})")
        except Exception as exc:  # any failure to connect is fatal: never fall back to SQLite silently
            problems.append(f"DATABASE_URL is set but PostgreSQL is not reachable: {exc}")
    else:
        print("preflight: database SQLite (set DATABASE_URL for PostgreSQL)")
    # The background-job tests run the Redis task backend against a real server (openiop/jobs/tests).
    redis_url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
    try:
        import redis

        client = redis.Redis.from_url(redis_url, socket_connect_timeout=5)
        client.ping()
        client.close()
        print(f"preflight: redis reachable ({redis_url.split('@')[-1]})")
    except Exception as exc:  # the Redis backend's tests would fail one by one; say why once, up front
        problems.append(f"Redis is not reachable at {redis_url} (the background-job tests need it): {exc}")
    chromium = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if shutil.which(chromium) or os.path.exists(chromium):
        print(f"preflight: browser {chromium}")
    elif ci:
        problems.append(f"CI=true but Chromium is missing at {chromium}: run `make browser` (apt-get install chromium)")
    else:
        print(f"preflight: no Chromium at {chromium}; browser tests will be skipped (`make browser` installs it)")
    for problem in problems:
        print(f"preflight: FAIL {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
