"""What operations see: a request id, one log line per request, JSON logs, Prometheus metrics.

- Every request gets an id (a sane `X-Request-ID` from the proxy, else a new one). It is in the
  response header `X-Request-ID`, on error pages (so a person can quote it) and in every log
  line of the request.
- One access line per request (logger `innolab.access`): method, path without the query
  string, endpoint, status, duration and the user id – never form data, query strings,
  cookies or tokens.
- LOG_FORMAT=json writes every log record as one JSON object per line; else the human format.
- Request counts and durations by endpoint go to the Prometheus registry that `/metrics`
  (innolab/ops) serves.
"""
from __future__ import annotations

import json
import logging
import re
import secrets
import time
from datetime import UTC, datetime

from flask import Flask, g, request
from flask_login import current_user
from prometheus_client import CollectorRegistry, Counter, Histogram

access_log = logging.getLogger("innolab.access")

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

# The registry of this process (a fresh one per app, so tests do not share counts).
REGISTRY_KEY = "innolab.metrics_registry"


def request_id() -> str | None:
    return g.get("request_id")


class RequestContextFilter(logging.Filter):
    """Adds request_id and user_id to every record made while a request is handled."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            record.request_id = g.get("request_id")
            user = current_user
            record.user_id = user.id if user and user.is_authenticated else None
        except RuntimeError:  # outside a request or app context
            record.request_id = getattr(record, "request_id", None)
            record.user_id = getattr(record, "user_id", None)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line; the fields a log system indexes, plus the access fields."""

    FIELDS = ("method", "path", "endpoint", "status", "duration_ms")

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "user_id": getattr(record, "user_id", None),
        }
        for name in self.FIELDS:
            if hasattr(record, name):
                data[name] = getattr(record, name)
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


HUMAN_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"


def formatter_for(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else logging.Formatter(HUMAN_FORMAT)


def configure_logging(app: Flask) -> None:
    """Log to stderr in the chosen format (LOG_FORMAT), with the request's id and user.

    As logging.basicConfig does, this leaves a process alone whose logging is configured
    already (e.g. by a test runner); a second app in the same process reuses the handler.
    """
    root = logging.getLogger()
    ours = [h for h in root.handlers if getattr(h, "innolab", False)]
    if not ours and root.handlers:
        return
    if not ours:
        handler = logging.StreamHandler()
        handler.innolab = True  # type: ignore[attr-defined]  # our mark on the handler
        handler.addFilter(RequestContextFilter())
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        ours = [handler]
    ours[0].setFormatter(formatter_for(app.config["LOG_FORMAT"]))


def init_app(app: Flask) -> None:
    registry = CollectorRegistry(auto_describe=True)
    app.extensions[REGISTRY_KEY] = registry
    requests_total = Counter("innolab_http_requests_total", "HTTP requests answered",
                             ("endpoint", "method", "status"), registry=registry)
    duration = Histogram("innolab_http_request_duration_seconds", "Time to answer a request",
                         ("endpoint",), registry=registry,
                         buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))

    @app.before_request
    def _start():
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if _SANE_ID.match(incoming) else secrets.token_hex(8)
        g.request_started = time.perf_counter()

    @app.after_request
    def _finish(response):
        rid = g.get("request_id")
        if rid:
            response.headers[REQUEST_ID_HEADER] = rid
        started = g.get("request_started")
        if started is None:
            return response
        seconds = time.perf_counter() - started
        endpoint = request.endpoint or "unknown"
        requests_total.labels(endpoint, request.method, str(response.status_code)).inc()
        duration.labels(endpoint).observe(seconds)
        if endpoint != "static":
            access_log.info("%s %s %s", request.method, request.path, response.status_code,
                            extra={"method": request.method, "path": request.path,
                                   "endpoint": endpoint, "status": response.status_code,
                                   "duration_ms": round(seconds * 1000, 1)})
        return response
