"""Django settings for OpenIOP.

Every deploy-specific value comes from the environment (see .env.example). Defaults are the embedded
demo: SQLite in ./var, no HTTPS. With DEBUG off the secure defaults switch on, and
``openiop check --deploy`` passes with no warnings once SECRET_KEY and ALLOWED_HOSTS are set.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import csp.constants as csp
import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def envlist(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def envsecret(name: str, default: str = "") -> str:
    """Read NAME, or the file named by NAME_FILE (Docker/Kubernetes secrets)."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text().strip()
    return os.environ.get(name, default)


DEBUG = envbool("DEBUG", False)
# HTTPS=true is the production switch: secure cookies, HSTS, SSL redirect, hashed static files, and a real
# SECRET_KEY required. Off by default so a checkout, the demo and the tests run on plain http://127.0.0.1.
HTTPS = envbool("HTTPS", False)

_INSECURE_DEV_KEY = "openiop-insecure-development-key-never-use-in-production-0123456789"
SECRET_KEY = envsecret("SECRET_KEY") or _INSECURE_DEV_KEY
if SECRET_KEY == _INSECURE_DEV_KEY and HTTPS and not envbool("OPENIOP_ALLOW_DEV_KEY", False):
    # A production deploy (HTTPS on) must never run with the published development key.
    raise ImproperlyConfigured("Set SECRET_KEY (or SECRET_KEY_FILE) when HTTPS is on.")

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])
# The absolute address in emails (invitations, Book Now, alerts, reminders). Unset, it is the local server on PORT
# (what `make demo PORT=...` and `make serve PORT=...` listen on), so the demo's links reach the running demo.
SITE_URL = (os.environ.get("SITE_URL") or f"http://127.0.0.1:{os.environ.get('PORT') or 8000}").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "openiop.core",
    "openiop.accounts",
    "openiop.programs",
    "openiop.patients",
    "openiop.scheduling",
    "openiop.attendance",
    "openiop.worklist",
    "openiop.billing",
    "openiop.measures",
    "openiop.referrals",
    "openiop.intake",
    "openiop.consents",
    "openiop.plans",
    "openiop.notes",
    "openiop.discharge",
    "openiop.skills",
    "openiop.medications",
    "openiop.recovery",
    "openiop.labs",
    "openiop.utilization",
    "openiop.claims",
    "openiop.api",
    "openiop.portal",
    "openiop.family",
    "openiop.reminders",
    "openiop.ledger",
    "openiop.jobs",
    "openiop.home",
    "openiop.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Below WhiteNoise (static files keep their own headers), above the rest (every page, error and redirect gets
    # them): the content security policy, then the permissions policy and no-store (openiop/core/headers.py), then
    # the API's own: 415 for a body that is not JSON, WWW-Authenticate on its 401s (openiop/api/guards.py).
    "csp.middleware.CSPMiddleware",
    "openiop.core.headers.SecurityHeadersMiddleware",
    "openiop.api.guards.ApiGuardMiddleware",
    # Before anything reads the input: a NUL or non-UTF-8 byte gets a 400, never a database error.
    "openiop.core.input_guard.InputGuardMiddleware",
    # With a read replica only: which reads may go to it, and the cookie that sends a client's reads to the primary
    # for a while after it writes (openiop/core/dbrouter.py).
    *(["openiop.core.dbrouter.ReplicaMiddleware"] if os.environ.get("DATABASE_REPLICA_URL") else []),
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "openiop.core.middleware.RequestContextMiddleware",
    "openiop.accounts.middleware.SessionTimeoutMiddleware",
    "openiop.accounts.middleware.MFAEnforcementMiddleware",
    # After authentication and the second factor: a patient or family login asking for a staff URL gets its portal.
    "openiop.portal.middleware.PortalSeparationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "openiop.urls"
WSGI_APPLICATION = "openiop.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "openiop.core.context_processors.openiop",
                "openiop.worklist.context_processors.worklist",
                "openiop.patients.context_processors.emergency_reviews",
                "openiop.measures.context_processors.safety_alerts",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------------
