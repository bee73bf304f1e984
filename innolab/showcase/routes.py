from flask import make_response, redirect, request

from ..web import safe_next
from . import bp


@bp.get("/")
def home():
    return "home"


@bp.post("/language")
def set_language():
    lang = request.form.get("lang")
    response = make_response(redirect(safe_next(request.form.get("next"), "/"), code=303))
    if lang in ("de", "en"):
        response.set_cookie("lang", lang, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


@bp.get("/challenges")
def challenges():
    return ""


@bp.get("/pilots")
def pilots():
    return ""


@bp.get("/pages/<slug>")
def page(slug):
    return ""
