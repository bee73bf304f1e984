"""The footer pages (Impressum, Datenschutz, Barrierefreiheit, Kontakt).

An admin edits them per language (models.SitePage); until a row exists, the built-in
default text below is shown. Bodies are Markdown (rendered through the sanitiser).
`get_page(slug, locale)` is what the showcase shows; `DEFAULTS` is what the admin editor
offers as a starting point.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from ..extensions import db
from ..i18n import DEFAULT_LOCALE, LOCALES
from ..models import SitePage


CONTACT_EMAIL = "poststelle@zd.mv-regierung.de"
CONTACT_PHONE = "0385 588 57777"

_CONTACT_DE = f"""\
E-Mail: [{CONTACT_EMAIL}](mailto:{CONTACT_EMAIL})\\
Telefon (Hotline): {CONTACT_PHONE}\\
Telefonisch erreichbar: Dienstag 13–16 Uhr, Donnerstag 9–12 Uhr"""

_CONTACT_EN = f"""\
Email: [{CONTACT_EMAIL}](mailto:{CONTACT_EMAIL})\\
Phone (hotline): {CONTACT_PHONE}\\
Phone hours: Tuesdays 1–4 pm, Thursdays 9 am–12 noon (German time)"""


IMPRESSUM_DE = f"""\
## Herausgeber

Zentrum für Digitalisierung Mecklenburg-Vorpommern (ZDMV)\\
Schwerin

Das InnoLab ist ein Angebot des Dezernats Individualentwicklung im Bereich IT-Betrieb
des ZDMV.

## Kontakt

{_CONTACT_DE}

## Weitere Angaben

Die vollständigen Pflichtangaben (Postanschrift, vertretungsberechtigte Person,
zuständige Aufsicht und Verantwortliche oder Verantwortlicher für den Inhalt) ergänzt
die Verwaltung dieser Plattform.

## Haftung für Links

Diese Plattform enthält Links zu Websites Dritter, zum Beispiel zu den Websites von
Partnerorganisationen. Für deren Inhalte sind ausschließlich die jeweiligen Anbieter
verantwortlich.

## Inhalte von Partnerorganisationen

Die Angaben im Schaufenster zu Organisationen und Piloten stammen von den
Partnerorganisationen und werden erst nach deren Zustimmung und einer Prüfung durch das
InnoLab-Team veröffentlicht.
"""

IMPRESSUM_EN = f"""\
## Published by

Zentrum für Digitalisierung Mecklenburg-Vorpommern (ZDMV, the digitalisation centre of the
state of Mecklenburg-Western Pomerania)\\
Schwerin, Germany

The InnoLab is run by the custom development unit (Dezernat Individualentwicklung) of the
ZDMV's IT operations department.

## Contact

{_CONTACT_EN}

## Further details

The complete legal notice (postal address, authorised representative, supervisory body
and the person responsible for the content) is completed by the administrators of this
platform. The German version of this page is authoritative.

## Links to other websites

This platform links to websites of third parties, for example those of partner
organisations. Their providers alone are responsible for their content.

## Content provided by partner organisations

What the showcase says about organisations and pilots comes from the partner
organisations and is published only with their consent, after a check by the InnoLab team.
"""


DATENSCHUTZ_DE = f"""\
Wir nehmen den Schutz Ihrer personenbezogenen Daten ernst. Hier erfahren Sie, welche
Daten die InnoLab-Plattform verarbeitet, wozu und auf welcher Rechtsgrundlage.

## Verantwortliche Stelle

Zentrum für Digitalisierung Mecklenburg-Vorpommern (ZDMV), Schwerin

{_CONTACT_DE}

## Datenschutzbeauftragte oder Datenschutzbeauftragter

Sie erreichen die oder den Datenschutzbeauftragten des ZDMV über die Poststelle
({CONTACT_EMAIL}). Bitte geben Sie im Betreff „Datenschutz“ an.

## Welche Daten wir verarbeiten

