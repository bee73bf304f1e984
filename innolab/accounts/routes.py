from . import bp


@bp.get("/")
def settings():
    return ""


@bp.get("/organisations")
def organisations():
    return ""
