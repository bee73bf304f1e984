from . import bp


@bp.get("/")
def organisations():
    return ""
