"""`/healthz`, `/readyz` and `/metrics` (docs/operations.md).

The probes are cheap, never rate-limited and set no cookie. `/metrics` answers only with the
bearer token METRICS_TOKEN, or – when no token is set – to requests from this machine.
"""
from __future__ import annotations

import hmac
import ipaddress
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import redis
from alembic.config import Config
from alembic.script import ScriptDirectory
from flask import Response, abort, current_app, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select, text

from ..domain import settings, storage
from ..extensions import db, limiter
from ..models import OutboxMail, Proposal
from ..models._base import utcnow
from ..web.observability import REGISTRY_KEY
from . import bp

WORKER_LAST_RUN = "worker.last_run"
MIGRATIONS = Path(__file__).resolve().parent.parent.parent / "migrations"


def _no_cookie(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
@limiter.exempt
def healthz():
    """The process answers (nothing else is asked: a failing database must not get a
    healthy process restarted)."""
    return _no_cookie(jsonify(status="ok"))


@lru_cache(maxsize=1)
def _migration_heads() -> frozenset[str]:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def _database() -> str | None:
    db.session.execute(text("SELECT 1"))
    return None


def _migrations() -> str | None:
    try:
        current = set(db.session.execute(text("SELECT version_num FROM alembic_version"))
                      .scalars())
    except Exception:  # no table: never migrated
        db.session.rollback()
        return "the database has no migration version (run `flask db upgrade`)"
    if current != set(_migration_heads()):
        return (f"database at {', '.join(sorted(current)) or 'nothing'}, code at "
                f"{', '.join(sorted(_migration_heads()))} (run `flask db upgrade`)")
    return None


def _storage() -> str | None:
    """The configured storage takes a file: the upload folder a temporary file, a bucket an
    object (its bucket answers, a small object is written and deleted)."""
    storage.current().check_ready()
    return None


def _redis() -> str | None:
    uri = current_app.config.get("RATELIMIT_STORAGE_URI") or ""
    if not uri.startswith(("redis://", "rediss://")):
        return None
    client = redis.Redis.from_url(uri, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    finally:
        client.close()
    return None


CHECKS = (("database", _database), ("migrations", _migrations), ("storage", _storage),
          ("redis", _redis))


@bp.get("/readyz")
@limiter.exempt
def readyz():
    """Ready for traffic: database reachable, migrations current, storage writable,
    Redis reachable when configured. 503 names what failed."""
    results, failed = {}, False
    for name, check in CHECKS:
        try:
            problem = check()
        except Exception as exc:  # noqa: BLE001 - any failure is the answer, never a 500
            db.session.rollback()
            problem = f"{type(exc).__name__}: {str(exc)[:200]}"
        if name == "migrations" and results.get("database") != "ok":
            problem = problem and "database unreachable"
        results[name] = problem or "ok"
        failed = failed or problem is not None
    response = jsonify(status="failing" if failed else "ok", checks=results)
    response.status_code = 503 if failed else 200
    return _no_cookie(response)


# ---------------------------------------------------------------- metrics


class PlatformCollector:
    """Numbers read from the database at each scrape: the outbox, the worker, proposals."""

    def describe(self):
        return []

    def collect(self):
        now = utcnow()
        pending = db.session.execute(
            select(func.count(), func.min(OutboxMail.created_at)).where(
                OutboxMail.sent_at.is_(None), OutboxMail.failed_at.is_(None))).one()
        yield GaugeMetricFamily("innolab_outbox_pending", "Mails waiting for delivery",
                                value=pending[0])
        oldest = pending[1]
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=now.tzinfo)
        yield GaugeMetricFamily("innolab_outbox_oldest_pending_seconds",
                                "Age of the oldest mail waiting for delivery",
                                value=(now - oldest).total_seconds() if oldest else 0)
        failed = db.session.execute(select(func.count()).where(
            OutboxMail.failed_at.is_not(None), OutboxMail.sent_at.is_(None))).scalar_one()
        yield GaugeMetricFamily("innolab_outbox_failed", "Mails given up on", value=failed)
        last = settings.get_setting(WORKER_LAST_RUN)
        yield GaugeMetricFamily("innolab_worker_last_run_timestamp_seconds",
                                "When the worker last finished a pass (0: never)",
                                value=datetime.fromisoformat(last).timestamp() if last else 0)
        by_status = GaugeMetricFamily("innolab_proposals", "Proposals by status",
                                      labels=("status",))
        for status, count in db.session.execute(
                select(Proposal.status, func.count()).group_by(Proposal.status)):
            by_status.add_metric((status,), count)
        yield by_status


def _allowed() -> bool:
    token = current_app.config.get("METRICS_TOKEN") or ""
    if token:
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


@bp.get("/metrics")
@limiter.exempt
def metrics():
    if not _allowed():
        abort(404)  # not announced to anyone else
    registry = current_app.extensions[REGISTRY_KEY]
    if not getattr(registry, "_innolab_platform", False):
        registry.register(PlatformCollector())
        registry._innolab_platform = True
    return _no_cookie(Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST))
