"""The record of processing activities of the platform (Art. 30 DSGVO).

One description of what the platform processes, for whom and how long, shown to admins and
the data-protection officer as a page and exported as CSV and PDF from the same data. The
periods come from the deletion schedule (domain/retention.py); the proposals whose
data-protection check found a DSFA or an AV-Vertrag needed are listed with their state.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from flask_babel import gettext
from fpdf import FPDF
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from innolab.i18n import format_date, lazy_gettext as _l

from ..extensions import db
from ..models import Check, CheckKind
from ..models._base import utcnow
from . import pages, retention
from .review import AGREEMENT_LABELS, DPIA_LABELS, OUTCOME_LABELS

CONTROLLER = "Zentrum für Digitalisierung Mecklenburg-Vorpommern (ZDMV)"
PUBLIC_TASK = _l("Art. 6 Abs. 1 lit. e DSGVO i. V. m. § 4 DSG M-V (Erfüllung der Aufgaben des "
                 "ZDMV)")


@dataclass(frozen=True)
class Activity:
    name: object
    purposes: object
    legal_basis: object
    people: object
    data: object
    recipients: object
    retention_keys: tuple[str, ...]
    retention_note: object = ""


ACTIVITIES: tuple[Activity, ...] = (
    Activity(
        _l("Nutzerkonten, Anmeldung und Rollen"),
        _l("Registrierung, Anmeldung (auch über Identitätsanbieter), Verwaltung der Konten und "
           "der Rollen der Beschäftigten"),
        PUBLIC_TASK,
        _l("Partnerinnen und Partner, Beschäftigte des ZDMV"),
        _l("Name, E-Mail-Adresse, Passwort (nur als Hash), Sprache, Zeitpunkte der Anmeldung, "
           "verknüpfte Identitäten (Anbieter und Kennung), Rollen"),
        _l("keine; bei Anmeldung über einen Identitätsanbieter dieser Anbieter"),
        ("unconfirmed_accounts",),
        _l("Konten bis zur Löschung durch die Person; die Person kann ihre Daten jederzeit "
           "herunterladen.")),
    Activity(
        _l("Organisationen und Mitgliedschaften"),
        _l("Profile der Partnerorganisationen, Mitglieder und Einladungen"),
        PUBLIC_TASK,
        _l("Mitglieder von Partnerorganisationen, eingeladene Personen"),
        _l("Name der Organisation, Ort, Website, Mitglieder mit Rolle, E-Mail-Adressen "
           "eingeladener Personen"),
        _l("Mitglieder derselben Organisation; Beschäftigte des InnoLab"),
        (),
        _l("Einladungen verfallen nach 14 Tagen; Mitgliedschaften bis zum Austritt.")),
    Activity(
        _l("Pilotvorschläge, Begutachtung und Entscheidung"),
        _l("Einreichen, Begutachten, Prüfen (Datenschutz, Informationssicherheit) und "
           "Entscheiden über Pilotvorschläge"),
        PUBLIC_TASK,
        _l("Partnerinnen und Partner, Ansprechpersonen der Vorschläge, Gutachterinnen und "
           "Gutachter, Entscheidende"),
        _l("Inhalte der Vorschläge und ihrer Fassungen, Kontaktdaten der Ansprechperson, "
           "Anhänge, Gutachten, Prüfergebnisse, Entscheidungen mit Begründung"),
        _l("die nach ihrer Rolle beteiligten Beschäftigten; nie Personen mit einem "
           "Interessenkonflikt"),
        ("stale_drafts", "closed_proposals")),
    Activity(
        _l("Zusammenarbeit in laufenden Piloten"),
        _l("Nachrichten, Dokumente, Meilensteine, Ziele und Ergebnisberichte der Piloten"),
        PUBLIC_TASK,
        _l("Team der Partnerorganisation, Beschäftigte des InnoLab"),
        _l("Nachrichten und ihre Anhänge, Dokumente mit Fassungen, Meilensteine, Ergebnisse"),
        _l("das Team des Piloten; interne Notizen nur Beschäftigte"),
        (),
        _l("Als Unterlage des Verfahrens mit dem Piloten aufbewahrt.")),
    Activity(
        _l("Veröffentlichung im Schaufenster und als offene Daten"),
        _l("Öffentliche Darstellung von Herausforderungen, Piloten und Ergebnissen"),
        _l("Art. 6 Abs. 1 lit. a DSGVO (Einwilligung der Partnerorganisation, jederzeit "
           "widerrufbar)"),
        _l("Partnerorganisationen"),
        _l("Name der Organisation, Titel und Zusammenfassung des Piloten, Ergebnisse; keine "
           "Kontaktdaten, keine Namen von Beschäftigten"),
        _l("die Öffentlichkeit (Website, Schnittstelle, Feeds)"),
        (),
        _l("Bis zum Widerruf der Einwilligung; danach sofort nicht mehr öffentlich.")),
    Activity(
        _l("Benachrichtigungen und E-Mails"),
        _l("Information über Schritte im Verfahren, Bestätigungs- und Anmeldelinks"),
        PUBLIC_TASK,
        _l("alle Nutzerinnen und Nutzer"),
        _l("E-Mail-Adresse, Inhalt der Benachrichtigung, Zeitpunkt der Zustellung"),
        _l("der für den Versand genutzte Mailserver"),
        ("notifications", "sent_mails")),
    Activity(
        _l("Protokollierung und Schutz vor Angriffen"),
        _l("Nachvollziehbarkeit von Änderungen, Erkennen und Abwehren von Angriffen"),
        _l("Art. 6 Abs. 1 lit. e und Art. 32 DSGVO"),
        _l("alle Nutzerinnen und Nutzer, Besucherinnen und Besucher bei sicherheitsrelevanten "
           "Ereignissen"),
        _l("Audit-Einträge (wer, was, wann), IP-Adresse, Zähler fehlgeschlagener Anmeldungen "
           "(nur als Hash)"),
        _l("Administratorinnen und Administratoren"),
        ("audit_ips",)),
)

MEASURES: tuple[object, ...] = (
    _l("Verschlüsselte Übertragung (TLS, HSTS); Cookies nur über HTTPS, HttpOnly, SameSite"),
    _l("Passwörter nur als Argon2-Hash; Abgleich mit Listen bekannter Passwörter"),
    _l("Zweiter Faktor für Beschäftigte; verzögerte Wiederholung fehlgeschlagener Anmeldungen"),
    _l("Rollen- und Rechtekonzept; Regeln für Interessenkonflikte; Prüfung jeder Anfrage auf "
       "dem Server"),
    _l("Audit-Protokoll jeder Änderung und sicherheitsrelevanter Ereignisse"),
    _l("Prüfung hochgeladener Dateien auf Typ und Größe"),
    _l("Löschfristen, die täglich automatisch angewendet werden"),
    _l("Datensicherung mit geprüfter Wiederherstellung"),
    _l("Datensparsamkeit: öffentlich nur, was die Partnerorganisation freigegeben hat"),
)


@dataclass(frozen=True)
class Row:
    """One activity with its periods written out, as every output shows it."""

    name: str
    purposes: str
    legal_basis: str
    people: str
    data: str
    recipients: str
    periods: str


def rows() -> list[Row]:
    by_key = {p.key: p for p in retention.periods()}
    out = []
    for a in ACTIVITIES:
        parts = [f"{by_key[k].label}: {by_key[k].text}" for k in a.retention_keys]
        if a.retention_note:
            parts.append(str(a.retention_note))
        out.append(Row(str(a.name), str(a.purposes), str(a.legal_basis), str(a.people),
                       str(a.data), str(a.recipients), "; ".join(parts)))
    return out


@dataclass(frozen=True)
class ProposalPrivacy:
    reference: str
    title: str
    outcome: str
    dpia: str
    agreement: str
    open: bool  # something needed is not done yet


def proposals_checked() -> list[ProposalPrivacy]:
    """Per proposal, the latest data-protection check's DSFA and AV-Vertrag, open ones first."""
    checks = db.session.execute(
        select(Check).where(Check.kind == CheckKind.DATA_PROTECTION.value,
                            Check.dpia.is_not(None))
        .options(selectinload(Check.proposal))  # one query for all the proposals
        .order_by(Check.proposal_id, Check.created_at.desc(), Check.id.desc())).scalars()
    latest: dict[int, Check] = {}
    for c in checks:
        latest.setdefault(c.proposal_id, c)
    out = []
    for c in latest.values():
        p = c.proposal
        out.append(ProposalPrivacy(
            p.display_reference, p.title, str(OUTCOME_LABELS.get(c.outcome, c.outcome)),
            str(DPIA_LABELS[c.dpia or "not_needed"]),
            str(AGREEMENT_LABELS[c.processing_agreement or "not_needed"]),
            "needed" in (c.dpia, c.processing_agreement)))
    return sorted(out, key=lambda r: (not r.open, r.reference))


