from . import bp


@bp.get("/")
def index():
    return ""


@bp.get("/<int:proposal_id>")
def show(proposal_id):
    return ""
