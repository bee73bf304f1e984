"""Sign-in with external identity providers (OpenID Connect, GitHub).

The blueprint sets itself up when it is registered (`record_once`): it reads
OIDC_PROVIDERS, binds an Authlib client per provider to the app and offers the template
helpers `oidc_providers()` and `oidc_linked(user)` used by templates/oidc/_buttons.html and
templates/oidc/_linked.html. With no provider configured it stays silent.
"""
from flask import Blueprint

from .client import init_app

bp = Blueprint("oidc", __name__, url_prefix="/login/external")


@bp.record_once
def _set_up(state) -> None:
    init_app(state.app)


from . import routes  # noqa: E402,F401 - routes.py adds its views to bp, so it comes after bp
