from flask import Blueprint

bp = Blueprint("privacy", __name__, url_prefix="/account")

from . import routes  # noqa: E402,F401 - routes.py adds its views to bp, so it comes after bp
