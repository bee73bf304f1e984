from . import bp


@bp.get("/")
def index():
    return ""
