"""Who may do what, declared once: used by views (403/404) and templates (which buttons).

Every check is a role check plus a state check and returns a `Permission` that is truthy
when allowed and otherwise carries a translatable reason. `hide` asks the view to answer
404 rather than 403, so that the existence of a private object is not revealed.
"""
from __future__ import annotations

from dataclasses import dataclass

from innolab.i18n import lazy_gettext as _l

from ..models import CheckKind, Proposal, Role, Status
from .conflicts import conflict_of
from .states import current_round, has_anonymised_round, is_editable

S = Status


@dataclass(frozen=True)
class Permission:
    allowed: bool
    reason: object = None
    hide: bool = False
    # The proposal whose content waits for the reviewer's confirmation that they have no
    # conflict of interest: the views send them to that question (web.require).
    awaiting: int | None = None
    # Refused only because the record moved on (someone else took the step a moment ago):
    # the view answers on the page where the step belongs, with the reason, not with 403.
    moved_on: bool = False

    def __bool__(self) -> bool:
        return self.allowed


ALLOW = Permission(True)


def deny(reason, hide: bool = False) -> Permission:
    return Permission(False, reason, hide)


NOT_SIGNED_IN = _l("Bitte melden Sie sich an.")
NO_RIGHT = _l("Ihnen fehlt die Berechtigung dafür.")