- **Benutzerkonto:** Name, E-Mail-Adresse, ein Hashwert Ihres Passworts (nie das Passwort
  selbst), gewählte Sprache, Zeitpunkte von Registrierung und Anmeldung. Wenn Sie sich über
  einen externen Anmeldedienst anmelden, die von diesem übermittelte Kennung.
- **Organisation:** Name, Art, Ort, Website und Beschreibung Ihrer Organisation sowie die
  Mitglieder und ihre Rollen.
- **Pilotvorschläge:** die Angaben in Ihrem Vorschlag einschließlich der Ansprechperson
  (Name, E-Mail-Adresse, Telefonnummer), hochgeladene Dateien, eingereichte Fassungen und
  der Verlauf des Vorschlags.
- **Begutachtung:** Bewertungen, Prüfungen und interne Vermerke der Beschäftigten des ZDMV.
- **Protokolle:** Zur Sicherheit der Plattform protokollieren wir wichtige Aktionen mit
  Zeitpunkt, handelnder Person und IP-Adresse.

## Zwecke

Wir verarbeiten diese Daten, um Herausforderungen der Landesverwaltung zu
veröffentlichen, Pilotvorschläge entgegenzunehmen, zu begutachten und zu entscheiden,
Piloten gemeinsam mit den Partnern durchzuführen, Sie per E-Mail über den Stand zu
informieren und die Sicherheit der Plattform zu gewährleisten.

## Rechtsgrundlagen

- Art. 6 Abs. 1 Buchstabe e DSGVO: Die Plattform dient der Erfüllung der Aufgaben des
  ZDMV im öffentlichen Interesse (Digitalisierung der Landesverwaltung).
- Art. 6 Abs. 1 Buchstabe b DSGVO: soweit die Verarbeitung für die Durchführung
  vorvertraglicher Maßnahmen oder einer Pilotvereinbarung mit Ihrer Organisation
  erforderlich ist.

Im öffentlichen Schaufenster erscheinen Angaben zu einem Piloten nur, wenn die
Partnerorganisation der Veröffentlichung zugestimmt hat. Kontaktdaten, Gutachten und
interne Vermerke werden nie veröffentlicht.

## Cookies

Die Plattform setzt nur technisch notwendige Cookies: ein Sitzungscookie für die
Anmeldung und den Schutz von Formularen sowie ein Cookie für die gewählte Sprache. Es
gibt kein Tracking und keine Inhalte von fremden Servern.

## Empfänger

Ihre Daten sehen nur die Beschäftigten des ZDMV, die sie für ihre Aufgabe brauchen
(zum Beispiel das InnoLab-Team, Gutachterinnen und Gutachter), sowie die Mitglieder
Ihrer Organisation. Eine Übermittlung in Drittländer findet nicht statt.

## Speicherdauer

Wir speichern die Daten, solange sie für die genannten Zwecke erforderlich sind und
gesetzliche Aufbewahrungsfristen es verlangen. Danach werden sie gelöscht.

## Ihre Rechte

Sie haben das Recht auf Auskunft (Art. 15 DSGVO), Berichtigung (Art. 16), Löschung
(Art. 17), Einschränkung der Verarbeitung (Art. 18), Datenübertragbarkeit (Art. 20,
soweit anwendbar) und Widerspruch (Art. 21). Wenden Sie sich dazu an die oben genannte
Kontaktadresse.

Sie können sich außerdem bei einer Datenschutz-Aufsichtsbehörde beschweren, zum
Beispiel bei der oder dem Landesbeauftragten für Datenschutz und Informationsfreiheit
Mecklenburg-Vorpommern.
"""

DATENSCHUTZ_EN = f"""\
We take the protection of your personal data seriously. This page explains which data
the InnoLab platform processes, for what purposes and on what legal basis. The German
version of this page is authoritative.

## Controller

Zentrum für Digitalisierung Mecklenburg-Vorpommern (ZDMV), Schwerin, Germany

{_CONTACT_EN}

## Data protection officer

You can reach the ZDMV's data protection officer through the central mailbox
({CONTACT_EMAIL}). Please put "Datenschutz" in the subject line.

## Which data we process