# SQLite is the embedded default; DATABASE_URL switches to PostgreSQL (production and CI).
VAR_DIR = Path(os.environ.get("OPENIOP_VAR_DIR", PROJECT_DIR / "var"))
DATABASE_URL = os.environ.get("DATABASE_URL", "")
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
if DATABASE_REPLICA_URL and not DATABASE_URL:
    raise ImproperlyConfigured("DATABASE_REPLICA_URL needs DATABASE_URL: a replica of PostgreSQL, not of SQLite.")
DATABASE_ROUTERS: list[str] = []
# After a write (any method but GET, HEAD, OPTIONS, TRACE), that client's reads stay on the primary this long.
DATABASE_REPLICA_PIN_SECONDS = envint("DATABASE_REPLICA_PIN_SECONDS", 15)
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=envint("DB_CONN_MAX_AGE", 60))}
    if DATABASE_REPLICA_URL:
        # A streaming replica of the primary, read by the report pages and the API's GETs only (core/dbrouter.py,
        # docs/operations.md#more-than-one-machine). Never migrated; the tests mirror it onto the primary.
        DATABASES["replica"] = {
            **dj_database_url.parse(DATABASE_REPLICA_URL, conn_max_age=envint("DB_CONN_MAX_AGE", 60)),
            "TEST": {"MIRROR": "default"},
        }
        DATABASE_ROUTERS = ["openiop.core.dbrouter.ReplicaRouter"]
    # PgBouncer in transaction mode hands each transaction a different server connection, so nothing may outlive
    # one: server-side cursors (a .iterator() outside a transaction) and psycopg's automatic prepared statements
    # (before PgBouncer 1.21's own prepared-statement support) both would.
    if envbool("DB_DISABLE_SERVER_SIDE_CURSORS", False):
        for _alias in DATABASES:
            DATABASES[_alias]["DISABLE_SERVER_SIDE_CURSORS"] = True
            DATABASES[_alias].setdefault("OPTIONS", {})["prepare_threshold"] = None
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "openiop.sqlite3"),
            "OPTIONS": {
                # IMMEDIATE takes the write lock at BEGIN, so two writers queue instead of failing midway
                # with "database is locked"; WAL lets readers run during a write.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
            },
            # One test database file per test process, so runs side by side in one checkout never share it
            # (pytest-django deletes it at the end; OPENIOP_TEST_DB names it explicitly).
            "TEST": {"NAME": os.environ.get("OPENIOP_TEST_DB", str(VAR_DIR / f"test-{os.getpid()}.sqlite3"))},
        }
    }

# --- Cache ----------------------------------------------------------------------------------------------
# Shared by every process, because what it holds must hold across them (Book Now's rate limit): the database cache by
# default (its table is made by core's migration 0004, so `migrate` is enough), or Redis when CACHE_URL names one
# (redis:// or rediss://; Django's RedisCache on redis-py). docs/decisions/0013-shared-cache.md
CACHE_URL = os.environ.get("CACHE_URL", "")
CACHE_TABLE = "openiop_cache"
CACHE_KEY_PREFIX = os.environ.get("CACHE_KEY_PREFIX", "")  # several installs (or test runs) on one Redis
# Redis calls give up after CACHE_TIMEOUT_SECONDS rather than hang a request on a server that stopped answering.
_redis_options = {
    "socket_connect_timeout": envint("CACHE_TIMEOUT_SECONDS", 5),
    "socket_timeout": envint("CACHE_TIMEOUT_SECONDS", 5),
    "health_check_interval": 30,
}
if CACHE_URL.startswith(("redis://", "rediss://")):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            "OPTIONS": _redis_options,
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": CACHE_TABLE,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
        }
    }

