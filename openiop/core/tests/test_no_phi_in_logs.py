"""The marker test: a string standing for PHI goes through every error path, and no log handler may receive it.

Each request carries the marker where patient data would be (the body, the query string, the path, a username, a
database row). What the handlers get is read back three ways: caplog's records and text (after the root console
handler of settings.LOGGING, which scrubs the shared record first), the real handlers of settings.LOGGING writing
into a buffer (their own filter and formatter, as configured by dictConfig at startup), and a capturing handler
with the filter on every named logger the project configures, where a record arrives before the root's handlers.
"""

from __future__ import annotations

import io
import logging
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path
from gunicorn.config import Config

from openiop import urls as project_urls
from openiop.conftest import login
from openiop.core.exception_reports import PHIExceptionReporter
from openiop.core.gunicorn_logging import Logger as GunicornLogger
from openiop.core.logfilter import PHIFilter

MARKER = "Qzx7Phimarker"
FOUND = MARKER.lower()

# --- A URLconf with two views that fail the way a bug would, in front of the project's own ---------------------


def _raise_with_posted_data(request: HttpRequest) -> HttpResponse:
    raise ValueError(f"cannot use {request.POST.get('note')!r} from {request.GET.get('q')!r}")


def _raise_integrity_error(request: HttpRequest) -> HttpResponse:
    """A row that violates NOT NULL, with the marker in its other columns (PostgreSQL quotes it back: DETAIL:
    Failing row contains (...)), then a query naming the marker (both engines quote it back)."""
    note = request.POST.get("note", "")
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("INSERT INTO openiop_cache (cache_key, value, expires) VALUES (%s, %s, NULL)", [note, note])
    except IntegrityError as exc:
        logging.getLogger("openiop.core").error("cache write failed: %s", exc)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f'SELECT 1 FROM "missing_{note}"')  # the marker in the SQL, on purpose
    return HttpResponse("unreachable")


urlpatterns = [
    path("boom/view/", _raise_with_posted_data),
    path("boom/db/", _raise_integrity_error),
    *project_urls.urlpatterns,
]
handler403 = project_urls.handler403
handler404 = project_urls.handler404

pytestmark = pytest.mark.urls(__name__)

# Every logger settings.LOGGING names, and the ones Django, gunicorn and the project log requests and errors on.
NAMED_LOGGERS = (
    "django",
    "django.request",
    "django.server",
    "django.security.csrf",
    "django.db.backends",
    "axes",
    "gunicorn.error",
    "gunicorn.access",
    "openiop",
    "openiop.core",
)
# pytest's own capture handlers are the test's instruments, not the project's.
PYTEST_HANDLERS = ("LogCaptureHandler", "_LiveLoggingNullHandler", "_FileHandler", "_LiveLoggingStreamHandler")


def _all_loggers() -> list[logging.Logger]:
    named = [log for log in logging.root.manager.loggerDict.values() if isinstance(log, logging.Logger)]
    return [logging.root, *named]


class _Capture(logging.Handler):
    """A handler the project could have configured on that logger: the filter, then the usual formatter."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.addFilter(PHIFilter())
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def sinks(caplog):
    caplog.set_level(logging.DEBUG)
    buffer = io.StringIO()
    swapped = []
    for log in _all_loggers():
        for handler in log.handlers:
            if isinstance(handler, logging.StreamHandler) and type(handler).__name__ not in PYTEST_HANDLERS:
                swapped.append((handler, handler.setStream(buffer)))
    assert swapped, "settings.LOGGING configured no stream handler"
    captures = {name: _Capture() for name in NAMED_LOGGERS}
    levels = {}
    for name, capture in captures.items():
        levels[name] = logging.getLogger(name).level
        logging.getLogger(name).setLevel(logging.DEBUG)
        logging.getLogger(name).addHandler(capture)
    try:
        yield SimpleNamespace(caplog=caplog, buffer=buffer, captures=captures)
    finally:
        for name, capture in captures.items():
            logging.getLogger(name).removeHandler(capture)
            logging.getLogger(name).setLevel(levels[name])
        for handler, stream in swapped:
            handler.setStream(stream)


def _assert_no_marker(sinks, *, expect: tuple[str, ...] = ()) -> str:
    """Fail if the marker reached any handler; return all that was written, for positive checks."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    written = [
        sinks.caplog.text,
        *(formatter.format(record) for record in sinks.caplog.records),
        *(f"{record.__dict__}" for record in sinks.caplog.records),  # every attribute, the request's included
        sinks.buffer.getvalue(),
        *("\n".join(capture.lines) for capture in sinks.captures.values()),
    ]
    everything = "\n".join(written)
    assert FOUND not in everything.lower(), everything
    for text in expect:
        assert text in everything, f"{text!r} not logged:\n{everything}"
    return everything


