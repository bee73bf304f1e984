from flask import Blueprint

bp = Blueprint("tasks", __name__, url_prefix="/tasks")

from . import routes  # noqa: E402,F401 - routes.py adds its views to bp, so it comes after bp
