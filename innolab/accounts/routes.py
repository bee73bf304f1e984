"""Partner organisations: my organisations, profile, members, invitations."""
from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..domain import DomainError, organisations as orgs, permissions
from ..domain.editing import EditConflict
from ..extensions import db, limiter
from ..models import Invitation, Organisation
from ..web import redirect_to, render, require
from ..web.forms import add_error, text_of
from . import bp
from .forms import InviteForm, OrganisationForm, TransferForm


def _organisation(org_id: int) -> Organisation:
    org = db.session.get(Organisation, org_id)
    if org is None:
        abort(404)
    return org


def _managed(org_id: int) -> Organisation:
    """An organisation the current user owns: 404 for outsiders, 403 for plain members."""
    org = _organisation(org_id)
    require(permissions.view_organisation(current_user, org))
    require(permissions.manage_organisation(current_user, org))
    return org


def _org_url(org: Organisation) -> str:
    return url_for("accounts.organisation", org_id=org.id)


def _labels() -> dict:
    return {"kind_label": orgs.kind_label, "role_label": orgs.role_label}


# ------------------------------------------------------------------ list, create, show, edit

@bp.get("/")
@login_required
def organisations():
    return render("accounts/organisations.html", memberships=orgs.organisations_of(current_user),
                  **_labels())


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new_organisation():
    form = OrganisationForm()
    if form.validate_on_submit():
        try:
            org = orgs.create(current_user, **form.profile())
        except DomainError as exc:
            add_error(form.name, str(exc.reason))
        else:
            db.session.commit()
            flash(_("Die Organisation „%(name)s“ wurde angelegt. Sie sind ihre Eigentümerin "
                    "bzw. ihr Eigentümer.", name=org.name), "success")
            return redirect_to(_org_url(org))
    status = 422 if form.errors else 200
    return render("accounts/organisation_form.html", form=form, org=None, status=status)


@bp.get("/<int:org_id>")
@login_required
def organisation(org_id: int):
    org = _organisation(org_id)
    require(permissions.view_organisation(current_user, org))
    owner = bool(permissions.manage_organisation(current_user, org))
    return render("accounts/organisation.html", org=org, members=orgs.members(org),
                  invitations=orgs.open_invitations(org) if owner else [], is_owner=owner,
                  **_labels())


@bp.route("/<int:org_id>/edit", methods=["GET", "POST"])
@login_required
def edit_organisation(org_id: int):
    org = _managed(org_id)
    form = OrganisationForm(obj=org)
    if not form.is_submitted():
        form.start_from(org)
    if form.validate_on_submit():
        try:
            changed = orgs.update(org, current_user, seen_version=form.seen_version,
                                  **form.profile())
        except EditConflict as conflict:
            form.continue_from(conflict)
            return render("accounts/organisation_form.html", form=form, org=org,
                          conflict=conflict, status=409)
        except DomainError as exc:
            add_error(form.name, str(exc.reason))
        else:
            db.session.commit()
            if changed:
                flash(_("Das Profil der Organisation wurde gespeichert."), "success")
            else:
                flash(_("Es gab keine Änderungen zu speichern."), "info")
            return redirect_to(_org_url(org))
    status = 422 if form.errors else 200
    return render("accounts/organisation_form.html", form=form, org=org, status=status)


# ------------------------------------------------------------------ invitations

@bp.route("/<int:org_id>/invite", methods=["GET", "POST"])
@login_required
@limiter.limit("30 per hour", methods=["POST"])
def invite(org_id: int):
    org = _managed(org_id)
    form = InviteForm()
    if form.validate_on_submit():
        try:
            inv = orgs.invite(org, current_user, text_of(form.email))
        except DomainError as exc:
            add_error(form.email, str(exc.reason))
        else:
            db.session.commit()
            flash(_("Die Einladung an %(email)s wurde versendet. Sie gilt %(days)d Tage.",
                    email=inv.email, days=orgs.INVITATION_DAYS), "success")
            return redirect_to(_org_url(org))
    status = 422 if form.errors else 200
    return render("accounts/invite.html", form=form, org=org, status=status,
                  days=orgs.INVITATION_DAYS)


@bp.post("/<int:org_id>/invitations/<int:invitation_id>/revoke")
@login_required
def revoke_invitation(org_id: int, invitation_id: int):
    org = _managed(org_id)
    inv = db.session.get(Invitation, invitation_id)
    if inv is None or inv.organisation_id != org.id:
        abort(404)
    try:
        orgs.revoke(inv, current_user)
    except DomainError as exc:
        flash(str(exc.reason), "warning")
    else:
        db.session.commit()
        flash(_("Die Einladung an %(email)s wurde zurückgezogen.", email=inv.email), "success")
    return redirect_to(_org_url(org))


def _invalid_invitation(problem: str):
    status = 404 if problem == "missing" else 410
    return render("accounts/invitation_invalid.html", status=status,
                  text=orgs.INVITATION_PROBLEMS[problem])


