"""gunicorn's settings for the InnoLab platform (docs/deployment.md#gunicorn).

    gunicorn --config gunicorn.conf.py wsgi:app

Every value can be changed in the environment (in production: /etc/innolab/innolab.env, the
systemd unit's EnvironmentFile); command-line options win over this file. Prefer the
variables below to `-w`/`--threads`: the app reads the same numbers.

| variable | default | |
| --- | --- | --- |
| GUNICORN_BIND | 127.0.0.1:8000 | address (or unix:/run/…) to listen on; behind nginx only |
| WEB_CONCURRENCY | 2 × cores + 1, at most 8 | worker processes |
| GUNICORN_THREADS | 4 | threads per worker (gthread) |
| GUNICORN_TIMEOUT | 30 | seconds a worker may stay silent before it is killed and replaced |
| GUNICORN_GRACEFUL_TIMEOUT | 30 | seconds a worker has to finish its requests on stop or reload |
| GUNICORN_KEEPALIVE | 5 | seconds an idle keep-alive connection stays open |
| GUNICORN_MAX_REQUESTS | 2000 | a worker is replaced after about this many requests (0: never) |
| GUNICORN_MAX_REQUESTS_JITTER | 200 | … plus up to this many, so workers do not restart together |
| FORWARDED_ALLOW_IPS | 127.0.0.1,::1 | proxies whose X-Forwarded-* gunicorn believes |
"""
from __future__ import annotations

import os


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SystemExit(f"gunicorn.conf.py: {name} must be a whole number, got {raw!r}") from exc


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the cores this process may use
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


bind = [os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")]

# Processes for the CPU, threads to wait for the database in. Each thread may hold one
# database connection: workers × threads must stay below PostgreSQL's max_connections.
workers = _int("WEB_CONCURRENCY", min(2 * _cores() + 1, 8))
threads = _int("GUNICORN_THREADS", 4)
worker_class = "gthread"
# The app is loaded in each worker after the fork, so no database connection or thread is
# ever shared between processes.
preload_app = False

# A worker that does not report for `timeout` seconds is killed (with gthread the worker's
# main loop reports, so a single slow request does not count; DB_STATEMENT_TIMEOUT_MS and
# nginx's proxy_read_timeout bound those). On SIGTERM or SIGHUP workers get
# `graceful_timeout` to finish what they are doing; systemd's TimeoutStopSec is longer.
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# nginx keeps connections to gunicorn open for reuse for less than this (upstream
# keepalive_timeout in deploy/nginx/innolab.conf), so it never sends a request on a
# connection gunicorn is just closing.
keepalive = _int("GUNICORN_KEEPALIVE", 5)

# Replace each worker after about this many requests: memory a long-running process
# collects is returned, and the jitter keeps workers from restarting at the same moment.
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 200)

# Logs: the app writes one access line per request itself (logger innolab.access, with the
# request id and user, LOG_FORMAT); gunicorn's own access log stays off. Its error log (start,
# stop, workers killed) goes to stderr, i.e. the journal.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
proc_name = "innolab"

# Only nginx on this machine may set X-Forwarded-Proto/-For (the app's PROXY_FIX trusts
# exactly one proxy as well).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# The workers' heartbeat files: in memory where /dev/shm exists (a slow or full disk must not
# make gunicorn take a healthy worker for a hung one).
worker_tmp_dir = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None


def on_starting(server) -> None:
    """Tell the app (loaded in the workers, which inherit the environment) how many workers
    and threads there really are, command-line options included: the start-up check of the
    rate-limit storage counts the workers (config.workers), the default
    MAX_CONCURRENT_REQUESTS follows the threads."""
    os.environ["WEB_CONCURRENCY"] = str(server.cfg.workers)
    os.environ["GUNICORN_THREADS"] = str(server.cfg.threads)
