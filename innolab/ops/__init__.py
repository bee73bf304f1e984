"""Endpoints for operations: liveness, readiness and Prometheus metrics."""
from flask import Blueprint

bp = Blueprint("ops", __name__, url_prefix=None)

from . import routes  # noqa: E402,F401 - routes.py adds its views to bp, so it comes after bp