# ---------------------------------------------------------------- exports

HEADERS = (_l("Verarbeitungstätigkeit"), _l("Zwecke"), _l("Rechtsgrundlage"),
           _l("Betroffene Personen"), _l("Kategorien personenbezogener Daten"),
           _l("Empfänger"), _l("Löschfristen"))


def as_csv() -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow([str(h) for h in HEADERS])
    for r in rows():
        writer.writerow([r.name, r.purposes, r.legal_basis, r.people, r.data, r.recipients,
                         r.periods])
    # the BOM lets spreadsheet programs read it as UTF-8
    return "\ufeff" + out.getvalue()


_LATIN1 = str.maketrans({"„": '"', "“": '"', "”": '"', "‚": "'", "‘": "'", "’": "'",
                         "–": "-", "—": "-", "…": "...", "\u00a0": " "})


def _pdf_text(value: object) -> str:
    """The PDF's built-in fonts know Latin-1 (umlauts and ß) only."""
    return str(value).translate(_LATIN1).encode("latin-1", "replace").decode("latin-1")


def as_pdf() -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(_pdf_text(gettext("Verzeichnis von Verarbeitungstätigkeiten")))
    pdf.set_author(_pdf_text(CONTROLLER))
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    def line(text, size=10, style="", gap=1.5):
        pdf.set_font("Helvetica", style, size)
        pdf.multi_cell(width, size * 0.5, _pdf_text(text), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(gap)

    line(gettext("Verzeichnis von Verarbeitungstätigkeiten (Art. 30 DSGVO)"), 15, "B", 3)
    line(gettext("InnoLab-Plattform des ZDMV – Stand: %(date)s",
                 date=format_date(utcnow(), "long")), 10)
    line(gettext("Verantwortlicher: %(controller)s, %(email)s, Telefon %(phone)s",
                 controller=CONTROLLER, email=pages.CONTACT_EMAIL, phone=pages.CONTACT_PHONE),
         10, "", 4)
    labels = [str(h) for h in HEADERS[1:]]
    for r in rows():
        line(r.name, 12, "B", 1)
        for label, value in zip(labels, (r.purposes, r.legal_basis, r.people, r.data,
                                         r.recipients, r.periods), strict=True):
            line(f"{label}: {value}", 9, "", 0.5)
        pdf.ln(3)
    line(gettext("Technische und organisatorische Maßnahmen (Art. 32 DSGVO)"), 12, "B", 1)
    for m in MEASURES:
        line(f"- {m}", 9, "", 0.5)
    checked = proposals_checked()
    if checked:
        pdf.ln(3)
        line(gettext("Datenschutz-Folgenabschätzung und Auftragsverarbeitung je Vorschlag"),
             12, "B", 1)
        for c in checked:
            line(gettext("%(reference)s %(title)s – Prüfung: %(outcome)s; DSFA: %(dpia)s; "
                         "AV-Vertrag: %(agreement)s", reference=c.reference, title=c.title,
                         outcome=c.outcome, dpia=c.dpia, agreement=c.agreement), 9, "", 0.5)
    return bytes(pdf.output())
