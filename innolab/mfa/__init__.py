"""Second factors: the security page of the account, the second step of signing in, the
policy in the administration and the admin's reset (domain/mfa.py holds the rules)."""
from flask import Blueprint

bp = Blueprint("mfa", __name__)

from . import routes  # noqa: E402,F401 - routes.py adds its views to bp, so it comes after bp
