from flask import Blueprint

bp = Blueprint("results", __name__, url_prefix="/workspace/<int:proposal_id>/report")

from . import routes