# --- Where sessions live: SESSION_STORE=db (the default: the main database, nothing else to run) or cache (Redis, in
# a cache alias of its own: SESSION_CACHE_URL, default CACHE_URL). docs/decisions/1603-several-machines.md
SESSION_STORE = os.environ.get("SESSION_STORE", "db")
if SESSION_STORE == "cache":
    _session_url = os.environ.get("SESSION_CACHE_URL") or CACHE_URL
    if not _session_url.startswith(("redis://", "rediss://")):
        # The database cache culls its oldest entries past MAX_ENTRIES (300): it would sign people out at random.
        raise ImproperlyConfigured("SESSION_STORE=cache needs SESSION_CACHE_URL (or CACHE_URL) naming Redis.")
    CACHES["sessions"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": _session_url,
        "KEY_PREFIX": f"{CACHE_KEY_PREFIX}:sessions" if CACHE_KEY_PREFIX else "sessions",
        "OPTIONS": _redis_options,
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cache"
    SESSION_CACHE_ALIAS = "sessions"
elif SESSION_STORE != "db":
    raise ImproperlyConfigured(f"SESSION_STORE must be db or cache, not {SESSION_STORE!r}")

# --- Audit trail keys and anchors (docs/decisions/0006-audit-hash-chain.md, docs/operations.md) ---------------------
# Each audit row carries an HMAC-SHA256 under a key kept outside the database, named by its id in the row, so a
# database writer cannot forge rows. AUDIT_HMAC_KEYS="id:secret,id2:secret2" (or AUDIT_HMAC_KEYS_FILE) lists every
# key rows were ever written with; AUDIT_HMAC_KEY_ID names the one new rows use (default: the last listed).
# Without them, a key derived from SECRET_KEY (id "dev"): fine for the demo and tests, refused when HTTPS is on.
AUDIT_HMAC_KEYS: dict[str, str] = {}
for _item in envsecret("AUDIT_HMAC_KEYS").split(","):
    _id, _sep, _secret = (part.strip() for part in _item.partition(":"))
    if not _item.strip():
        continue
    if not _sep or not 1 <= len(_id) <= 32 or len(_secret) < 32:
        raise ImproperlyConfigured("AUDIT_HMAC_KEYS entries are id:secret (an id of 1-32 characters, a secret of 32+).")
    AUDIT_HMAC_KEYS[_id] = _secret
if not AUDIT_HMAC_KEYS:
    if HTTPS and not envbool("OPENIOP_ALLOW_DEV_KEY", False):
        # Derived from SECRET_KEY it would live wherever the settings do; production keeps it apart, and rotates it.
        raise ImproperlyConfigured("Set AUDIT_HMAC_KEYS (or AUDIT_HMAC_KEYS_FILE) when HTTPS is on.")
    AUDIT_HMAC_KEYS = {"dev": hashlib.sha256(f"openiop-audit-hmac:{SECRET_KEY}".encode()).hexdigest()}
AUDIT_HMAC_KEY_ID = os.environ.get("AUDIT_HMAC_KEY_ID") or list(AUDIT_HMAC_KEYS)[-1]
if AUDIT_HMAC_KEY_ID not in AUDIT_HMAC_KEYS:
    raise ImproperlyConfigured(f"AUDIT_HMAC_KEY_ID {AUDIT_HMAC_KEY_ID!r} is not one of AUDIT_HMAC_KEYS.")
# `openiop audit_anchor` (daily, and by hand) appends the chain's position to this file; a second copy, e.g. on
# another machine's mount or write-once storage, survives an attacker who can edit the first.
AUDIT_ANCHOR_PATH = Path(os.environ.get("AUDIT_ANCHOR_PATH") or VAR_DIR / "audit-anchors.jsonl")
AUDIT_ANCHOR_COPY_PATH = Path(_copy) if (_copy := os.environ.get("AUDIT_ANCHOR_COPY_PATH")) else None

# --- Authentication and sessions -------------------------------------------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend, loading the session's user with its "has an authenticator app" answer in one statement.
    "openiop.accounts.backends.UserBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# HIPAA 164.312(a)(2)(iii) automatic logoff: idle and absolute limits, in minutes.
SESSION_IDLE_TIMEOUT_MINUTES = envint("SESSION_IDLE_TIMEOUT_MINUTES", 15)
SESSION_ABSOLUTE_TIMEOUT_MINUTES = envint("SESSION_ABSOLUTE_TIMEOUT_MINUTES", 12 * 60)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_TIMEOUT_MINUTES * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Roles whose members must use a second factor (they read clinical data). "" turns enforcement off.
MFA_REQUIRED_ROLES = envlist(
    "MFA_REQUIRED_ROLES",
    ["director", "clinician", "supervised_clinician", "intake", "auditor", "sysadmin", "privacy_officer"],
)
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "OpenIOP")

