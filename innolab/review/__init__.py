from flask import Blueprint

bp = Blueprint("review", __name__, url_prefix="/staff/review")

from . import routes  # noqa: E402,F401 - routes.py adds its views to bp, so it comes after bp