@pytest.fixture
def failing_client(settings) -> Client:
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False
    return Client(raise_request_exception=False)


# --- The configuration --------------------------------------------------------------------------------------


def test_every_configured_handler_has_the_filter(settings):
    assert "mail_admins" not in str(settings.LOGGING)
    assert settings.DEFAULT_EXCEPTION_REPORTER == "openiop.core.exception_reports.PHIExceptionReporter"
    assert settings.DEFAULT_EXCEPTION_REPORTER_FILTER == "openiop.core.exception_reports.PHIExceptionReporterFilter"
    for log in _all_loggers():
        for handler in log.handlers:
            # A NullHandler writes nothing (WeasyPrint adds one to its logger on import; records still reach root's).
            if type(handler).__name__ in PYTEST_HANDLERS or type(handler) is logging.NullHandler:
                continue
            assert any(isinstance(f, PHIFilter) for f in handler.filters), (log.name, handler)


# --- The error paths ----------------------------------------------------------------------------------------


def test_server_errors_with_the_marker_in_the_body_query_exception_and_database_row(failing_client, clinic, sinks):
    login(failing_client, clinic.clinician)
    assert failing_client.post(f"/boom/view/?q={MARKER}", {"note": MARKER}).status_code == 500
    assert failing_client.post(f"/boom/db/?q={MARKER}", {"note": MARKER}).status_code == 500
    logged = _assert_no_marker(
        sinks,
        expect=(
            "Internal Server Error: /boom/view/",
            "ValueError: [withheld",
            'File "',
            "cache write failed: IntegrityError",
            "Internal Server Error: /boom/db/",
        ),
    )
    assert "ProgrammingError: [withheld" in logged or "OperationalError: [withheld" in logged
    assert "Failing row" not in logged


def test_refused_requests_api_writes_and_searches(failing_client, clinic, patient, sinks):
    login(failing_client, clinic.intake)
    # Not found, with the marker in the path.
    assert failing_client.get(f"/patients/{MARKER}/?q={MARKER}").status_code == 404
    assert failing_client.get(f"/patients/Jane {MARKER}/").status_code == 404  # decoded: a space in the path
    assert failing_client.get(f"/{MARKER}/nowhere/").status_code == 404
    assert failing_client.get(f"/api/v1/patients/{MARKER}").status_code in (404, 422)
    # API writes with the marker and a NUL byte: refused or saved, depending on the engine and the input guard;
    # either way, what reaches the logs is the test.
    body = {
        "home_program": str(clinic.mh.public_id),
        "legal_first_name": f"{MARKER}\x00",
        "legal_last_name": MARKER,
        "date_of_birth": "1988-02-29",
    }
    failing_client.post(f"/api/v1/patients?q={MARKER}", body, content_type="application/json")
    failing_client.patch(
        f"/api/v1/patients/{patient.public_id}?q={MARKER}",
        {"legal_last_name": f"{MARKER}\x00", "date_of_birth": MARKER},
        content_type="application/json",
    )
    # Form errors, and a CSRF failure.
    assert (
        failing_client.post("/patients/new/", {"legal_last_name": MARKER, "date_of_birth": MARKER}).status_code == 200
    )
    strict = login(Client(enforce_csrf_checks=True), clinic.intake)
    assert strict.post(f"/patients/new/?q={MARKER}", {"legal_last_name": MARKER}).status_code == 403
    # The searches: the marker stays out of the URL too.
    ui = failing_client.post("/patients/", {"q": MARKER})
    assert ui.status_code == 302 and FOUND not in ui["Location"].lower()
    api = failing_client.post("/api/v1/patients/search", {"q": MARKER}, content_type="application/json")
    assert api.status_code == 200
    assert failing_client.get("/api/v1/patients", {"q": MARKER}).status_code == 422
    _assert_no_marker(sinks, expect=("Not Found: /patients/…/", "Forbidden (CSRF", "Unprocessable Entity"))


