"""The small files a public site has: robots.txt, security.txt, sitemap.xml, icons."""
from flask import Blueprint

bp = Blueprint("site", __name__, url_prefix=None)

from . import routes  # noqa: E402,F401 - routes.py adds its views to bp, so it comes after bp
