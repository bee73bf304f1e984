from . import bp


@bp.route("/login")
def login():
    return ""


@bp.route("/register")
def register():
    return ""


@bp.post("/logout")
def logout():
    return ""


@bp.route("/account")
def settings():
    return ""
