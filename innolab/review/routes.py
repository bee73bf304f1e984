from . import bp


@bp.get("/")
def inbox():
    return ""


@bp.get("/proposals/<int:proposal_id>")
def proposal(proposal_id):
    return ""
