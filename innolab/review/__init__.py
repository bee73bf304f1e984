from flask import Blueprint

bp = Blueprint("review", __name__, url_prefix="/staff/review" or None)

from . import routes  # noqa: E402,F401