# django-axes: lock a username (tried from anywhere) after repeated failures, and separately one browser
# (address + agent) spraying many usernames. Not the bare address: a clinic's staff share one NAT address.
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = envint("LOGIN_LOCKOUT_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username", ["ip_address", "user_agent"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
# Its log lines name the client by path only: a portal username is a patient's (docs/operations.md#logging).
AXES_CLIENT_STR_CALLABLE = "openiop.core.logfilter.axes_client_str"

# --- HTTPS and headers ----------------------------------------------------------------------------------
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if envbool("BEHIND_PROXY", False) else None
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_COOKIE_HTTPONLY = False  # HTMX reads the token from the page, not the cookie, but keep Django's default.
# The content security policy (django-csp): scripts, styles, images and fetches from this site only; no inline
# script without the request's nonce ({{ request.csp_nonce }}; there is none today), no inline style at all (no
# style="" attributes: classes in openiop.css, computed sizes through data-css-* and openiop.js), no plugins, no
# framing, forms post only here. data: images are the drawn signatures and Bootstrap's built-in icons.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF, csp.NONCE],
        "style-src": [csp.SELF],
        "img-src": [csp.SELF, "data:"],
        "object-src": [csp.NONE],
        "base-uri": [csp.SELF],
        "form-action": [csp.SELF],
        "frame-ancestors": [csp.NONE],
    },
}

# --- Internationalization ---------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "America/New_York")
USE_I18N = True
USE_TZ = True

# --- Static files ----------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]  # project-wide assets: openiop.css/js and vendor/ (Bootstrap, HTMX)
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
STATIC_MANIFEST = envbool("STATIC_MANIFEST", HTTPS)  # production serves hashed files after collectstatic
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))

# --- Email ------------------------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = envsecret("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = envbool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "OpenIOP <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Text messages (reminders/sms.py): "disabled" sends nothing; "http" posts JSON to SMS_API_URL. ------------
SMS_PROVIDER = os.environ.get("SMS_PROVIDER", "disabled")
SMS_API_URL = os.environ.get("SMS_API_URL", "")
SMS_API_KEY = envsecret("SMS_API_KEY")
SMS_API_KEY_HEADER = os.environ.get("SMS_API_KEY_HEADER", "X-API-Key")
SMS_FROM = os.environ.get("SMS_FROM", "")
SMS_TIMEOUT = envint("SMS_TIMEOUT", 10)

# Mounts the unauthenticated /bench/ baselines (openiop/core/bench_views.py) for `python -m bench`; never
# with HTTPS on, so a production deploy cannot expose them by mistake.
OPENIOP_BENCH_ENDPOINTS = envbool("OPENIOP_BENCH_ENDPOINTS", False) and not HTTPS