- **User account:** name, email address, a hash of your password (never the password
  itself), chosen language, times of registration and sign-in. If you sign in through an
  external sign-in service, the identifier it sends us.
- **Organisation:** name, kind, city, website and description of your organisation, its
  members and their roles.
- **Pilot proposals:** what your proposal contains, including the contact person (name,
  email address, phone number), uploaded files, submitted versions and the proposal's
  history.
- **Review:** scores, checks and internal notes of ZDMV staff.
- **Logs:** to keep the platform secure we log important actions with time, acting person
  and IP address.

## Purposes

We process these data to publish the needs of the state administration, to receive,
review and decide on pilot proposals, to run pilots together with partners, to keep you
informed by email and to keep the platform secure.

## Legal basis

- Art. 6(1)(e) GDPR: the platform serves the ZDMV's tasks in the public interest
  (digitalisation of the state administration).
- Art. 6(1)(b) GDPR: where processing is necessary for steps prior to, or for carrying
  out, a pilot agreement with your organisation.

The public showcase shows a pilot only if the partner organisation agreed to its
publication. Contact data, reviews and internal notes are never published.

## Cookies

The platform sets only technically necessary cookies: a session cookie for signing in and
protecting forms, and a cookie for the language you chose. There is no tracking and no
content from other servers.

## Recipients

Only ZDMV staff who need your data for their task (for example the InnoLab team and
reviewers) and the members of your organisation see them. No data are transferred to
third countries.

## Storage period

We keep the data as long as they are needed for the purposes above and as long as
statutory retention periods require. Afterwards they are deleted.

## Your rights

You have the right of access (Art. 15 GDPR), rectification (Art. 16), erasure (Art. 17),
restriction of processing (Art. 18), data portability (Art. 20, where applicable) and to
object (Art. 21). Please use the contact address above.

You may also lodge a complaint with a data protection supervisory authority, for example
the state commissioner for data protection and freedom of information of
Mecklenburg-Western Pomerania.
"""


BARRIEREFREIHEIT_DE = f"""\
Das Zentrum für Digitalisierung Mecklenburg-Vorpommern ist bemüht, die InnoLab-Plattform
barrierefrei zugänglich zu machen. Maßstab sind die
Barrierefreie-Informationstechnik-Verordnung (BITV 2.0) und die Web Content Accessibility
Guidelines (WCAG) 2.1 auf der Stufe AA.

## Stand der Vereinbarkeit

Die Plattform wurde nach diesen Anforderungen entwickelt und wird mit automatischen und
manuellen Prüfungen getestet. Eine abschließende Prüfung der Vereinbarkeit steht noch aus;
diese Erklärung wird danach aktualisiert.

## Inhalte, die möglicherweise nicht barrierefrei sind

- Dateien, die Partnerorganisationen hochladen (zum Beispiel PDF-Dokumente), sind
  möglicherweise nicht barrierefrei.
- Texte, die Partnerorganisationen selbst verfassen, werden nicht in Leichter Sprache
  angeboten.

## Barrieren melden: Feedback und Kontakt

Sind Ihnen Mängel beim barrierefreien Zugang aufgefallen? Oder benötigen Sie Inhalte in
einer anderen Form? Dann schreiben Sie uns bitte. Wir antworten Ihnen so schnell wie
möglich.

{_CONTACT_DE}

## Durchsetzungsverfahren

Wenn Sie auf Ihre Rückmeldung keine zufriedenstellende Antwort erhalten, können Sie sich
an eine Schlichtungsstelle wenden, zum Beispiel an die Schlichtungsstelle nach § 16 des
Behindertengleichstellungsgesetzes (BGG) oder an die nach Landesrecht zuständige Stelle.
Das Schlichtungsverfahren ist kostenlos; Sie brauchen keine Rechtsvertretung.
"""

BARRIEREFREIHEIT_EN = f"""\
The Zentrum für Digitalisierung Mecklenburg-Vorpommern strives to make the InnoLab
platform accessible. The standard is the German accessible information technology
ordinance (BITV 2.0) and the Web Content Accessibility Guidelines (WCAG) 2.1, level AA.
The German version of this page is authoritative.

