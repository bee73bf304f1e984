from flask import Blueprint

bp = Blueprint("results", __name__, url_prefix="/workspace/<int:proposal_id>/report")

from . import routes  # noqa: E402,F401 - routes.py adds its views to bp, so it comes after bp