def _signed_in(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def has_role(user, *roles: Role) -> bool:
    return _signed_in(user) and user.has_role(*roles)


def is_staff(user) -> bool:
    return _signed_in(user) and user.is_staff


# Staff roles that see every proposal once it has been submitted.
OVERSEEING = (Role.ADMIN, Role.COORDINATOR, Role.DECIDER, Role.DPO, Role.ISO)


AWAITING_CONFIRMATION = _l("Bevor Sie den Vorschlag öffnen, bestätigen Sie bitte, dass Sie "
                           "keinen Interessenkonflikt mit ihm haben, oder erklären Sie einen.")


def view_proposal(user, p: Proposal) -> Permission:
    """Members of the proposing organisation; staff once it is submitted, unless they have a
    conflict of interest with it (domain/conflicts.py): then they see nothing of it but the
    reason, in every channel that asks here. A reviewer sees it through their assignment once
    they confirmed they have no conflict (`awaiting_confirmation`): before, every channel
    sends them to that question. In the anonymised first round a reviewer sees it only
    through `view_for_review`: every other channel refuses."""
    if not _signed_in(user):
        return deny(NOT_SIGNED_IN, hide=True)
    if p.organisation.is_member(user):
        return ALLOW
    if p.status != S.DRAFT.value:
        conflict = conflict_of(user, p)
        if conflict is not None:
            return deny(conflict.refusal)
        if user.has_role(*OVERSEEING):
            return ALLOW
        a = assignment_of(user, p)
        if a is not None and user.has_role(Role.REVIEWER):
            if not a.confirmed:
                return Permission(False, AWAITING_CONFIRMATION, awaiting=p.id)
            if not sees_identity(user, p):
                # the anonymised round: only its own view (`view_for_review`)
                return deny(ANONYMISED, hide=True)
            return ALLOW
    return deny(NO_RIGHT, hide=True)


ANONYMISED = _l("Der Vorschlag ist in der anonymisierten ersten Begutachtungsrunde; Sie "
                "sehen ihn nur auf seiner Begutachtungsseite, ohne Angaben zur Organisation.")


def sees_identity(user, p: Proposal) -> bool:
    """Whether `user` may see who proposed `p`: everyone who may see it at all, except a
    reviewer who does not oversee every proposal, as long as `p` answers a challenge with an
    anonymised first round and has not been shortlisted for the open second round (assigned
    before the round starts, in it, and after a decision in it). Such a reviewer sees it only
    as `anonymise.view` shows it (`view_for_review`)."""
    if not has_anonymised_round(p) or p.shortlisted_at is not None or not _signed_in(user):
        return True
    return p.organisation.is_member(user) or user.has_role(*OVERSEEING)


def view_for_review(user, p: Proposal) -> Permission:
    """The staff page and the review desk: the staff view (`view_internal`), or for a reviewer
    of the anonymised first round the anonymised view (assigned, no conflict declared, the
    confirmation given)."""
    if sees_identity(user, p):
        return view_internal(user, p)
    conflict = conflict_of(user, p)
    if conflict is not None:
        return deny(conflict.refusal)
    a = assignment_of(user, p)
    if a is None or not user.has_role(Role.REVIEWER):
        return deny(NO_RIGHT, hide=True)
    if not a.active:
        return deny(_l("Sie haben einen Interessenkonflikt erklärt und begutachten diesen "
                       "Vorschlag nicht."))
    if not a.confirmed:
        return Permission(False, AWAITING_CONFIRMATION, awaiting=p.id)
    return ALLOW


def awaiting_confirmation(user, p: Proposal):
    """The reviewer's assignment to `p` while it waits for their confirmation that they have
    no conflict of interest, else None. Until they confirm, a reviewer sees only the question
    (`view_proposal`); staff who oversee every proposal see it anyway, but they too confirm
    before they write the review (`write_review`)."""
    if not has_role(user, Role.REVIEWER) or p.status == S.DRAFT.value:
        return None
    a = assignment_of(user, p)
    if a is None or not a.active or a.confirmed:
        return None
    if p.organisation.is_member(user) or conflict_of(user, p) is not None:
        return None
    return a


def view_internal(user, p: Proposal) -> Permission:
    """The staff view: reviews, checks, internal comments and the internal timeline. Never
    with a conflict of interest (a member of the organisation has one, too)."""
    allowed = view_proposal(user, p)
    if not allowed:
        return allowed if not allowed.hide else deny(NO_RIGHT, hide=True)
    if not is_staff(user):
        return deny(NO_RIGHT)
    conflict = conflict_of(user, p)
    return ALLOW if conflict is None else deny(conflict.refusal)


def edit_proposal(user, p: Proposal) -> Permission:
    if not view_proposal(user, p):
        return deny(NO_RIGHT, hide=True)
    if not p.organisation.is_member(user):
        return deny(_l("Nur Mitglieder der vorschlagenden Organisation können den Vorschlag "
                       "bearbeiten."))
    if not is_editable(p):
        return deny(_l("Der Vorschlag ist eingereicht und gesperrt. Bearbeiten ist nur als "
                       "Entwurf oder nach einer angeforderten Nachbesserung möglich."))
    return ALLOW


def delete_proposal(user, p: Proposal) -> Permission:
    if not view_proposal(user, p):
        return deny(NO_RIGHT, hide=True)
    if not p.organisation.is_member(user):
        return deny(NO_RIGHT)
    if p.status != S.DRAFT.value:
        return deny(_l("Nur Entwürfe können gelöscht werden."))
    return ALLOW


def download_attachment(user, attachment) -> Permission:
    p = attachment.proposal
    allowed = view_proposal(user, p)
    if not allowed:
        return allowed if allowed.awaiting is not None else deny(NO_RIGHT, hide=True)
    if attachment.internal and not view_internal(user, p):
        return deny(NO_RIGHT, hide=True)
    message = attachment.message
    if message is not None and message.internal and not view_internal(user, p):
        return deny(NO_RIGHT, hide=True)  # a file sent with an internal note: staff only
    return ALLOW


def coordinate(user) -> Permission:
    return ALLOW if has_role(user, Role.COORDINATOR) else deny(NO_RIGHT)


def assign_reviewers(user, p: Proposal) -> Permission:
    if not has_role(user, Role.COORDINATOR):
        return deny(NO_RIGHT)
    if p.status not in (S.SUBMITTED.value, S.ANONYMOUS_REVIEW.value, S.IN_REVIEW.value):
        return deny(_l("Gutachter können nur eingereichten Vorschlägen oder Vorschlägen in "
                       "Begutachtung zugewiesen werden."))
    return ALLOW


def assignment_of(user, p: Proposal):
    if not _signed_in(user):
        return None
    return next((a for a in p.assignments if a.reviewer_id == user.id), None)


# The statuses in which reviewers write their reviews: either round.
REVIEWING = frozenset({S.ANONYMOUS_REVIEW.value, S.IN_REVIEW.value})


def write_review(user, p: Proposal) -> Permission:
    if not has_role(user, Role.REVIEWER):
        return deny(NO_RIGHT)
    a = assignment_of(user, p)
    if a is None:
        return deny(_l("Dieser Vorschlag ist Ihnen nicht zur Begutachtung zugewiesen."))
    if not a.active:
        return deny(_l("Sie haben einen Interessenkonflikt erklärt und begutachten diesen "
                       "Vorschlag nicht."))
    if p.status not in REVIEWING:
        return deny(_l("Gutachten sind nur während der Begutachtung möglich."))
    if not a.confirmed:
        return Permission(False, AWAITING_CONFIRMATION, awaiting=p.id)
    return ALLOW


def reopen_review(user, p: Proposal) -> Permission:
    """The reviewer reopens their own completed review while the review runs (until the
    decision); domain/review.py asks again under the lock."""
    allowed = write_review(user, p)
    if not allowed:
        if has_role(user, Role.REVIEWER) and p.status in DECIDED:
            return deny(_l("Über den Vorschlag ist entschieden; Ihr Gutachten kann nicht mehr "
                           "geöffnet werden."))
        return allowed
    if not _completed_own_review(user, p):
        return deny(_l("Sie haben kein abgeschlossenes Gutachten zu diesem Vorschlag."))
    return ALLOW


def _completed_own_review(user, p: Proposal) -> bool:
    """The user completed their review of the proposal's current round."""
    current = current_round(p)
    return any(r.reviewer_id == user.id and r.round == current and r.submitted_at is not None
               for r in p.reviews)


# Statuses after the decision on a proposal (approved or rejected, and what follows).
DECIDED = frozenset({S.APPROVED.value, S.REJECTED.value, S.RUNNING.value, S.COMPLETED.value,
                     S.CANCELLED.value})


def declare_conflict(user, p: Proposal) -> Permission:
    """Reviewers on their assignment while the review runs; every other staff member who sees
    the staff view, at any time after the submission."""
    a = assignment_of(user, p)
    if a is not None and has_role(user, Role.REVIEWER):
        if not a.active:
            return deny(_l("Sie haben bereits einen Interessenkonflikt erklärt."))
        if p.status not in (S.SUBMITTED.value, *REVIEWING):
            return deny(_l("Die Begutachtung ist beendet."))
        return ALLOW
    if not view_internal(user, p):
        return deny(NO_RIGHT)
    if not user.has_role(*OVERSEEING):
        return deny(NO_RIGHT)
    return ALLOW


CHECK_ROLE = {CheckKind.DATA_PROTECTION.value: Role.DPO,
              CheckKind.INFORMATION_SECURITY.value: Role.ISO}


def _officer_for(user, p: Proposal, kind: str) -> Permission:
    """The user holds the role of the check `kind` and has no conflict with the proposal."""
    role = CHECK_ROLE.get(kind)
    if role is None or not has_role(user, role):
        return deny(NO_RIGHT)
    conflict = conflict_of(user, p)
    if conflict is not None:
        return deny(conflict.refusal)
    return ALLOW


def meet_condition(user, p: Proposal, kind: str) -> Permission:
    """An officer of the check's kind marks its conditions met, until the pilot starts."""
    officer = _officer_for(user, p, kind)
    if not officer.allowed:
        return officer
    if p.status not in (S.IN_REVIEW.value, S.APPROVED.value):
        return deny(_l("Auflagen werden bis zum Start des Piloten als erfüllt vermerkt."))
    return ALLOW


def make_check(user, p: Proposal, kind: str) -> Permission:
    officer = _officer_for(user, p, kind)
    if not officer.allowed:
        return officer
    if kind == CheckKind.DATA_PROTECTION.value and not p.personal_data:
        return deny(_l("Der Vorschlag verarbeitet keine personenbezogenen Daten; eine "
                       "Datenschutzprüfung ist nicht nötig."))
    if p.status != S.IN_REVIEW.value:
        return deny(_l("Prüfungen sind nur während der Begutachtung möglich."))
    return ALLOW


def publish_pilot(user, p: Proposal) -> Permission:
    if not has_role(user, Role.COORDINATOR):
        return deny(NO_RIGHT)
    if p.status not in (S.APPROVED.value, S.RUNNING.value, S.COMPLETED.value):
        return deny(_l("Nur bewilligte, laufende oder abgeschlossene Piloten können "
                       "veröffentlicht werden."))
    if not p.publication_consent:
        return deny(_l("Die Partnerorganisation hat der Veröffentlichung nicht zugestimmt."))
    return ALLOW


def manage_challenges(user) -> Permission:
    return coordinate(user)


def administer(user) -> Permission:
    return ALLOW if has_role(user, Role.ADMIN) else deny(NO_RIGHT)


def manage_organisation(user, org) -> Permission:
    if not _signed_in(user):
        return deny(NOT_SIGNED_IN)
    if not org.is_owner(user):
        return deny(_l("Nur Eigentümerinnen und Eigentümer der Organisation dürfen das."))
    return ALLOW


def propose_for(user, org) -> Permission:
    if not _signed_in(user):
        return deny(NOT_SIGNED_IN)
    if not org.is_member(user):
        return deny(_l("Sie sind nicht Mitglied dieser Organisation."), hide=True)
    return ALLOW


def view_organisation(user, org) -> Permission:
    """The members' page of an organisation: members only (others learn nothing: 404)."""
    if not _signed_in(user):
        return deny(NOT_SIGNED_IN, hide=True)
    if not org.is_member(user):
        return deny(_l("Sie sind nicht Mitglied dieser Organisation."), hide=True)
    return ALLOW


def is_last_owner(org, user) -> bool:
    """The rule "an organisation always has an owner": `user` is its only owner, so they can
    neither leave nor be removed (also checked by the domain, under the organisation's lock)."""
    return org.is_owner(user) and len(org.owners) <= 1


LAST_OWNER = _l("Die Organisation braucht mindestens eine Eigentümerin oder einen Eigentümer. "
                "Übergeben Sie die Eigentümerschaft zuerst an ein anderes Mitglied.")


def remove_member(user, org, member) -> Permission:
    """May `user` remove `member` (a User) from `org`?"""
    allowed = manage_organisation(user, org)
    if not allowed:
        return allowed
    if is_last_owner(org, member):
        return deny(LAST_OWNER)
    return ALLOW


def leave_organisation(user, org) -> Permission:
    allowed = view_organisation(user, org)
    if not allowed:
        return allowed
    if is_last_owner(org, user):
        return deny(LAST_OWNER)
    return ALLOW


def transfer_ownership(user, org) -> Permission:
    allowed = manage_organisation(user, org)
    if not allowed:
        return allowed
    if not any(m.user_id != user.id and m.role != "owner" for m in org.memberships):
        return deny(_l("Es gibt kein weiteres Mitglied, an das Sie die Eigentümerschaft übergeben "
                       "können. Laden Sie zuerst Kolleginnen und Kollegen ein."))
    return ALLOW


# ---------------------------------------------------------------- review (staff side)


def see_all_submissions(user) -> Permission:
    """The review inbox with every submitted proposal (reviewers see only their own)."""
    return ALLOW if has_role(user, *OVERSEEING) else deny(NO_RIGHT)


def see_reviews(user, p: Proposal) -> Permission:
    """Other people's reviews: an assigned reviewer sees them only after submitting their own."""
    if not view_internal(user, p):
        return deny(NO_RIGHT, hide=True)
    a = assignment_of(user, p)
    if a is None:
        return ALLOW
    if not a.active:
        if user.has_role(*OVERSEEING):
            return ALLOW
        return deny(_l("Sie haben einen Interessenkonflikt erklärt und sehen die Gutachten "
                       "nicht."))
    if not _completed_own_review(user, p):
        return deny(_l("Sie sehen die Gutachten der anderen, sobald Sie Ihr eigenes "
                       "Gutachten abgeschlossen haben."))
    return ALLOW


def choose_pilot_contact(user, p: Proposal) -> Permission:
    """Coordinators name the staff contact person of a pilot (the one name partners see)."""
    if not has_role(user, Role.COORDINATOR) or not view_internal(user, p):
        return deny(NO_RIGHT)
    if not p.is_pilot:
        return deny(_l("Eine Ansprechperson gibt es erst für einen bewilligten Piloten."))
    return ALLOW


def decide_conflict_flags(user) -> Permission:
    """Coordinators confirm or clear the shared e-mail domain flags."""
    return coordinate(user)


def unpublish_pilot(user, p: Proposal) -> Permission:
    if not has_role(user, Role.COORDINATOR):
        return deny(NO_RIGHT)
    if p.published_at is None:
        return deny(_l("Der Pilot ist nicht im Schaufenster veröffentlicht."))
    return ALLOW


def upload_attachment(user, p: Proposal) -> Permission:
    """Members while the proposal is editable; staff who may see the staff view (any time)."""
    if not view_proposal(user, p):
        return deny(NO_RIGHT, hide=True)
    if p.organisation.is_member(user):
        editable = edit_proposal(user, p)
        if not editable:
            return deny(_l("Anhänge können nur hinzugefügt werden, solange der Vorschlag "
                           "bearbeitet werden kann."))
        return ALLOW
    if view_internal(user, p):
        return ALLOW
    return deny(NO_RIGHT)


def delete_attachment(user, attachment) -> Permission:
    """Members while editable (not internal files); staff the files they uploaded themselves."""
    p = attachment.proposal
    if not download_attachment(user, attachment):
        return deny(NO_RIGHT, hide=True)
    if p.organisation.is_member(user):
        if attachment.internal:
            return deny(NO_RIGHT, hide=True)
        if not edit_proposal(user, p):
            return deny(_l("Anhänge können nur entfernt werden, solange der Vorschlag "
                           "bearbeitet werden kann."))
        return ALLOW
    if view_internal(user, p) and attachment.uploaded_by_id == user.id:
        return ALLOW
    return deny(NO_RIGHT)


# ---------------------------------------------------------------- pilot workspace

ACTIVE_PILOT = (S.APPROVED.value, S.RUNNING.value)


def use_workspace(user, p: Proposal) -> Permission:
    """The pilot's workspace: members of the organisation and staff who may see the proposal,
    once it is approved (also after it ended, read-only)."""
    if not view_proposal(user, p):
        return deny(NO_RIGHT, hide=True)
    if not p.is_pilot:
        return deny(_l("Einen Projektraum gibt es erst, wenn der Vorschlag bewilligt ist."),
                    hide=True)
    return ALLOW


def see_internal_workspace(user, p: Proposal) -> Permission:
    """Internal notes and internal documents of the workspace: staff only, never partners."""
    if not use_workspace(user, p):
        return deny(NO_RIGHT, hide=True)
    return view_internal(user, p)


def post_message(user, p: Proposal) -> Permission:
    allowed = use_workspace(user, p)
    if not allowed:
        return allowed
    if p.status not in ACTIVE_PILOT:
        return deny(_l("Der Pilot ist beendet; der Projektraum kann nur noch gelesen werden."))
    return ALLOW


def post_internal(user, p: Proposal) -> Permission:
    allowed = post_message(user, p)
    if not allowed:
        return allowed
    return see_internal_workspace(user, p)


def _member_or_coordinator(user, p: Proposal) -> bool:
    return p.organisation.is_member(user) or has_role(user, Role.COORDINATOR)


def edit_goals(user, p: Proposal) -> Permission:
    """Goals are agreed while the proposal is approved; after the start they are fixed."""
    if not view_proposal(user, p):
        return deny(NO_RIGHT, hide=True)
    if not _member_or_coordinator(user, p):
        return deny(_l("Die Ziele legen die Koordination und die Partnerorganisation fest."))
    if p.status != S.APPROVED.value:
        return deny(_l("Ziele können nur festgelegt werden, solange der Pilot bewilligt und "
                       "noch nicht gestartet ist."))
    return ALLOW


def edit_milestones(user, p: Proposal) -> Permission:
    allowed = post_message(user, p)
    if not allowed:
        return allowed
    if not _member_or_coordinator(user, p):
        return deny(_l("Meilensteine pflegen die Koordination und die Partnerorganisation."))
    return ALLOW


def upload_document(user, p: Proposal) -> Permission:
    return post_message(user, p)


def download_document(user, document) -> Permission:
    p = document.proposal
    if not use_workspace(user, p):
        return deny(NO_RIGHT, hide=True)
    if document.internal and not see_internal_workspace(user, p):
        return deny(NO_RIGHT, hide=True)
    return ALLOW


# ---------------------------------------------------------------- results report (issue 4)


def view_report(user, p: Proposal) -> Permission:
    """Members of the partner organisation (while running and after), and staff who may see
    the proposal once the report has been submitted (a draft belongs to the partner)."""
    if not view_proposal(user, p):
        return deny(NO_RIGHT, hide=True)
    report = p.results_report
    if p.status in (S.RUNNING.value, S.COMPLETED.value, S.CANCELLED.value) or report is not None:
        return ALLOW
    return deny(_l("Einen Ergebnisbericht gibt es erst, wenn der Pilot läuft."), hide=True)


def see_report_content(user, p: Proposal) -> Permission:
    """Staff see the content once it has been submitted at least once."""
    if not view_report(user, p):
        return deny(NO_RIGHT, hide=True)
    report = p.results_report
    if p.organisation.is_member(user):
        return ALLOW
    if report is None or report.submitted_at is None:
        return deny(_l("Die Partnerorganisation hat den Ergebnisbericht noch nicht eingereicht."))
    return ALLOW


def write_report(user, p: Proposal) -> Permission:
    """Members while the pilot runs and the report is a draft or was sent back."""
    if not view_report(user, p):
        return deny(NO_RIGHT, hide=True)
    if not p.organisation.is_member(user):
        return deny(_l("Den Ergebnisbericht schreiben die Mitglieder der Partnerorganisation."))
    if p.status != S.RUNNING.value:
        return deny(_l("Der Ergebnisbericht kann nur geschrieben werden, solange der Pilot "
                       "läuft."))
    report = p.results_report
    if report is not None and report.status not in ("draft", "returned"):
        return deny(_l("Der Ergebnisbericht ist eingereicht und gesperrt. Bearbeiten ist erst "
                       "wieder möglich, wenn das InnoLab ihn zur Überarbeitung zurückgibt."))
    return ALLOW


def submit_report(user, p: Proposal) -> Permission:
    return write_report(user, p)


def review_report(user, p: Proposal) -> Permission:
    """Coordinators send a submitted report back or accept it (not for their own pilot)."""
    if not view_report(user, p):
        return deny(NO_RIGHT, hide=True)
    if not has_role(user, Role.COORDINATOR):
        return deny(NO_RIGHT)
    conflict = conflict_of(user, p)
    if conflict is not None:
        return deny(conflict.refusal)
    report = p.results_report
    if report is not None and report.status == "accepted":
        return Permission(False, _l("Der Ergebnisbericht wurde bereits angenommen."),
                          moved_on=True)
    if report is None or report.status != "submitted":
        return Permission(False, _l("Es liegt kein eingereichter Ergebnisbericht zur Prüfung "
                                    "vor."), moved_on=True)
    if p.status != S.RUNNING.value:
        return Permission(False, _l("Der Pilot läuft nicht mehr."), moved_on=True)
    return ALLOW


def publish_results(user, p: Proposal) -> Permission:
    """Coordinators publish an accepted report with the partner's consent; the pilot must be
    in the showcase already or may be published with it."""
    if not view_report(user, p):
        return deny(NO_RIGHT, hide=True)
    if not has_role(user, Role.COORDINATOR):
        return deny(NO_RIGHT)
    report = p.results_report
    if report is None or report.status != "accepted":
        return deny(_l("Nur ein angenommener Ergebnisbericht kann veröffentlicht werden."))
    if report.published_at is not None:
        return deny(_l("Die Ergebnisse sind bereits veröffentlicht."))
    if not report.publication_consent:
        return deny(_l("Die Partnerorganisation hat der Veröffentlichung der Ergebnisse nicht "
                       "zugestimmt."))
    if p.published_at is None:
        pilot = publish_pilot(user, p)
        if not pilot:
            return deny(_l("Die Ergebnisse erscheinen mit dem Piloten im Schaufenster, der Pilot "
                           "kann aber nicht veröffentlicht werden: %(reason)s",
                           reason=pilot.reason))
    return ALLOW


def unpublish_results(user, p: Proposal) -> Permission:
    if not view_report(user, p):
        return deny(NO_RIGHT, hide=True)
    if not has_role(user, Role.COORDINATOR):
        return deny(NO_RIGHT)
    report = p.results_report
    if report is None or report.published_at is None:
        return deny(_l("Die Ergebnisse sind nicht veröffentlicht."))
    return ALLOW


# ---------------------------------------------------------------- consent to publication

CONSENT_PILOT, CONSENT_RESULTS = "pilot", "results"


def change_publication_consent(user, p: Proposal, what: str) -> Permission:
    """Members of the proposing organisation give or withdraw their consent to publication at
    any time once the proposal has left their hands (while they edit it, the form holds it);
    the consent to publishing the results, once the report has been submitted."""
    if not _signed_in(user):
        return deny(NOT_SIGNED_IN)
    if not p.organisation.is_member(user):
        return deny(_l("Nur Mitglieder der vorschlagenden Organisation können das."),
                    hide=not is_staff(user))
    if what == CONSENT_PILOT:
        if is_editable(p):
            return deny(_l("Solange Sie den Vorschlag bearbeiten, legen Sie die Zustimmung im "
                           "Formular fest."))
        return ALLOW
    report = p.results_report
    if report is None or report.status not in ("submitted", "accepted"):
        return deny(_l("Die Zustimmung zur Veröffentlichung der Ergebnisse legen Sie im "
                       "Ergebnisbericht fest, solange Sie ihn bearbeiten."))
    return ALLOW
