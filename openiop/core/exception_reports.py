"""The technical 500 report without request data: Django's DEBUG page, and the email report if one were ever
configured (settings.LOGGING configures none). Set by ``DEFAULT_EXCEPTION_REPORTER`` and
``DEFAULT_EXCEPTION_REPORTER_FILTER``; the log lines themselves are scrubbed by ``openiop.core.logfilter``."""

from __future__ import annotations

from collections.abc import ItemsView
from typing import Any

from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

from openiop.core.logfilter import WITHHELD, safe_path


class PHIExceptionReporterFilter(SafeExceptionReporterFilter):
    """Hide every POST value, the query string, cookies and every frame variable in the technical 500 report,
    with DEBUG on as well (a demo with real data, a staging copy)."""

    def is_active(self, request: Any) -> bool:
        return True

    def get_post_parameters(self, request: Any) -> dict[str, str]:
        if request is None:
            return {}
        return dict.fromkeys(request.POST, self.cleansed_substitute)

    def get_safe_request_meta(self, request: Any) -> dict[str, Any]:
        meta = super().get_safe_request_meta(request)
        for key in ("QUERY_STRING", "RAW_URI", "REQUEST_URI", "HTTP_REFERER", "HTTP_COOKIE"):
            if key in meta:
                meta[key] = self.cleansed_substitute
        if "PATH_INFO" in meta:
            meta["PATH_INFO"] = safe_path(str(meta["PATH_INFO"]))
        return meta

    def get_traceback_frame_variables(self, request: Any, tb_frame: Any) -> ItemsView[str, Any]:
        return dict.fromkeys(tb_frame.f_locals, self.cleansed_substitute).items()


class PHIExceptionReporter(ExceptionReporter):
    """The technical 500 report without the query string, cookies or any exception message."""

    def get_traceback_data(self) -> dict[str, Any]:
        data = super().get_traceback_data()
        substitute = self.filter.cleansed_substitute
        if self.request is not None:
            data["request_GET_items"] = [(key, substitute) for key in self.request.GET]
            data["request_COOKIES_items"] = [(key, substitute) for key in self.request.COOKIES]
            data["request_insecure_uri"] = safe_path(self.request.path)
        if self.exc_value is not None:
            data["exception_value"] = WITHHELD
            data["unicode_hint"] = None
        for frame in data.get("frames", []):
            if frame.get("exc_cause") is not None:
                frame["exc_cause"] = f"{type(frame['exc_cause']).__name__}: {WITHHELD}"
        return data