## Compliance status

The platform was built to these requirements and is tested with automated and manual
checks. A final compliance assessment is still pending; this statement will be updated
afterwards.

## Content that may not be accessible

- Files uploaded by partner organisations (for example PDF documents) may not be
  accessible.
- Texts written by partner organisations are not offered in Easy Language.

## Report a barrier: feedback and contact

Have you noticed a barrier, or do you need content in another form? Please write to us.
We will answer as soon as we can.

{_CONTACT_EN}

## Enforcement procedure

If you do not receive a satisfactory answer, you can turn to a conciliation body, for
example the conciliation body under section 16 of the German Disability Equality Act
(BGG) or the body responsible under state law. The procedure is free of charge; you do
not need a lawyer.
"""


KONTAKT_DE = f"""\
## Zentrum für Digitalisierung Mecklenburg-Vorpommern (ZDMV)

{_CONTACT_DE}

## Fragen zum InnoLab

Sie haben eine Idee für einen Piloten, eine Frage zu einer Herausforderung oder zu Ihrem
Pilotvorschlag? Schreiben Sie an die oben genannte Adresse und nennen Sie im Betreff
„InnoLab“ und, wenn vorhanden, das Aktenzeichen Ihres Vorschlags (zum Beispiel
IL-2026-0001).

Angemeldete Partnerorganisationen sehen den Stand ihrer Vorschläge und alle Nachrichten
des InnoLab-Teams auch direkt auf der Plattform.
"""

KONTAKT_EN = f"""\
## Zentrum für Digitalisierung Mecklenburg-Vorpommern (ZDMV)

{_CONTACT_EN}

## Questions about the InnoLab

Do you have an idea for a pilot, or a question about a challenge or your proposal? Write
to the address above and put "InnoLab" in the subject line, together with your
proposal's reference if you have one (for example IL-2026-0001).

Signed-in partner organisations also see the status of their proposals and every message
from the InnoLab team on the platform itself.
"""


DEFAULTS: dict[str, dict[str, dict[str, str]]] = {
    "impressum": {
        "de": {"title": "Impressum", "body": IMPRESSUM_DE},
        "en": {"title": "Legal notice", "body": IMPRESSUM_EN},
    },
    "datenschutz": {
        "de": {"title": "Datenschutzerklärung", "body": DATENSCHUTZ_DE},
        "en": {"title": "Privacy policy", "body": DATENSCHUTZ_EN},
    },
    "barrierefreiheit": {
        "de": {"title": "Erklärung zur Barrierefreiheit", "body": BARRIEREFREIHEIT_DE},
        "en": {"title": "Accessibility statement", "body": BARRIEREFREIHEIT_EN},
    },
    "kontakt": {
        "de": {"title": "Kontakt", "body": KONTAKT_DE},
        "en": {"title": "Contact", "body": KONTAKT_EN},
    },
}

@dataclass(frozen=True)
class Page:
    slug: str
    locale: str
    title: str
    body: str  # Markdown
    updated_at: datetime | None = None
    customised: bool = False  # True when an admin's text (a SitePage row) is shown


def _locale(locale) -> str:
    locale = str(locale or DEFAULT_LOCALE)[:2].lower()
    return locale if locale in LOCALES else DEFAULT_LOCALE


def default_page(slug: str, locale) -> Page | None:
    if slug not in DEFAULTS:
        return None
    locale = _locale(locale)
    text = DEFAULTS[slug][locale]
    return Page(slug=slug, locale=locale, title=text["title"], body=text["body"])


def get_page(slug: str, locale) -> Page | None:
    """The page in this language: the admin's text if there is one, else the default.

    None for a slug that is not one of the footer pages.
    """
    if slug not in DEFAULTS:
        return None
    locale = _locale(locale)
    row = db.session.execute(
        select(SitePage).where(SitePage.slug == slug, SitePage.locale == locale)
    ).scalar_one_or_none()
    if row is None:
        return default_page(slug, locale)
    return Page(slug=slug, locale=locale, title=row.title, body=row.body,
                updated_at=row.updated_at, customised=True)