# --- Background jobs (django-tasks; openiop/jobs/README.md) ------------------------------------------------------
# TASKS_BACKEND: "database" (the default: a table the `openiop worker` polls, nothing else to run), "redis" (workers
# on several machines share REDIS_URL), "immediate" (inline, no worker; the test suite uses it), or a dotted path.
TASKS_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "redis": "openiop.jobs.backends.redis.RedisBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
}
TASKS_BACKEND = os.environ.get("TASKS_BACKEND", "database")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
_tasks_backend = TASKS_BACKENDS.get(TASKS_BACKEND, TASKS_BACKEND)
TASKS = {
    "default": {
        "BACKEND": _tasks_backend,
        "OPTIONS": (
            {
                "URL": REDIS_URL,
                "PREFIX": os.environ.get("REDIS_TASKS_PREFIX", "openiop:tasks"),
                "VISIBILITY_TIMEOUT": envint("TASKS_VISIBILITY_TIMEOUT", 60),
            }
            if _tasks_backend == TASKS_BACKENDS["redis"]
            else {}
        ),
    }
}
# The periodic jobs the worker schedules (openiop/jobs/periodic.py); PERIODIC_JOBS_DISABLED=name,name turns some off.
OPENIOP_PERIODIC_JOBS: Any = "openiop.jobs.periodic.DEFAULT_JOBS"
OPENIOP_PERIODIC_JOBS_DISABLED = envlist("PERIODIC_JOBS_DISABLED", [])

# --- Logging: no PHI (docs/operations.md#logging). Every handler carries core.logfilter.PHIFilter: exceptions are
# logged by class and frames, never their message (database errors quote whole rows); query strings, request bodies
# and unknown path segments never reach a handler. Django's own "django" and "django.server" loggers are named here so
# that its default handlers (console with DEBUG, mail_admins without) are replaced, not kept beside these.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"no_phi": {"()": "openiop.core.logfilter.PHIFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "server": {"()": "django.utils.log.ServerFormatter", "format": "[{server_time}] {message}", "style": "{"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["no_phi"]},
        "server": {"class": "logging.StreamHandler", "formatter": "server", "filters": ["no_phi"]},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"handlers": [], "propagate": True},
        "django.server": {"handlers": ["server"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # pyx12 logs the values it finds wrong in an X12 file, which can be a patient's name or member id.
        "pyx12": {"level": "CRITICAL", "propagate": False},
    },
}
# The technical 500 report (the DEBUG page; an emailed report if one were ever configured) shows no POST value, query
# string, cookie, frame variable or exception message. No mail_admins handler is configured: it would mail them.
DEFAULT_EXCEPTION_REPORTER = "openiop.core.exception_reports.PHIExceptionReporter"
DEFAULT_EXCEPTION_REPORTER_FILTER = "openiop.core.exception_reports.PHIExceptionReporterFilter"

