"""gunicorn's logger with ``PHIFilter`` on its error and access handlers (``logger_class`` in gunicorn.conf.py).

gunicorn configures its own handlers, outside settings.LOGGING: the access log's request line and the error log's
"Error handling request /path?query" would otherwise write search terms and mistyped paths as they came.
"""

from __future__ import annotations

from typing import Any

from gunicorn import glogging

from openiop.core.logfilter import PHIFilter


class Logger(glogging.Logger):
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                if not any(isinstance(f, PHIFilter) for f in handler.filters):
                    handler.addFilter(PHIFilter())