def test_failed_logins_and_the_lockout_never_log_the_username(failing_client, db, settings, sinks):
    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(3):
        failing_client.post("/accounts/login/", {"username": MARKER, "password": MARKER})
        failing_client.post("/portal/login/", {"username": f"{MARKER}@example.org", "password": MARKER})
    _assert_no_marker(sinks)


def test_development_server_lines_lose_query_and_unknown_segments(sinks):
    # What runserver's request handler logs for each request (django.core.servers.basehttp).
    logging.getLogger("django.server").info(
        '"%s" %s %s', f"GET /patients/{MARKER}/?q={MARKER} HTTP/1.1", "404", "179", extra={"request": object()}
    )
    _assert_no_marker(sinks, expect=('"GET /patients/…/ HTTP/1.1" 404 179',))


def test_messages_quoting_database_details_or_exceptions(sinks):
    log = logging.getLogger("openiop.core")
    log.warning("insert failed: %s", f'null value in column "x"\nDETAIL:  Failing row contains ({MARKER}, null).')
    log.warning("lookup failed: %s", KeyError(MARKER))
    try:
        int(MARKER)
    except ValueError:
        log.exception("parsing failed")
    logging.getLogger("django.db.backends").debug(
        "(%.3f) %s; args=%s; alias=%s", 0.001, f"SELECT '{MARKER}'", (MARKER,), "default"
    )
    _assert_no_marker(sinks, expect=("lookup failed: KeyError", "ValueError: [withheld"))


def test_gunicorn_access_and_error_logs(tmp_path, sinks):
    access, errors = tmp_path / "access.log", tmp_path / "error.log"
    cfg = Config()
    cfg.set("accesslog", str(access))
    cfg.set("errorlog", str(errors))
    # gunicorn's default format (%(r)s, the referer), and one with the decoded path (%(U)s) and the query (%(q)s).
    cfg.set("access_log_format", f"{Config().access_log_format} %(U)s %(q)s")
    glog = GunicornLogger(cfg)
    try:
        environ = {
            "REQUEST_METHOD": "GET",
            "RAW_URI": f"/patients/{MARKER}/?q={MARKER}",
            "PATH_INFO": f"/patients/Jane {MARKER}/",
            "QUERY_STRING": f"q={MARKER}",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_REFERER": f"https://clinic.example/patients/?q={MARKER}",
            "REMOTE_ADDR": "127.0.0.1",
        }
        response = SimpleNamespace(status="200 OK", sent=10, headers=[])
        glog.access(response, SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"])]), environ, timedelta(0))
        try:
            raise RuntimeError(MARKER)
        except RuntimeError:
            glog.exception("Error handling request %s", environ["RAW_URI"])
        for handler in glog.error_log.handlers + glog.access_log.handlers:
            handler.flush()
        written = access.read_text() + errors.read_text()
    finally:
        for log in (glog.error_log, glog.access_log):
            for handler in log.handlers[:]:
                log.removeHandler(handler)
                handler.close()
    assert FOUND not in written.lower(), written
    assert "GET /patients/…/ HTTP/1.1" in written and "RuntimeError: [withheld" in written
    _assert_no_marker(sinks)


def test_the_technical_500_report_shows_no_request_data(rf):
    request = rf.post(f"/patients/?q={MARKER}", {"q": MARKER}, HTTP_COOKIE=f"c={MARKER}")
    try:
        patient_name = MARKER  # noqa: F841 (a frame variable the report must not show)
        raise ValueError(MARKER)
    except ValueError as exc:
        reporter = PHIExceptionReporter(request, type(exc), exc, exc.__traceback__)
    for text in (reporter.get_traceback_text(), reporter.get_traceback_html()):
        assert FOUND not in text.lower()
