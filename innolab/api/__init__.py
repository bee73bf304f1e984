"""Open data: the read-only JSON API (/api/v1), the Atom feeds (/feeds) and the staff's CSV
export (/staff/export). The routes carry their full paths."""
from flask import Blueprint

bp = Blueprint("api", __name__)

from . import routes  # noqa: E402,F401 - routes.py adds its views to bp, so it comes after bp
