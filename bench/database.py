"""The throwaway database a bench run uses: where it is, how to recreate it, and how Django reaches it.

The bench never touches a database it did not create: a PostgreSQL name must contain "bench", and the
SQLite file lives in its own directory (var/bench/ by default).
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_URL = "sqlite:///var/bench/openiop.sqlite3"
DEFAULT_PG_NAME = "openiop_bench"
# openiop/settings.py puts its SQLite database at $OPENIOP_VAR_DIR/openiop.sqlite3 (with WAL and
# IMMEDIATE transactions), so the bench keeps that name and moves the directory instead.
SQLITE_NAME = "openiop.sqlite3"


# The settings the bench server runs with, applied to this process too, so that what the bench does in-process (the
# plan check's requests through the test client) sees the same middleware and rules as the server's workers.
SERVER_SETTINGS = {
    "DJANGO_SETTINGS_MODULE": "openiop.settings",
    "DEBUG": "false",
    "HTTPS": "false",
    # The measured user logs in with a password only; MFA has its own tests.
    "MFA_REQUIRED_ROLES": "",
    "OPENIOP_BENCH_ENDPOINTS": "true",
    "LOG_LEVEL": "WARNING",
}


class TargetError(ValueError):
    pass


@dataclass(frozen=True)
class Target:
    vendor: str  # "sqlite" or "postgresql"
    url: str
    sqlite_path: Path | None = None
    pg_name: str = ""

    @classmethod
    def parse(cls, url: str) -> Target:
        parts = urlsplit(url)
        if parts.scheme == "sqlite":
            raw = url[len("sqlite:///") :] if url.startswith("sqlite:///") else ""
            if not raw:
                raise TargetError("write SQLite URLs as sqlite:///relative/path or sqlite:////absolute/path")
            path = Path(raw)
            path = path if path.is_absolute() else PROJECT_DIR / path
            if path.name != SQLITE_NAME:
                raise TargetError(f"the SQLite file must be named {SQLITE_NAME} (choose its directory freely)")
            return cls(vendor="sqlite", url=url, sqlite_path=path)
        if parts.scheme in ("postgres", "postgresql"):
            name = parts.path.lstrip("/") or DEFAULT_PG_NAME
            if "bench" not in name:
                raise TargetError(
                    f"refusing to drop and recreate database {name!r}: a bench database name must contain "
                    f'"bench" (e.g. {DEFAULT_PG_NAME})'
                )
            full = urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))
            return cls(vendor="postgresql", url=full, pg_name=name)
        raise TargetError(f"unsupported database URL {url!r}: use sqlite:///... or postgres://...")

    @property
    def label(self) -> str:
        if self.sqlite_path is not None:
            path = self.sqlite_path
            return f"SQLite {path.relative_to(PROJECT_DIR) if path.is_relative_to(PROJECT_DIR) else path}"
        host = urlsplit(self.url).hostname or "localhost"
        return f"PostgreSQL {host}/{self.pg_name}"

    def environment(self) -> dict[str, str]:
        """Variables that point openiop.settings at this database, for this process and the server."""
        if self.sqlite_path is not None:
            return {"DATABASE_URL": "", "OPENIOP_VAR_DIR": str(self.sqlite_path.parent)}
        return {"DATABASE_URL": self.url, "OPENIOP_VAR_DIR": str(PROJECT_DIR / "var" / "bench")}

    def recreate(self) -> None:
        """Start from an empty database."""
        if self.sqlite_path is not None:
            self.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{self.sqlite_path}{suffix}").unlink(missing_ok=True)
            return
        import psycopg
        from psycopg import sql

        parts = urlsplit(self.url)
        maintenance = urlunsplit(("postgresql", parts.netloc, "/postgres", parts.query, ""))
        with psycopg.connect(maintenance, autocommit=True) as conn:
            name = sql.Identifier(self.pg_name)
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(name))

    def exists(self) -> bool:
        if self.sqlite_path is not None:
            return self.sqlite_path.exists()
        import psycopg

        parts = urlsplit(self.url)
        maintenance = urlunsplit(("postgresql", parts.netloc, "/postgres", parts.query, ""))
        with psycopg.connect(maintenance, autocommit=True) as conn:
            row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [self.pg_name]).fetchone()
        return row is not None


def setup_django(target: Target) -> None:
    """Configure this process for the target and run the migrations (idempotent)."""
    os.environ.update(target.environment())
    os.environ.update(SERVER_SETTINGS)
    var_dir = Path(target.environment()["OPENIOP_VAR_DIR"])
    # WhiteNoise warns at every worker start when STATIC_ROOT ($OPENIOP_VAR_DIR/static) is missing.
    (var_dir / "static").mkdir(parents=True, exist_ok=True)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    from openiop.core.bench_views import ensure_table

    ensure_table()


def open_database(target: Target, *, reuse: bool, name: str) -> bool:
    """Recreate ``target`` (with ``reuse``, check that it exists instead) and migrate it, saying so under ``name``.
    False, after saying why, when ``reuse`` names a database that does not exist."""
    print(f"{name}: database {target.label}")
    if reuse:
        if not target.exists():
            print(f"{name}: --reuse, but the bench database does not exist yet", file=sys.stderr)
            return False
    else:
        target.recreate()
    began = time.perf_counter()
    setup_django(target)
    print(f"{name}: migrated in {time.perf_counter() - began:.1f}s")
    return True
