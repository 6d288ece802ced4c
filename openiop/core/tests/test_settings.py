from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest


def _run_check(extra_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DEBUG", "HTTPS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update(extra_env)
    return subprocess.run(
        [sys.executable, "-m", "openiop.cli", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_settings_pass_check_deploy_with_no_warnings(tmp_path):
    result = _run_check(
        {
            "DEBUG": "false",
            "HTTPS": "true",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "AUDIT_HMAC_KEYS": f"k1:{secrets.token_urlsafe(40)}",
            "ALLOWED_HOSTS": "iop.example.org",
            "OPENIOP_VAR_DIR": str(tmp_path),
        }
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_the_development_secret_key(tmp_path):
    result = _run_check(
        {"HTTPS": "true", "ALLOWED_HOSTS": "iop.example.org", "OPENIOP_VAR_DIR": str(tmp_path), "SECRET_KEY": ""}
    )
    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def test_secret_key_can_come_from_a_file(tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text(secrets.token_urlsafe(50))
    key_file.with_name("audit").write_text(f"2026:{secrets.token_urlsafe(40)}\n")
    result = _run_check(
        {
            "HTTPS": "true",
            "ALLOWED_HOSTS": "iop.example.org",
            "OPENIOP_VAR_DIR": str(tmp_path),
            "SECRET_KEY_FILE": str(key_file),
            "AUDIT_HMAC_KEYS_FILE": str(key_file.with_name("audit")),
        }
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("0", False), ("", False)])
def test_envbool(monkeypatch, value, expected):
    from openiop.settings import envbool

    monkeypatch.setenv("OPENIOP_FLAG", value)
    assert envbool("OPENIOP_FLAG", False) is expected


def test_sqlite_runs_in_wal_mode_with_immediate_transactions(db):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite-specific; the PostgreSQL run covers the other database")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
    assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_passwords_are_hashed_with_argon2():
    """Tests swap in a fast hasher (conftest); the real settings must put Argon2 first, and it must work."""
    from django.contrib.auth.hashers import Argon2PasswordHasher

    from openiop import settings as real

    assert real.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    hasher = Argon2PasswordHasher()
    encoded = hasher.encode("correct horse battery staple", hasher.salt())
    assert encoded.startswith("argon2$argon2id$")
    assert hasher.verify("correct horse battery staple", encoded)


def _site_url(extra_env: dict[str, str]) -> str:
    env = {k: v for k, v in os.environ.items() if k not in {"SITE_URL", "PORT", "HTTPS", "DJANGO_SETTINGS_MODULE"}}
    env.update(extra_env)
    code = "import django.conf, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'openiop.settings'; "
    code += "print(django.conf.settings.SITE_URL)"
    result = subprocess.run(  # noqa: S603 (our own interpreter and a fixed script)
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    return result.stdout.strip()


def test_email_links_follow_the_served_port_unless_site_url_is_set():
    # `make demo PORT=8123` passes PORT through DEMO_ENV: invitation and Book Now links must reach that server.
    assert _site_url({"PORT": "8123"}) == "http://127.0.0.1:8123"
    assert _site_url({}) == "http://127.0.0.1:8000"
    assert _site_url({"PORT": "8123", "SITE_URL": "https://iop.example.org/"}) == "https://iop.example.org"


def _settings_with(monkeypatch, **env: str) -> dict:
    """Run settings.py afresh with ``env`` (no Django setup: the module is plain Python)."""
    import runpy

    from openiop import settings

    for name in ("AUDIT_HMAC_KEYS", "AUDIT_HMAC_KEYS_FILE", "AUDIT_HMAC_KEY_ID", "OPENIOP_ALLOW_DEV_KEY", "HTTPS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(settings.__file__)


def test_audit_keys_come_from_the_environment_and_rotate(monkeypatch):
    loaded = _settings_with(monkeypatch, AUDIT_HMAC_KEYS=f"old:{'o' * 32}, new:{'n' * 32}")
    assert loaded["AUDIT_HMAC_KEYS"] == {"old": "o" * 32, "new": "n" * 32}
    assert loaded["AUDIT_HMAC_KEY_ID"] == "new"  # the last listed, unless AUDIT_HMAC_KEY_ID says otherwise
    assert (
        _settings_with(monkeypatch, AUDIT_HMAC_KEYS=f"a:{'a' * 32}", AUDIT_HMAC_KEY_ID="a")["AUDIT_HMAC_KEY_ID"] == "a"
    )
    # The demo and tests: a key derived from SECRET_KEY.
    assert list(_settings_with(monkeypatch)["AUDIT_HMAC_KEYS"]) == ["dev"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"HTTPS": "true", "SECRET_KEY": "s" * 50}, "Set AUDIT_HMAC_KEYS"),
        ({"AUDIT_HMAC_KEYS": "short:abc"}, "a secret of 32+"),
        ({"AUDIT_HMAC_KEYS": "x" * 40}, "entries are id:secret"),
        ({"AUDIT_HMAC_KEYS": f"a:{'a' * 32}", "AUDIT_HMAC_KEY_ID": "b"}, "is not one of AUDIT_HMAC_KEYS"),
    ],
)
def test_audit_keys_are_refused_when_missing_in_production_or_malformed(monkeypatch, env, message):
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match=message):
        _settings_with(monkeypatch, **env)