# --- OpenIOP clinical defaults (docs/clinical-rules.md#defaults-at-a-glance); each program can override its own copy
# Values are numbers, strings and lists (follow_up_days), so readers say what type they expect.
OPENIOP_DEFAULTS: dict[str, Any] = {
    "adult_weekly_dose_hours": 9,
    "adolescent_weekly_dose_hours": 6,
    "max_length_weeks": 12,
    "group_size_cap": 12,
    # Break-the-glass: how long an emergency access to a chart outside one's programs lasts (patients/emergency.py).
    "emergency_access_minutes": 60,
    # Levels of care a program may run (docs/clinical-rules.md#level-of-care): ``rank`` orders them (higher is more
    # intensive, so a move to a lower rank is a step down), ``asam`` and ``locus`` are the levels they correspond to
    # (shown beside the intake's ratings, never computed from them), ``ub04_condition_code`` is the institutional
    # claim's condition code for the level (empty: none), and ``weekly_dose_hours`` the minimum a new program of the
    # level starts with per population (absent: adult_weekly_dose_hours / adolescent_weekly_dose_hours).
    "levels_of_care": [
        {
            "code": "php",
            "label": "Partial hospitalization (PHP)",
            "short": "PHP",
            "rank": 3,
            "asam": "2.5",
            "locus": "4",
            "ub04_condition_code": "41",
            "weekly_dose_hours": {"adult": 20, "adolescent": 20},
        },
        {
            "code": "iop",
            "label": "Intensive outpatient (IOP)",
            "short": "IOP",
            "rank": 2,
            "asam": "2.1",
            "locus": "3",
            "ub04_condition_code": "92",
        },
        {
            "code": "op",
            "label": "Outpatient (OP)",
            "short": "OP",
            "rank": 1,
            "asam": "1",
            "locus": "2",
            "ub04_condition_code": "",
            "weekly_dose_hours": {"adult": 1, "adolescent": 1},
        },
    ],
    "default_level_of_care": "iop",
    # Attendance policy (docs/clinical-rules.md#weekly-dose and #absence-policy): a program without its own
    # AttendancePolicy row uses these.
    "week_starts_on": 0,  # Monday
    "clinical_hour_minutes": 50,  # a 50-minute session part counts as a clinical hour
    "outreach_after_consecutive_misses": 2,
    "outreach_due_days": 1,
    "review_after_unexcused": 3,
    "review_window_days": 14,
    "review_due_days": 3,
    # Admission (issue 6): the treatment plan is due this many days after admission; a patient discharged within
    # the readmission window is flagged for review; a referral this many days in one open stage shows as overdue.
    "treatment_plan_due_days": 7,
    # Scope of practice (docs/clinical-rules.md#scope-of-practice): who signs assessments, plans and notes.
    "signing_credentials": [
        "MD",
        "DO",
        "PhD",
        "PsyD",
        "NP",
        "PA",
        "LCSW",
        "LICSW",
        "LISW",
        "LPC",
        "LPCC",
        "LCPC",
        "LMHC",
        "LMFT",
        "LCADC",
        "LADC",
    ],
    "supervised_signing_credentials": ["MSW", "LMSW", "LSW", "LPC-A", "LAPC", "LGPC", "AMFT", "LAMFT", "CADC"],
    "readmission_window_days": 30,
    "referral_stage_overdue_days": 3,
    # Treatment plans (plans/policy.py): a scheduled progress review falls due this many days after a version
    # becomes active; a program's PlanPolicy row overrides it.
    "plan_review_interval_days": 30,
    # Payer authorizations and utilization review (docs/clinical-rules.md#authorizations-and-utilization-review):
    # when an authorization is flagged and a work task raised; a program's UtilizationPolicy row overrides them.
    "auth_expiring_within_days": 7,  # an approved authorization ending within this many days
    "auth_units_low_at": 3,  # remaining units at or below this
    "ur_due_within_days": 3,  # the next concurrent review due within this many days
    "ur_lead_days": 3,  # without a date from the payer, the concurrent review is due this many days before the end
    "auth_unauthorized_lookback_days": 30,  # billable days outside an authorization are looked for this far back
    # A review raised by an event (level-of-care change, safety event, recertification) is due this many days later.
    "plan_event_review_due_days": 3,
    # When a signed plan comes into force: "patient_signature" (the patient signs or declines, due this many days
    # after the clinician's signature) or "clinician_signature" (docs/clinical-rules.md#treatment-plans-and-reviews).
    "plan_in_force_at": "patient_signature",
    "plan_patient_signature_due_days": 7,
    # Check-in (attendance/actions.py): a session's roster opens this many minutes before its start, and a change
    # stops being check-in and becomes a correction that needs a reason once the session's program-local day has
    # ended or this many minutes after its end, whichever is later.
    "attendance_checkin_opens_minutes_before": 30,
    "attendance_checkin_grace_minutes": 120,
    # Progress notes (notes/policy.py, docs/clinical-rules.md#progress-notes, California BHIN 22-019): signed within
    # this many business days of the service (weekends and the site's closures skipped), crisis notes within this
    # many hours; the format and places of service a program without its own NotePolicy row uses.
    "note_due_business_days": 3,
    "crisis_note_due_hours": 24,
    "note_default_format": "birp",
    "note_place_of_service": "53",
    "note_telehealth_place_of_service": "10",
    # Discharge (discharge/policy.py): aftercare check-ins this many days after the discharge date (HEDIS FUI/FUH
    # look at 7 and 30 days; 90 for the program's own outcomes), and program policy for how many days after the
    # discharge date the summary may be signed, planned or not.
    "follow_up_days": [7, 30, 90],
    "discharge_summary_due_days": 7,
    # Measurement-based care (docs/clinical-rules.md#measurement-based-care): a program without its own MeasuresConfig /
    # schedule rows uses these.
    "measures_weekly_weekday": 0,  # weekly measures fall due on Monday
    "measures_due_window_days": 7,  # a due administration expires this many days after its due date
    "measures_link_expiry_hours": 72,  # a questionnaire link stops working after this
    "safety_alert_escalation_minutes": 60,  # an unacknowledged safety alert emails the on-call clinician
    # Background jobs (jobs/periodic.py, jobs/worker.py): daily jobs run at this hour in this zone ("" = TIME_ZONE);
    # a running slot's lease (renewed while it runs) and a queued one's; after an outage only this many missed
    # slots of a job run; workers beat this often; the billable-days job re-decides this many days back.
    "jobs_daily_hour": 4,
    "jobs_time_zone": "",
    "jobs_lease_seconds": 120,
    "jobs_queue_lease_seconds": 600,
    "jobs_catch_up_slots": 10,
    "jobs_heartbeat_seconds": 10,
    "jobs_billable_days_lookback_days": 14,
    "jobs_history_days": 30,  # finished periodic runs and database task results are kept this long
    # Reminders (reminders/policy.py): a program without its own ReminderPolicy row uses these. Session reminders
    # go this many hours before; quiet hours (program-local, a patient may choose their own) defer a reminder to
    # their end, or drop it when that is after what it reminds about; questionnaire and check-in reminders go at
    # day_time; a plan waiting for the patient's signature is reminded once after the delay.
    "reminder_session_offsets_hours": [24, 2],
    "reminder_quiet_start": "21:00",
    "reminder_quiet_end": "08:00",
    "reminder_day_time": "10:00",
    "reminder_plan_signature_delay_hours": 24,
    "reminder_catch_up_minutes": 60,  # a session reminder whose time passed longer ago is not created
    "reminder_plan_ahead_hours": 48,  # the planner creates reminders due within this window
    "reminder_lease_seconds": 300,  # a sender that died holding a reminder loses it after this
    "reminder_max_attempts": 5,
    "reminder_retry_minutes": 10,  # times the attempt number, after a failed send
    # Skills-practice log (skills/policy.py): the skills a program without its own PracticePolicy row offers, how
    # long the patient may change an entry, and how far back an entry's time may go.
    "skills_practice_skills": [
        "Box breathing",
        "Urge surfing",
        "Opposite action",
        "TIPP (temperature, intense exercise, paced breathing, paired relaxation)",
        "Grounding (5-4-3-2-1)",
        "Check the facts",
        "Pleasant activity",
        "Thought record",
        "Self-soothe",
        "Reached out to a support person",
    ],
    "skills_practice_edit_hours": 24,
    "skills_practice_backdate_days": 7,
    # Patient portal check-ins (portal/care.py): instruments whose score the patient never sees as a number (the
    # C-SSRS total is a risk level for the care team, not a score); they see that it was sent.
    "portal_scores_hidden": ["cssrs_screener"],
    # Family access (family/access.py): the purposes a family page discloses for (the first a release names is
    # used), how far ahead the family-session schedule and how far back attendance go, and how many family page
    # views the chart's Family access tab lists.
    "family_portal_purposes": ["treatment", "other"],
    "family_schedule_days_ahead": 56,
    "family_attendance_days_back": 84,
    "family_audit_rows_on_chart": 20,
    # Patient portal (portal/policy.py): an invitation link works this many days; a program without its own
    # PortalPolicy row lets patients book suggested make-ups, not open individual sessions, this many days ahead,
    # and cancel online until this many hours before a session (after that they call the clinic).
    "portal_invitation_expiry_days": 7,
    "portal_makeup_booking": True,
    "portal_self_booking": False,
    "portal_booking_horizon_days": 14,
    "portal_cancel_notice_hours": 24,
}
