"""Demo data: `flask --app wsgi innolab seed-demo` (called by `make run`).

Loads real authorities of Mecklenburg-Vorpommern, topics, challenges, four fictitious partner
organisations, one staff account per role and proposals in every status the lifecycle can
reach without a results report. Every status change goes through `workflow.apply`, and
reviewers, reviews, checks and publication through the staff's domain functions, so the
timelines and the audit log are the real thing. The mails those steps queue are removed
again, so that the first start does not fill the log with mail.

Never run this on a production database: every demo account has the same, published
password.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import delete, func, select
from werkzeug.datastructures import FileStorage

from .domain import audit, criteria, results, review, uploads, workflow
from .domain.accounts import hash_password
from .extensions import db
from .models import (
    Document, DocumentVersion, Message, Milestone, PilotGoal,
    Authority, Challenge, ChallengeCriterion, ChallengeQuestion, ChallengeStatus, CheckKind,
    CheckOutcome,
    MemberRole, Membership,
    Organisation, OutboxMail, Proposal, Recommendation, Role, Topic, User, UserRole,
)

DEMO_PASSWORD = "innolab-demo-2026"

# (name, English name, description, weight, scale up to, knock-out minimum)
CRITERIA_PHISHING = (
    ("Wirkung auf das Sicherheitsbewusstsein", "Effect on security awareness",
     "Erkennen Beschäftigte Phishing danach nachweislich öfter?", 3, 5, None),
    ("Datenschutz der Auswertung", "Privacy of the evaluation",
     "Bleiben einzelne Beschäftigte in den Auswertungen unerkennbar?", 2, 10, 6),
    ("Umsetzbarkeit", "Feasibility",
     "Lässt sich der Pilot mit Team und Zeitplan realistisch umsetzen?", 1, 5, None),
)
# The phishing challenge's questions (kind, question, English, required, unit, options) and the
# default set's for initiative proposals (docs/calls.md); optional, since the demo's proposals
# were written before them.
QUESTIONS_PHISHING = (
    ("number", "Wie viele Beschäftigte sollen teilnehmen?", "How many employees take part?", False,
     "Beschäftigte", None),
    ("single_choice", "Wo laufen die Übungen?", "Where do the exercises run?", False, None,
     [{"de": "Im Landesnetz", "en": "In the state network"},
      {"de": "Beim Anbieter", "en": "At the provider"}]),
    ("yes_no", "Gibt es schon Referenzen in Behörden?", "Are there references in public bodies?",
     False, None, None),
)
QUESTIONS_DEFAULT = (
    ("long_text", "Wer wäre die passende Behörde für den Piloten?",
     "Which public body would suit the pilot?", False, None, None),
)
DOMAIN = "innolab.example"


@dataclass(frozen=True)
class DemoAccount:
    email: str
    password: str
    roles: tuple[str, ...]
    description: str
    name: str

    def __iter__(self):  # (email, password, roles, description), e.g. for a README table
        return iter((self.email, self.password, self.roles, self.description))


def _account(local: str, name: str, roles: tuple[Role, ...], description: str) -> DemoAccount:
    return DemoAccount(f"{local}@{DOMAIN}", DEMO_PASSWORD, tuple(r.value for r in roles),
                       description, name)


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    _account("admin", "Katrin Albrecht", (Role.ADMIN,),
             "Administration: Konten und Rollen, Behörden, Themen, Seiten, Audit-Protokoll"),
    _account("koordination", "Jens Behrendt", (Role.COORDINATOR,),
             "Koordination: Herausforderungen, Sichtung, Zuweisung, Nachbesserung, Piloten, "
             "Veröffentlichung"),
    _account("gutachten", "Dr. Miriam Schulz", (Role.REVIEWER,),
             "Begutachtung: hat Gutachten abgeschlossen und eines in Arbeit"),
    _account("gutachten2", "Tobias Wendt", (Role.REVIEWER,),
             "Begutachtung: zweiter Gutachter"),
    _account("entscheidung", "Dr. Claudia Hoffmann", (Role.DECIDER,),
             "Entscheidung: bewilligt oder lehnt begutachtete Vorschläge ab"),
    _account("datenschutz", "Sabine Lorenz", (Role.DPO,),
             "Datenschutzbeauftragte: Datenschutzprüfung"),
    _account("informationssicherheit", "Marco Peters", (Role.ISO,),
             "Informationssicherheitsbeauftragter: Prüfung der Informationssicherheit"),
    _account("partner", "Lena Fischer", (),
             "Partnerin: Eigentümerin der Nordlicht KI GmbH, Mitglied im Institut für "
             "digitale Verwaltung Greifswald e. V."),
    _account("partner2", "Mehmet Yılmaz", (),
             "Partner: Eigentümer der Boddenwerk Software GmbH, Mitglied der Seenplatte "
             "Geodaten UG"),
    _account("partner3", "Prof. Dr. Jana Voß", (),
             "Partnerin: Eigentümerin des Instituts für digitale Verwaltung Greifswald e. V., "
             "Mitglied der Nordlicht KI GmbH"),
    _account("partner4", "Ole Hansen", (),
             "Partner: Eigentümer der Seenplatte Geodaten UG"),
)

REGIERUNG = "https://www.regierung-mv.de"

AUTHORITIES = (
    ("Staatskanzlei Mecklenburg-Vorpommern", "StK", REGIERUNG),
    ("Ministerium für Inneres, Bau und Digitalisierung", "IM", REGIERUNG),
    ("Ministerium für Wirtschaft, Infrastruktur, Tourismus und Arbeit", "WM", REGIERUNG),
    ("Ministerium für Klimaschutz, Landwirtschaft, ländliche Räume und Umwelt", "LM", REGIERUNG),
    ("Ministerium für Bildung und Kindertagesförderung", "BM", REGIERUNG),
    ("Ministerium für Soziales, Gesundheit und Sport", "SM", REGIERUNG),
    ("Landesamt für innere Verwaltung", "LAiV", "https://www.laiv-mv.de"),
    ("Landesamt für Gesundheit und Soziales", "LAGuS", "https://www.lagus.mv-regierung.de"),
    ("Landesamt für Umwelt, Naturschutz und Geologie", "LUNG", "https://www.lung.mv-regierung.de"),
    ("Landesamt für Straßenbau und Verkehr", "LS", None),
    ("Landeskriminalamt Mecklenburg-Vorpommern", "LKA", None),
)

TOPICS = (
    ("ki", "KI", "AI"),
    ("buergerservice", "Bürgerservice", "Citizen services"),
    ("verwaltungsdigitalisierung", "Verwaltungsdigitalisierung", "Digital administration"),
    ("umwelt-klima", "Umwelt und Klima", "Environment and climate"),
    ("gesundheit", "Gesundheit", "Health"),
    ("mobilitaet", "Mobilität", "Mobility"),
    ("bildung", "Bildung", "Education"),
    ("open-data", "Open Data", "Open data"),
    ("it-sicherheit", "IT-Sicherheit", "IT security"),
)

ORGANISATIONS = (
    # key, name, slug, kind, city, website, description, owner, members
    ("nordlicht", "Nordlicht KI GmbH", "nordlicht-ki-gmbh", "startup", "Rostock",
     "https://nordlicht-ki.example",
     "Start-up aus Rostock für Sprach- und Bildverarbeitung mit künstlicher Intelligenz. "
     "Unsere Modelle laufen in deutschen Rechenzentren und lassen sich in bestehende "
     "Fachverfahren einbinden.", "partner", ("partner3",)),
    ("boddenwerk", "Boddenwerk Software GmbH", "boddenwerk-software-gmbh", "sme", "Stralsund",
     "https://boddenwerk.example",
     "Softwarehaus mit 40 Beschäftigten. Seit 2009 entwickeln wir Fachverfahren und Portale "
     "für Kommunen und Landesbehörden in Norddeutschland.", "partner2", ()),
    ("idv", "Institut für digitale Verwaltung Greifswald e. V.", "institut-digitale-verwaltung",
     "research", "Greifswald", "https://idv-greifswald.example",
     "Gemeinnütziges An-Institut, das Verwaltungsprozesse, Open Data und nutzerzentrierte "
     "Gestaltung erforscht und mit Behörden erprobt.", "partner3", ("partner",)),
    ("seenplatte", "Seenplatte Geodaten UG (haftungsbeschränkt)", "seenplatte-geodaten",
     "startup", "Neubrandenburg", "https://seenplatte-geodaten.example",
     "Junges Team aus der Mecklenburgischen Seenplatte: Satelliten- und Drohnendaten für "
     "Umwelt, Landwirtschaft und Infrastruktur.", "partner4", ("partner2",)),
)

CHALLENGES = (
    # key, title, authority short name, topics, status, deadline in days, summary, description
    ("anfragen", "KI-gestützte Beantwortung von Bürgeranfragen",
     "IM", ("ki", "buergerservice"), "published", 60,
     "Bürgerinnen und Bürger sollen auf häufige Fragen zu Verwaltungsleistungen rund um die "
     "Uhr verlässliche Antworten erhalten – auf Grundlage geprüfter Texte der Landesverwaltung.",
     "## Ausgangslage\n\n"
     "Die Servicestellen der Landesverwaltung erhalten jedes Jahr mehrere zehntausend Anfragen "
     "per E-Mail, Telefon und Kontaktformular. Ein großer Teil betrifft wiederkehrende Fragen "
     "zu Zuständigkeiten, Unterlagen und Bearbeitungsständen.\n\n"
     "## Was wir suchen\n\n"
     "- einen Assistenten, der ausschließlich auf freigegebenen Inhalten (Leistungsbeschreibungen, "
     "FAQ) antwortet und seine Quellen nennt,\n"
     "- eine Übergabe an Beschäftigte, wenn eine Frage nicht sicher beantwortet werden kann,\n"
     "- Betrieb in Deutschland, barrierefrei nach BITV 2.0.\n\n"
     "## Rahmen\n\n"
     "Pilot über sechs Monate mit einer Servicestelle; personenbezogene Daten werden nur "
     "verarbeitet, soweit es für die Beantwortung nötig ist."),
    ("strassen", "Digitale Erfassung von Straßenschäden",
     "LS", ("mobilitaet", "verwaltungsdigitalisierung", "ki"), "published", 45,
     "Schlaglöcher, Risse und Schäden an Leitplanken sollen schneller erkannt und "
     "priorisiert werden, ohne zusätzliche Kontrollfahrten.",
     "## Ausgangslage\n\n"
     "Die Straßenmeistereien kontrollieren rund 10.000 km Bundes- und Landesstraßen. Schäden "
     "werden heute auf Papier oder in Tabellen erfasst und erst später in das "
     "Straßeninformationssystem übertragen.\n\n"
     "## Was wir suchen\n\n"
     "Eine Lösung, die Schäden bei ohnehin stattfindenden Fahrten automatisch erfasst, "
     "verortet und nach Dringlichkeit ordnet. Personen und Kennzeichen auf Bildern müssen "
     "zuverlässig unkenntlich gemacht werden."),
    ("blaualgen", "Frühwarnsystem für Blaualgen in Badegewässern",
     "LUNG", ("umwelt-klima", "gesundheit", "open-data"), "published", 90,
     "Gesundheitsämter und Badegäste sollen früher erfahren, wenn sich an einer Badestelle "
     "Blaualgen ausbreiten.",
     "## Ausgangslage\n\n"
     "Mecklenburg-Vorpommern hat mehr als 500 überwachte Badestellen. Proben werden in "
     "festen Abständen genommen; eine Massenentwicklung von Cyanobakterien fällt oft erst "
     "spät auf.\n\n"
     "## Was wir suchen\n\n"
     "Verfahren, die aus Satelliten-, Sensor- oder Wetterdaten ein Risiko vorhersagen und die "
     "Ergebnisse als offene Daten bereitstellen, damit Kommunen und Apps sie nutzen können."),
    ("foerderung", "Automatisierte Vorprüfung von Förderanträgen",
     "WM", ("verwaltungsdigitalisierung", "ki"), "closed", 30,
     "Förderanträge sollen schneller auf Vollständigkeit und formale Voraussetzungen "
     "geprüft werden, damit mehr Zeit für die fachliche Bewertung bleibt.",
     "## Ausgangslage\n\n"
     "In den Förderprogrammen des Landes gehen jährlich mehrere tausend Anträge ein. Ein "
     "großer Teil der Bearbeitungszeit entfällt auf die formale Vorprüfung.\n\n"
     "## Was wir suchen\n\n"
     "Eine Unterstützung der Sachbearbeitung, die fehlende Unterlagen und Widersprüche "
     "erkennt. Die Entscheidung bleibt immer bei den Beschäftigten."),
    ("lernplattform", "Barrierefreie Lernplattform für die Lehrkräftefortbildung",
     "BM", ("bildung",), "draft", 120,
     "Fortbildungen für Lehrkräfte sollen ortsunabhängig und barrierefrei angeboten werden.",
     "## Ausgangslage\n\n"
     "Viele Fortbildungen finden bisher in Präsenz statt; für Lehrkräfte im ländlichen Raum "
     "bedeutet das lange Anfahrten.\n\n"
     "## Was wir suchen\n\n"
     "Eine Lernplattform, die mit den Landeskonten der Lehrkräfte funktioniert, "
     "barrierefrei ist und ohne Tracking auskommt. (Entwurf – noch nicht veröffentlicht.)"),
    ("phishing", "Erkennung von Phishing-Mails in der Landesverwaltung",
     "IM", ("it-sicherheit", "ki"), "published", 30,
     "Gefährliche E-Mails sollen erkannt werden, bevor Beschäftigte auf einen Link klicken.",
     "## Ausgangslage\n\n"
     "Phishing ist das häufigste Einfallstor für Angriffe auf Behörden. Bestehende Filter "
     "erkennen gezielte Angriffe auf einzelne Behörden nur unzureichend.\n\n"
     "## Was wir suchen\n\n"
     "Lösungen, die verdächtige Nachrichten erkennen, Beschäftigte verständlich warnen und "
     "Meldungen an das CERT erleichtern – betrieben im Landesnetz."),
)

# The English texts of some challenges (the others show their German texts, marked as German,
# on the English pages).
CHALLENGES_EN = {
    "anfragen": dict(
        title_en="AI-assisted answers to citizens' enquiries",
        summary_en="Citizens should get reliable answers to frequent questions about public "
                   "services around the clock, based on texts checked by the state "
                   "administration.",
        description_en="## Where we stand\n\n"
                       "The service desks of the state administration receive tens of "
                       "thousands of enquiries a year by e-mail, phone and contact form. Many "
                       "of them ask the same questions about responsibilities, documents and "
                       "processing times.\n\n"
                       "## What we are looking for\n\n"
                       "- an assistant that answers only from approved content (service "
                       "descriptions, FAQ) and names its sources,\n"
                       "- a hand-over to staff when a question cannot be answered with "
                       "certainty,\n"
                       "- operation in Germany, accessible under BITV 2.0."),
    "blaualgen": dict(
        title_en="Early warning of blue-green algae at bathing waters",
        summary_en="Health offices and bathers should learn earlier when blue-green algae "
                   "spread at a bathing spot."),
}


# ------------------------------------------------------------------ proposals

def _contact(owner: DemoAccount) -> dict:
    return {"contact_name": owner.name, "contact_email": owner.email,
            "contact_phone": "0381 123456-0"}


PROPOSALS = (
    # key, organisation, challenge (or None), topics, story, fields
    ("sprachassistent", "nordlicht", "anfragen", ("ki", "buergerservice"), "draft", dict(
        title="Sprachassistent für das Bürgertelefon",
        public_summary="Ein Sprachassistent nimmt Anrufe an und beantwortet einfache Fragen.",
        problem="Zu Stoßzeiten sind die Leitungen der Servicestellen belegt.",
        solution=None, benefit=None, trl=4, duration_months=None, cost_estimate=None,
        personal_data=True, personal_data_details=None, hosting_location=None,
        publication_consent=False)),
    ("wohngeld", "boddenwerk", "anfragen", ("ki", "buergerservice"), "submitted", dict(
        title="Antwortassistent für Fragen zum Wohngeld",
        public_summary="Ein Assistent beantwortet Fragen zum Wohngeld auf Grundlage der "
                       "geprüften Leistungsbeschreibungen und nennt immer die Quelle.",
        problem="Die Wohngeldstellen erhalten viele gleichartige Fragen zu Unterlagen und "
                "Bearbeitungszeiten; die Beschäftigten fehlen dann bei der Bearbeitung.",
        solution="Retrieval-gestützter Assistent auf einem Open-Source-Sprachmodell, "
                 "betrieben im Landesrechenzentrum. Antworten nur aus freigegebenen Texten, "
                 "mit Quellenangabe und Übergabe an die Servicestelle.",
        benefit="Wir erwarten 30 % weniger Routineanfragen und kürzere Wartezeiten.",
        trl=6, duration_months=6, cost_estimate=58000, personal_data=False,
        hosting_location="Landesrechenzentrum Schwerin",
        security_notes="Betrieb nach BSI IT-Grundschutz; keine Speicherung von Chatverläufen.",
        publication_consent=True)),
    ("phishing-melder", "idv", "phishing", ("it-sicherheit", "ki"), "anonymous_review", dict(
        title="Melde-Knopf für verdächtige E-Mails",
        public_summary="Ein Knopf im Mailprogramm meldet verdächtige E-Mails an das CERT und "
                       "sagt den Beschäftigten sofort, ob eine Mail gefährlich ist.",
        problem="Verdächtige E-Mails werden selten gemeldet, weil der Weg zum CERT umständlich "
                "ist.",
        solution="Das Institut für digitale Verwaltung Greifswald hat in einem Vorprojekt einen "
                 "Melde-Knopf erprobt, der die Mail mit ihren Kopfzeilen an das CERT gibt und "
                 "eine erste Einschätzung zurückmeldet.",
        benefit="Mehr Meldungen, schnellere Warnungen an alle Behörden.",
        trl=5, duration_months=6, cost_estimate=42000, personal_data=True,
        personal_data_details="Die gemeldeten E-Mails; sie werden nach der Auswertung gelöscht.",
        hosting_location="Landesrechenzentrum Schwerin",
        publication_consent=True)),
    ("dashcam", "nordlicht", "strassen", ("mobilitaet", "ki"), "in_review", dict(
        title="Schadenserkennung mit Kameras an Dienstfahrzeugen",
        public_summary="Kameras an Fahrzeugen der Straßenmeistereien erkennen Straßenschäden "
                       "automatisch und melden sie mit Ort und Dringlichkeit.",
        problem="Schäden werden heute bei Kontrollfahrten von Hand notiert und erst später "
                "übertragen; kleinere Schäden fallen oft erst auf, wenn sie teuer werden.",
        solution="Handelsübliche Kameras an zehn Dienstfahrzeugen; ein Modell erkennt "
                 "Schlaglöcher, Risse und beschädigte Leitplanken direkt im Fahrzeug und "
                 "überträgt nur Ausschnitte mit Schäden.",
        benefit="Schäden werden im Schnitt Wochen früher bekannt; die Straßenmeistereien "
                "planen Reparaturen nach Dringlichkeit.",
        trl=5, duration_months=9, cost_estimate=94000, personal_data=True,
        personal_data_details="Auf Bildern können Personen und Kfz-Kennzeichen zu sehen sein. "
                              "Sie werden im Fahrzeug automatisch verpixelt, bevor Bilder "
                              "übertragen werden; Rohbilder werden nicht gespeichert.",
        hosting_location="Rechenzentrum in Rostock (ISO 27001)",
        security_notes="Verschlüsselte Übertragung, Geräteverwaltung über das Landesnetz.",
        publication_consent=True)),
    ("badestellen", "idv", "blaualgen", ("open-data", "umwelt-klima"), "changes_requested", dict(
        title="Offene Daten zur Badegewässerqualität",
        public_summary="Messwerte und Warnungen zu allen Badestellen als offene Daten und "
                       "als Karte für Badegäste.",
        problem="Die Ergebnisse der Probenahmen sind verstreut veröffentlicht und nicht "
                "maschinenlesbar.",
        solution="Eine Schnittstelle nach dem Standard OGC SensorThings mit einer einfachen "
                 "Karte; Daten unter der Lizenz Datenlizenz Deutschland 2.0.",
        benefit="Kommunen, Tourismus und Apps können die Daten direkt nutzen.",
        trl=7, duration_months=6, cost_estimate=39000, personal_data=False,
        hosting_location="Server der Universität Greifswald",
        security_notes="Nur öffentliche Messdaten; keine Anmeldung nötig.",
        publication_consent=True)),
    ("satellit", "seenplatte", "blaualgen", ("umwelt-klima", "gesundheit", "open-data"),
     "approved", dict(
        title="Blaualgen-Frühwarnung mit Satellitendaten",
        title_en="Blue-green algae early warning from satellite data",
        public_summary_en="Every day, freely available Sentinel-2 images give the risk of an "
                          "algal bloom for each bathing spot.",
        public_summary="Aus frei verfügbaren Sentinel-2-Aufnahmen wird täglich das Risiko "
                       "einer Blaualgenblüte für jede Badestelle berechnet.",
        problem="Eine Massenentwicklung von Blaualgen wird zwischen zwei Probenahmen oft "
                "nicht bemerkt.",
        solution="Auswertung von Satellitendaten (Copernicus) und Wetterdaten mit einem "
                 "erprobten Modell; Warnungen für die Gesundheitsämter und als offene Daten.",
        benefit="Gesundheitsämter können gezielt zusätzliche Proben nehmen; Badegäste "
                "werden früher gewarnt.",
        trl=6, duration_months=12, cost_estimate=72000, personal_data=False,
        hosting_location="Cloud-Rechenzentrum in Frankfurt am Main (C5-testiert)",
        security_notes="Keine personenbezogenen Daten; Zugriff der Ämter über das Landesportal.",
        publication_consent=True)),
    ("bescheide", "boddenwerk", "foerderung", ("verwaltungsdigitalisierung", "ki"), "rejected",
     dict(
        title="Vollautomatische Bescheiderstellung für Förderanträge",
        public_summary="Förderanträge werden automatisch bewertet und Bescheide ohne "
                       "menschliche Prüfung erstellt.",
        problem="Die Bearbeitung von Förderanträgen dauert mehrere Monate.",
        solution="Ein Regelwerk und ein Sprachmodell bewerten Anträge und erzeugen die "
                 "Bescheide vollautomatisch.",
        benefit="Bescheide innerhalb eines Tages.",
        trl=3, duration_months=4, cost_estimate=120000, personal_data=True,
        personal_data_details="Antragsdaten von Unternehmen und deren Ansprechpersonen.",
        hosting_location="Cloud-Dienst in den USA",
        security_notes="Noch nicht festgelegt.",
        publication_consent=False)),
    ("phishing-training", "idv", "phishing", ("it-sicherheit",), "withdrawn", dict(
        title="Phishing-Simulation für Beschäftigte",
        public_summary="Simulierte Phishing-Mails schulen Beschäftigte im Erkennen echter "
                       "Angriffe.",
        problem="Beschäftigte erkennen gezielte Phishing-Mails zu selten.",
        solution="Regelmäßige, angekündigte Simulationen mit kurzen Lernmodulen.",
        benefit="Weniger erfolgreiche Angriffe.",
        trl=8, duration_months=6, cost_estimate=25000, personal_data=True,
        personal_data_details="Auswertung nur anonymisiert auf Ebene der Behörde.",
        hosting_location="Landesrechenzentrum Schwerin",
        publication_consent=False)),
    ("vorpruefung", "nordlicht", "foerderung", ("verwaltungsdigitalisierung", "ki"), "running",
     dict(
        title="KI-Vorprüfung von Förderanträgen",
        title_en="AI pre-check of funding applications",
        public_summary="Ein Assistent prüft eingehende Förderanträge auf Vollständigkeit und "
                       "Widersprüche und weist die Sachbearbeitung auf Auffälligkeiten hin. "
                       "Die Entscheidung bleibt bei den Beschäftigten.",
        problem="Die formale Vorprüfung bindet einen großen Teil der Bearbeitungszeit.",
        solution="Dokumentenerkennung und ein Sprachmodell gleichen Antrag, Anlagen und "
                 "Förderrichtlinie ab und erstellen eine Checkliste für die Sachbearbeitung.",
        benefit="Die Vorprüfung eines Antrags dauert statt 45 nur noch 15 Minuten.",
        trl=6, duration_months=8, cost_estimate=86000, personal_data=True,
        personal_data_details="Namen und Kontaktdaten von Ansprechpersonen der antragstellenden "
                              "Unternehmen; Verarbeitung im Auftrag, Löschung nach Abschluss.",
        hosting_location="Landesrechenzentrum Schwerin",
        security_notes="Betrieb im Landesnetz, Protokollierung aller Zugriffe.",
        publication_consent=True)),
    ("posteingang", "seenplatte", None, ("verwaltungsdigitalisierung",), "running", dict(
        title="Digitale Posteingangsverarbeitung im LAiV",
        public_summary="Eingehende Briefe werden gescannt, erkannt und automatisch dem "
                       "richtigen Vorgang zugeordnet.",
        problem="Papierpost wird von Hand verteilt und erfasst.",
        solution="Scanstraße mit Texterkennung und Zuordnung zu Vorgängen in der E-Akte.",
        benefit="Post ist am Tag des Eingangs im richtigen Vorgang.",
        trl=7, duration_months=6, cost_estimate=64000, personal_data=True,
        personal_data_details="Inhalte von Briefen an die Verwaltung, einschließlich Namen "
                              "und Anschriften.",
        hosting_location="Landesrechenzentrum Schwerin",
        security_notes="Verarbeitung ausschließlich im Landesnetz.",
        publication_consent=False)),
    ("wildunfall", "boddenwerk", "strassen", ("mobilitaet",), "cancelled", dict(
        title="App zur Meldung von Wildunfällen",
        public_summary="Eine App erfasst Wildunfälle mit Ort und Foto und leitet sie an die "
                       "zuständige Stelle weiter.",
        problem="Wildunfälle werden uneinheitlich gemeldet; Schwerpunkte fallen spät auf.",
        solution="App für Straßenmeistereien und Polizei mit Kartenansicht der Schwerpunkte.",
        benefit="Schutzmaßnahmen dort, wo sie am meisten bewirken.",
        trl=6, duration_months=6, cost_estimate=41000, personal_data=False,
        hosting_location="Rechenzentrum in Stralsund",
        publication_consent=False)),
)


# ------------------------------------------------------------------ the seed


def seed(force: bool = False) -> bool:
    """Load the demo data. Returns False (and changes nothing) if any user exists, unless
    `force`; with `force`, what already exists is kept and only what is missing is added."""
    if not force and db.session.execute(select(User.id).limit(1)).first() is not None:
        return False
    mails_before = db.session.execute(select(func.max(OutboxMail.id))).scalar() or 0

    password_hash = _demo_password_hash()
    users = {a.email.split("@")[0]: _user(a, password_hash) for a in DEMO_ACCOUNTS}
    authorities = {short: _authority(name, short, web) for name, short, web in AUTHORITIES}
    topics = {slug: _topic(slug, de, en) for slug, de, en in TOPICS}
    db.session.flush()

    if db.session.execute(select(Organisation.id).where(
            Organisation.slug == ORGANISATIONS[0][2])).first() is None:
        _story(users, authorities, topics)
    _completed_pilot_with_results(users, topics)
    _workspaces(users)

    # The mails the seeding queued (submissions, decisions, assignments) are not sent.
    db.session.execute(delete(OutboxMail).where(OutboxMail.id > mails_before))
    db.session.commit()
    return True


@lru_cache(maxsize=1)
def _demo_password_hash() -> str:
    """One hash for every demo account (argon2 is slow on purpose; the password is public)."""
    return hash_password(DEMO_PASSWORD)


def _user(account: DemoAccount, password_hash: str) -> User:
    user = db.session.execute(
        select(User).where(func.lower(User.email) == account.email)).scalar_one_or_none()
    if user is None:
        user = User(email=account.email, name=account.name, password_hash=password_hash,
                    locale="de", email_confirmed_at=_at(-90))
        db.session.add(user)
        db.session.flush()
        audit.record(None, "user.demo_create", user, email=account.email)
    for role in account.roles:
        if not user.has_role(Role(role)):
            user.role_rows.append(UserRole(role=role))
    return user


# What the showcase page of an authority says about it (by short name; the others have none).
AUTHORITY_DESCRIPTIONS = {
    "LAiV": "Das Landesamt für innere Verwaltung ist ein zentraler Dienstleister der "
            "Landesverwaltung. Im InnoLab sucht es Lösungen, die Verwaltungsabläufe "
            "vereinfachen und Anliegen schneller bearbeiten.",
    "LUNG": "Das Landesamt für Umwelt, Naturschutz und Geologie ist die Fachbehörde des Landes "
            "für Umwelt- und Naturschutz, Wasser und Geologie. Es bringt Fragen der "
            "Umweltdaten und ihrer Auswertung in das InnoLab ein.",
    "LAGuS": "Das Landesamt für Gesundheit und Soziales ist die Fachbehörde des Landes für "
             "Gesundheit, Arbeitsschutz und Soziales. Im InnoLab geht es ihm um einfachere "
             "Antragswege für Bürgerinnen und Bürger.",
}


def _authority(name: str, short: str, website: str | None) -> Authority:
    a = db.session.execute(select(Authority).where(Authority.name == name)).scalar_one_or_none()
    if a is None:
        a = Authority(name=name, short_name=short, website=website,
                      description=AUTHORITY_DESCRIPTIONS.get(short))
        db.session.add(a)
    return a


def _topic(slug: str, de: str, en: str) -> Topic:
    t = db.session.execute(select(Topic).where(Topic.slug == slug)).scalar_one_or_none()
    if t is None:
        t = Topic(slug=slug, name_de=de, name_en=en)
        db.session.add(t)
    return t


def _at(days: int, hour: int = 10) -> datetime:
    """A moment `days` from today (negative: in the past), at a working hour (UTC)."""
    d = date.today() + timedelta(days=days)
    return datetime.combine(d, time(hour, 0), tzinfo=UTC)


class _Story:
    """Carries out the steps of the demo story, dating each timeline entry."""

    def __init__(self, users: dict) -> None:
        self.u = users
        self.stamped: set[int] = set()

    def stamp(self, p: Proposal, when: datetime) -> None:
        db.session.flush()
        for entry in p.timeline:
            if entry.id not in self.stamped:
                entry.created_at = when
                self.stamped.add(entry.id)

    def move(self, p: Proposal, action: str, who: str, day: int, **kw) -> None:
        workflow.apply(p, action, self.u[who], **kw)
        when = _at(day, 9 + len(self.stamped) % 7)
        if action in ("submit", "resubmit"):
            p.submitted_at = when
            if p.versions:
                p.versions[-1].created_at = when
        elif action in ("approve", "reject"):
            p.decided_at = when
        elif action == "cancel":
            p.ended_at = when
        self.stamp(p, when)

    def assign(self, p: Proposal, reviewer: str, day: int) -> None:
        review.assign(p, self.u[reviewer], self.u["koordination"])
        self.stamp(p, _at(day, 11))

    def review(self, p: Proposal, reviewer: str, day: int, scores: tuple[int | None, ...],
               recommendation: str, comment: str, submit: bool = True) -> None:
        # a reviewer confirms there is no conflict before reading; an assignment without a
        # review stays waiting for that answer (the demo shows both)
        a = review.confirm_no_conflict(p, self.u[reviewer])
        a.no_conflict_confirmed_at = _at(day, 10)
        keys = [c.key for c in criteria.of_proposal(p)]  # the challenge's or the default five
        r = review.save_review(p, self.u[reviewer],
                               scores=dict(zip(keys, scores, strict=False)),
                               recommendation=recommendation, comment=comment, submit=submit)
        if submit:
            r.submitted_at = _at(day, 14)
        self.stamp(p, _at(day, 14))

    def check(self, p: Proposal, kind: str, day: int, comment: str,
              outcome: str = CheckOutcome.PASSED.value) -> None:
        officer = "datenschutz" if kind == CheckKind.DATA_PROTECTION.value \
            else "informationssicherheit"
        dp = kind == CheckKind.DATA_PROTECTION.value
        c = review.record_check(p, self.u[officer], kind, outcome, comment,
                                dpia="not_needed" if dp else None,
                                processing_agreement="done" if dp else None)
        c.created_at = _at(day, 15)
        self.stamp(p, _at(day, 15))

    def publish(self, p: Proposal, day: int) -> None:
        review.publish(p, self.u["koordination"])
        p.published_at = _at(day, 16)
        self.stamp(p, _at(day, 16))


def _story(users, authorities, topics) -> None:
    coordinator = users["koordination"]
    accounts = {a.email.split("@")[0]: a for a in DEMO_ACCOUNTS}

    orgs = {}
    for key, name, slug, kind, city, website, description, owner, members in ORGANISATIONS:
        org = Organisation(name=name, slug=slug, kind=kind, city=city, website=website,
                           description=description, created_at=_at(-80))
        org.memberships.append(Membership(user=users[owner], role=MemberRole.OWNER.value))
        for m in members:
            org.memberships.append(Membership(user=users[m], role=MemberRole.MEMBER.value))
        db.session.add(org)
        db.session.flush()
        audit.record(users[owner], "organisation.create", org, name=name)
        orgs[key] = (org, owner)

    challenges = {}
    for key, title, short, topic_slugs, status, days, summary, description in CHALLENGES:
        c = Challenge(title=title, summary=summary, description=description,
                      **CHALLENGES_EN.get(key, {}), authority=authorities[short],
                      deadline=date.today() + timedelta(days=days),
                      status=ChallengeStatus.DRAFT.value, created_at=_at(-75),
                      created_by_id=coordinator.id)
        c.topics.extend(topics[s] for s in topic_slugs)
        db.session.add(c)
        db.session.flush()
        audit.record(coordinator, "challenge.create", c, title=title)
        if status != ChallengeStatus.DRAFT.value:
            # closed ones are published first, so that proposals can answer them
            c.status = ChallengeStatus.PUBLISHED.value
            c.published_at = _at(-70)
            audit.record(coordinator, "challenge.publish", c, title=title)
        challenges[key] = (c, status)
    # one challenge's first round of review is anonymised
    challenges["phishing"][0].anonymised_first_round = True
    # one challenge published with criteria of its own (the others use the default five)
    for position, (name_de, name_en, description_de, weight, scale, minimum) in enumerate(
            CRITERIA_PHISHING):
        challenges["phishing"][0].criteria.append(ChallengeCriterion(
            position=position, name_de=name_de, name_en=name_en, description_de=description_de,
            weight=weight, scale_max=scale, knockout_min=minimum))
    for challenge, rows in ((challenges["phishing"][0], QUESTIONS_PHISHING),
                            (None, QUESTIONS_DEFAULT)):
        for position, (kind, label_de, label_en, required, unit, options) in enumerate(rows):
            db.session.add(ChallengeQuestion(
                challenge=challenge, position=position, kind=kind, label_de=label_de,
                label_en=label_en, required=required, unit=unit, options=options))

    story = _Story(users)
    proposals = {}
    for key, org_key, challenge_key, topic_slugs, target, fields in PROPOSALS:
        org, owner = orgs[org_key]
        data = dict(fields)
        data.update(_contact(accounts[owner]))
        p = Proposal(organisation=org, created_by=users[owner],
                     challenge=challenges[challenge_key][0] if challenge_key else None,
                     created_at=_at(-65), **data)
        p.topics.extend(topics[s] for s in topic_slugs)
        db.session.add(p)
        db.session.flush()
        audit.record(users[owner], "proposal.create", p, title=p.title)
        proposals[key] = (p, owner, target)

    def P(key):
        return proposals[key][0], proposals[key][1]

    # draft: stays as it is (incomplete, cannot be submitted yet)

    # submitted
    p, owner = P("wohngeld")
    story.move(p, "submit", owner, -6)

    # in review, after one round of changes; one review done, one in progress,
    # data protection passed, information security still open
    p, owner = P("dashcam")
    story.move(p, "submit", owner, -40)
    story.move(p, "request_changes", "koordination", -37, message=(
        "Vielen Dank für Ihren Vorschlag. Bitte beschreiben Sie genauer, wie Personen und "
        "Kennzeichen unkenntlich gemacht werden und ob Rohbilder gespeichert werden."))
    p.personal_data_details = (
        "Auf Bildern können Personen und Kfz-Kennzeichen zu sehen sein. Sie werden im "
        "Fahrzeug automatisch verpixelt, bevor Bilder übertragen werden; Rohbilder werden "
        "nicht gespeichert. Die Verpixelung wird monatlich stichprobenartig geprüft.")
    p.duration_months = 10
    story.move(p, "resubmit", owner, -30)
    story.assign(p, "gutachten", -28)
    story.assign(p, "gutachten2", -28)
    story.move(p, "start_review", "koordination", -27)
    story.review(p, "gutachten", -20, (4, 5, 4, 3, 4), Recommendation.APPROVE.value,
                 "Überzeugender Ansatz; Kosten pro Fahrzeug im Pilot genau erfassen.")
    story.review(p, "gutachten2", -10, (4, 4, 3, None, None), Recommendation.APPROVE.value,
                 "Entwurf: Wirtschaftlichkeit noch prüfen.", submit=False)
    story.check(p, CheckKind.DATA_PROTECTION.value, -15,
                "Verpixelung im Fahrzeug vor der Übertragung ist ausreichend; Löschkonzept "
                "liegt vor.")

    # in the anonymised first round of a challenge that has one: one review done
    p, owner = P("phishing-melder")
    story.move(p, "submit", owner, -12)
    story.assign(p, "gutachten", -11)
    story.assign(p, "gutachten2", -11)
    story.move(p, "start_anonymous_review", "koordination", -10)
    story.review(p, "gutachten", -5, (4, 8, 4), Recommendation.APPROVE.value,
                 "Gut durchdacht; die Rückmeldung an die Beschäftigten überzeugt.")

    # changes requested
    p, owner = P("badestellen")
    story.move(p, "submit", owner, -21)
    story.move(p, "request_changes", "koordination", -18, message=(
        "Bitte ergänzen Sie, wie die Daten nach dem Pilot weiter betrieben werden sollen, "
        "und schätzen Sie den Aufwand für den Dauerbetrieb. Prüfen Sie außerdem, ob das "
        "Hosting beim Landesrechenzentrum möglich ist."))

    # approved and published
    p, owner = P("satellit")
    story.move(p, "submit", owner, -50)
    story.assign(p, "gutachten", -48)
    story.move(p, "start_review", "koordination", -47)
    story.review(p, "gutachten", -40, (5, 5, 4, 4, 4), Recommendation.APPROVE.value,
                 "Methodisch solide; Modell wurde bereits an der Ostsee erprobt.")
    story.check(p, CheckKind.INFORMATION_SECURITY.value, -38,
                "C5-Testat liegt vor; keine personenbezogenen Daten.")
    story.move(p, "approve", "entscheidung", -35, message=(
        "Der Vorschlag überzeugt durch hohen Nutzen für den Gesundheitsschutz bei geringen "
        "Kosten. Die Ergebnisse werden als offene Daten bereitgestellt."))
    story.publish(p, -30)

    # rejected
    p, owner = P("bescheide")
    story.move(p, "submit", owner, -45)
    story.assign(p, "gutachten2", -44)
    story.move(p, "start_review", "koordination", -43)
    story.review(p, "gutachten2", -36, (3, 3, 1, 2, 1), Recommendation.REJECT.value,
                 "Vollautomatische Bescheide ohne menschliche Prüfung sind hier rechtlich "
                 "nicht zulässig; Hosting außerhalb der EU.")
    story.move(p, "reject", "entscheidung", -33, message=(
        "Eine vollautomatische Entscheidung über Förderanträge ist im Förderrecht des Landes "
        "nicht vorgesehen, und das Hosting außerhalb der EU erfüllt unsere Anforderungen an "
        "den Datenschutz nicht. Wir freuen uns über einen neuen Vorschlag, der die "
        "Sachbearbeitung unterstützt."))

    # withdrawn
    p, owner = P("phishing-training")
    story.move(p, "submit", owner, -25)
    story.move(p, "withdraw", owner, -22)

    # running and published
    p, owner = P("vorpruefung")
    story.move(p, "submit", owner, -60)
    story.assign(p, "gutachten", -58)
    story.assign(p, "gutachten2", -58)
    story.move(p, "start_review", "koordination", -57)
    story.review(p, "gutachten", -52, (4, 5, 4, 4, 4), Recommendation.APPROVE.value,
                 "Klarer Nutzen, Entscheidung bleibt beim Menschen.")
    story.review(p, "gutachten2", -51, (4, 4, 4, 5, 3), Recommendation.APPROVE.value,
                 "Gut umsetzbar; Protokollierung im Pilot auswerten.")
    story.check(p, CheckKind.DATA_PROTECTION.value, -50,
                "Auftragsverarbeitung geregelt; Löschfristen festgelegt.")
    story.check(p, CheckKind.INFORMATION_SECURITY.value, -49,
                "Betrieb im Landesnetz; Schutzbedarf normal.")
    story.move(p, "approve", "entscheidung", -47, message=(
        "Der Pilot entlastet die Sachbearbeitung spürbar, die Entscheidung bleibt bei den "
        "Beschäftigten. Bewilligt für acht Monate."))
    _goals(p, [("Bearbeitungszeit je Antrag", "14 Tage", "7 Tage",
                "Durchschnitt der abgeschlossenen Vorgänge im Fachverfahren, monatlich"),
               ("Anteil automatisch vorgeprüfter Anträge", "0 %", "60 %",
                "Auswertung des Protokolls der Vorprüfung")])
    story.move(p, "start_pilot", "koordination", -40, start_date=date.today() - timedelta(days=40))
    story.publish(p, -39)

    # running, not published (no consent)
    p, owner = P("posteingang")
    story.move(p, "submit", owner, -55)
    story.assign(p, "gutachten2", -54)
    story.move(p, "start_review", "koordination", -53)
    story.review(p, "gutachten2", -48, (3, 5, 5, 4, 4), Recommendation.APPROVE.value,
                 "Bewährte Technik, großer Nutzen.")
    story.check(p, CheckKind.DATA_PROTECTION.value, -46,
                "Verarbeitung im Landesnetz; Zugriff nur für die Poststelle.")
    story.check(p, CheckKind.INFORMATION_SECURITY.value, -46,
                "Scanstraße im gesicherten Bereich; keine Verbindung nach außen.")
    story.move(p, "approve", "entscheidung", -44, message=(
        "Bewilligt; der Pilot läuft im Landesamt für innere Verwaltung."))
    _goals(p, [("Eingescannte Briefe, die automatisch zugeordnet werden", "0 %", "80 %",
                "Stichprobe von 200 Briefen je Monat durch die Poststelle")])
    story.move(p, "start_pilot", "koordination", -30, start_date=date.today() - timedelta(days=30))

    # cancelled
    p, owner = P("wildunfall")
    story.move(p, "submit", owner, -59)
    story.assign(p, "gutachten", -58)
    story.move(p, "start_review", "koordination", -57)
    story.review(p, "gutachten", -55, (3, 4, 4, 4, 4), Recommendation.APPROVE.value,
                 "Einfache Lösung mit klarem Nutzen.")
    story.check(p, CheckKind.INFORMATION_SECURITY.value, -54, "Keine Bedenken.")
    story.move(p, "approve", "entscheidung", -52, message="Bewilligt für sechs Monate.")
    _goals(p, [("Gemeldete Wildunfälle über die App", "0 je Monat", "50 je Monat",
                "Zählung der eingegangenen Meldungen")])
    story.move(p, "start_pilot", "koordination", -45, start_date=date.today() - timedelta(days=45))
    story.move(p, "cancel", "koordination", -12, message=(
        "Die Polizei nutzt ab dem kommenden Jahr ein bundesweites Meldesystem; der Pilot "
        "wird deshalb im Einvernehmen mit der Partnerorganisation beendet."))

    # the challenge on grant applications is closed now that its proposals are in
    for c, status in challenges.values():
        if status == ChallengeStatus.CLOSED.value:
            c.status = ChallengeStatus.CLOSED.value
            c.deadline = date.today() - timedelta(days=14)
            c.closed_at = _at(-14)
            audit.record(coordinator, "challenge.close", c, title=c.title)

    for key, (p, _owner, target) in proposals.items():
        if p.status != target:  # the story and the lifecycle table disagree: fix the story
            raise RuntimeError(f"demo proposal {key} ended in {p.status}, not {target}")


def _goals(p: Proposal, goals) -> None:
    """The measurable goals agreed before the pilot starts."""
    for position, (title, baseline, target, measurement) in enumerate(goals):
        p.goals.append(PilotGoal(position=position, title=title, baseline=baseline, target=target,
                                 measurement=measurement))
    db.session.flush()


# ------------------------------------------------------------------ a pilot with results

COMPLETED_TITLE = "Antwortassistent für das Serviceportal MV"


def _completed_pilot_with_results(users, topics) -> None:
    """A completed pilot: its results report was sent back once, then accepted and published.

    Added only when missing (the seed may run again with --force)."""
    if db.session.execute(select(Proposal.id).where(Proposal.title == COMPLETED_TITLE)).first():
        return
    org = db.session.execute(select(Organisation).where(
        Organisation.slug == "boddenwerk-software-gmbh")).scalar_one_or_none()
    challenge = db.session.execute(select(Challenge).where(
        Challenge.title == "KI-gestützte Beantwortung von Bürgeranfragen")).scalar_one_or_none()
    if org is None or challenge is None:
        return
    owner = "partner2"
    account = next(a for a in DEMO_ACCOUNTS if a.email.split("@")[0] == owner)
    p = Proposal(
        organisation=org, created_by=users[owner], challenge=challenge, created_at=_at(-260),
        title=COMPLETED_TITLE,
        public_summary="Ein Assistent beantwortet im Serviceportal häufige Fragen zu "
                       "Verwaltungsleistungen auf Grundlage der freigegebenen "
                       "Leistungsbeschreibungen und nennt seine Quellen.",
        problem="Die Servicestellen beantworten täglich dieselben Fragen per E-Mail.",
        solution="Ein Sprachmodell, das nur auf freigegebenen Texten antwortet, mit Übergabe "
                 "an Beschäftigte bei unsicheren Antworten.",
        benefit="Weniger E-Mails an die Servicestellen, Antworten rund um die Uhr.",
        trl=6, duration_months=6, cost_estimate=52000, personal_data=False,
        hosting_location="Landesrechenzentrum Schwerin",
        security_notes="Betrieb im Landesnetz; keine Speicherung der Fragen.",
        publication_consent=True, **_contact(account))
    p.topics.extend(topics[s] for s in ("ki", "buergerservice"))
    db.session.add(p)
    db.session.flush()
    audit.record(users[owner], "proposal.create", p, title=p.title)

    story = _Story(users)
    story.move(p, "submit", owner, -250)
    story.assign(p, "gutachten", -248)
    story.move(p, "start_review", "koordination", -247)
    story.review(p, "gutachten", -240, (4, 5, 4, 4, 4), Recommendation.APPROVE.value,
                 "Gut abgegrenzt; Quellenangaben sind ein Muss.")
    story.check(p, CheckKind.INFORMATION_SECURITY.value, -238,
                "Betrieb im Landesnetz, keine Speicherung der Fragen.")
    story.move(p, "approve", "entscheidung", -235, message=(
        "Klarer Nutzen für die Servicestellen bei überschaubarem Risiko. Bewilligt für sechs "
        "Monate."))
    _goals(p, [("E-Mails an die Servicestelle je Woche", "420", "300",
                "Zählung im Postfach der Servicestelle, Wochenmittel"),
               ("Richtig beantwortete Fragen", "–", "90 %",
                "Stichprobe von 100 Antworten je Monat durch die Fachredaktion")])
    story.move(p, "start_pilot", "koordination", -220,
               start_date=date.today() - timedelta(days=220))
    story.publish(p, -219)

    partner, coordinator = users[owner], users["koordination"]
    goals = sorted(p.goals, key=lambda g: g.position)
    results.save_draft(p, partner, {
        "summary": "Der Antwortassistent hat im Serviceportal sechs Monate lang Fragen zu "
                   "Verwaltungsleistungen beantwortet. Die E-Mails an die Servicestelle sind "
                   "um mehr als ein Drittel zurückgegangen.",
        "what_worked": "Antworten nur aus freigegebenen Texten, mit Quellenangabe; die "
                       "Übergabe an Beschäftigte bei unsicheren Fragen.",
        "what_did_not_work": "Fragen zum Bearbeitungsstand konnte der Assistent nicht "
                             "beantworten, weil die Fachverfahren nicht angebunden waren.",
        "lessons_learned": "Die Fachredaktion muss von Anfang an dabei sein: Gute Antworten "
                           "brauchen gepflegte Leistungsbeschreibungen.",
        "recommendation": "roll_out",
        "reuse_requirements": "Freigegebene Leistungsbeschreibungen (FIM), ein Betrieb im "
                              "Landesnetz, eine Fachredaktion mit etwa einem halben "
                              "Stellenanteil und die Datenschutz-Folgenabschätzung des "
                              "Piloten (erhältlich beim ZDMV).",
        "publication_consent": True,
    }, {goals[0].id: {"value_reached": "270", "reached": True,
                      "comment": "Wochenmittel der letzten zwei Monate."},
        goals[1].id: {"value_reached": "86 %", "reached": False,
                      "comment": "Bei Fragen zu Gebühren lag die Quote deutlich niedriger."}})
    report = results.submit(p, partner)
    report.submitted_at = _at(-30)
    story.stamp(p, _at(-30))
    results.send_back(p, coordinator, "Bitte ergänzen Sie, was eine andere Behörde für den "
                                      "Betrieb braucht (Personal, Kosten).")
    report.returned_at = _at(-25)
    story.stamp(p, _at(-25))
    results.save_draft(p, partner, {"reuse_requirements": (report.reuse_requirements or "")
                                    + " Betriebskosten: etwa 1.500 Euro im Monat."}, {})
    results.submit(p, partner)
    report.submitted_at = _at(-20)
    story.stamp(p, _at(-20))
    results.accept(p, coordinator)
    report.accepted_at = p.ended_at = _at(-15)
    story.stamp(p, _at(-15))
    results.publish(p, coordinator)
    report.published_at = _at(-14)
    story.stamp(p, _at(-14))


# ------------------------------------------------------------------ the pilots' workspaces

_DEMO_PDF = (b"%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n"
             b"2 0 obj <</Type /Pages /Kids [] /Count 0>> endobj\n"
             b"trailer <</Size 3 /Root 1 0 R>>\n%%EOF\n")


def _workspaces(users) -> None:
    """The running demo pilots get a conversation (with one internal note), milestones (one
    done, one late, one open) and a shared document with two versions. Added once only."""
    coordinator = users["koordination"]
    running = db.session.execute(select(Proposal).where(
        Proposal.status == "running").order_by(Proposal.id)).scalars().all()
    for p in running:
        if p.messages or p.milestones or p.documents:
            continue
        partner = p.organisation.owners[0] if p.organisation.owners else coordinator
        start = p.pilot_start_date or date.today() - timedelta(days=30)
        days = (start - date.today()).days
        conversation = [
            (coordinator, days + 1, False,
             "Willkommen im Projektraum! Wir schlagen einen Auftakttermin in der kommenden "
             "Woche vor. Bitte laden Sie das **Betriebskonzept** hier hoch."),
            (partner, days + 2, False,
             "Danke! Der Termin passt. Das Betriebskonzept liegt unter *Dokumente*; die "
             "Anbindung an das Fachverfahren beginnt nächste Woche."),
            (coordinator, days + 3, True,
             "Interne Notiz: Die Haushaltsmittel für eine Verlängerung sind noch nicht "
             "freigegeben – bitte noch nicht mit der Partnerorganisation besprechen."),
            (partner, -2, False,
             "Kurzer Zwischenstand: Die Testphase läuft, erste Zahlen folgen im Bericht."),
        ]
        for author, day, internal, body in conversation:
            db.session.add(Message(proposal=p, author_id=author.id, body=body,
                                   internal=internal, created_at=_at(day, 9)))
        db.session.add_all([
            Milestone(proposal=p, title="Auftakt und Zugänge eingerichtet",
                      due_date=start + timedelta(days=7), done_at=_at(days + 6),
                      description="Auftakttermin, Zugänge zum Testsystem, Ansprechpersonen.",
                      created_by_id=coordinator.id),
            Milestone(proposal=p, title="Anbindung an das Fachverfahren",
                      due_date=date.today() - timedelta(days=3),
                      description="Schnittstelle im Testbetrieb.", created_by_id=partner.id),
            Milestone(proposal=p, title="Zwischenauswertung der Ziele",
                      due_date=date.today() + timedelta(days=21), created_by_id=coordinator.id),
        ])
        document = Document(proposal=p, title="Betriebskonzept", internal=False,
                            created_by_id=partner.id, created_at=_at(days + 2))
        for number, note in ((1, "Erste Fassung"), (2, "Datenschutzkapitel ergänzt")):
            data = _DEMO_PDF + b"% Fassung " + str(number).encode() + b"\n"
            document.versions.append(DocumentVersion(
                number=number, filename=f"betriebskonzept-v{number}.pdf",
                stored_name=_demo_file(data), content_type="application/pdf", size=len(data),
                note=note, uploaded_by_id=partner.id, created_at=_at(days + 2 + number * 5)))
        db.session.add(document)
        db.session.flush()
        audit.record(None, "workspace.demo_create", p, messages=len(conversation))


def _demo_file(data: bytes) -> str:
    """Store a demo file the way uploads are stored (checked, random name)."""
    _, stored_name = uploads.save(FileStorage(io.BytesIO(data), filename="demo.pdf"))
    return stored_name