@bp.route("/join/<token>", methods=["GET", "POST"])
@limiter.limit("60 per hour")
def join(token: str):
    inv = orgs.invitation_by_token(token, lock=request.method == "POST")
    problem = orgs.invitation_problem(inv)
    if problem is not None:
        return _invalid_invitation(problem)
    assert inv is not None  # invitation_problem() answered "missing" otherwise
    if not current_user.is_authenticated:
        # Signed in, the person comes back here; registered, the invitation waits for the
        # confirmed address ("Meine Aufgaben" and the page after the confirmation).
        back = url_for("accounts.join", token=token)
        return render("accounts/join.html", org=inv.organisation, invitation=inv, token=token,
                      login_url=url_for("auth.login", next=back),
                      register_url=url_for("auth.register", email=inv.email), **_labels())
    org = inv.organisation
    if org.is_member(current_user):
        flash(_("Sie sind bereits Mitglied der Organisation „%(name)s“.", name=org.name), "info")
        return redirect_to(_org_url(org))
    return _invitation_page(inv, url_for("accounts.join", token=token))


def _invitation_page(inv: Invitation, action: str):
    """The invitation and its button (GET); joining (POST)."""
    org = inv.organisation
    if request.method == "POST":
        try:
            orgs.accept(inv, current_user)
        except DomainError as exc:  # used or revoked by another request at the same moment
            flash(str(exc.reason), "warning")
            return redirect_to(url_for("accounts.organisations"))
        db.session.commit()
        flash(_("Willkommen! Sie sind jetzt Mitglied der Organisation „%(name)s“.",
                name=org.name), "success")
        return redirect_to(_org_url(org))
    return render("accounts/join.html", org=org, invitation=inv, action=action, **_labels())


@bp.route("/invitations/<int:invitation_id>", methods=["GET", "POST"])
@login_required
def invitation(invitation_id: int):
    """An invitation to the person's confirmed address, accepted without the mailed link."""
    inv = next((i for i in orgs.invitations_for(current_user) if i.id == invitation_id), None)
    if inv is None:
        abort(404)
    return _invitation_page(inv, url_for("accounts.invitation", invitation_id=inv.id))


# ------------------------------------------------------------------ members

@bp.post("/<int:org_id>/members/<int:user_id>/remove")
@login_required
def remove_member(org_id: int, user_id: int):
    org = _managed(org_id)
    membership = next((m for m in org.memberships if m.user_id == user_id), None)
    if membership is None:
        abort(404)
    member = membership.user
    himself = member.id == current_user.id
    try:
        orgs.remove_member(org, current_user, membership)
    except DomainError as exc:  # the last owner: decided under the lock
        db.session.rollback()
        flash(str(exc.reason), "warning")
        return redirect_to(_org_url(org))
    db.session.commit()
    if himself:
        flash(_("Sie haben die Organisation „%(name)s“ verlassen.", name=org.name), "success")
        return redirect_to(url_for("accounts.organisations"))
    flash(_("%(person)s wurde aus der Organisation entfernt.", person=member.name), "success")
    return redirect_to(_org_url(org))


@bp.route("/<int:org_id>/transfer", methods=["GET", "POST"])
@login_required
def transfer_ownership(org_id: int):
    org = _managed(org_id)
    candidates = orgs.transfer_candidates(org, current_user)
    allowed = permissions.transfer_ownership(current_user, org)
    form = TransferForm(candidates)
    if not allowed:
        if form.is_submitted():
            flash(str(allowed.reason), "warning")
            return redirect_to(_org_url(org))
        return render("accounts/transfer.html", org=org, form=None, reason=allowed.reason)
    if form.validate_on_submit():
        target = form.target
        try:
            orgs.transfer_ownership(org, current_user, target)
        except DomainError as exc:  # the person left the organisation at the same moment
            flash(str(exc.reason), "warning")
            return redirect_to(_org_url(org))
        db.session.commit()
        flash(_("%(person)s ist jetzt Eigentümerin bzw. Eigentümer der Organisation. Sie sind "
                "weiterhin Mitglied.", person=target.user.name), "success")
        return redirect_to(_org_url(org))
    status = 422 if form.errors else 200
    return render("accounts/transfer.html", org=org, form=form, reason=None, status=status)


@bp.post("/<int:org_id>/leave")
@login_required
def leave(org_id: int):
    org = _organisation(org_id)
    require(permissions.view_organisation(current_user, org))
    try:
        orgs.leave(org, current_user)
    except DomainError as exc:  # the last owner: decided under the lock
        db.session.rollback()
        flash(str(exc.reason), "warning")
        return redirect_to(_org_url(org))
    db.session.commit()
    flash(_("Sie haben die Organisation „%(name)s“ verlassen.", name=org.name), "success")
    return redirect_to(url_for("accounts.organisations"))
