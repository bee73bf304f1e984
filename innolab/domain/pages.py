"""The footer pages (Impressum, Datenschutz, Barrierefreiheit, Kontakt).

An admin edits them per language (models.SitePage); until a row exists, the built-in
default text below is shown. Bodies are Markdown (rendered through the sanitiser). On the
three legal pages the mandatory details come from fields (domain.legal, set in the
administration) and the templates templates/legal/<slug>_<locale>.html; the body here is
the free text that the page shows with them (further notes, the data categories, the
content that is not accessible).
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


IMPRESSUM_DE = """\
## Über das InnoLab

Das InnoLab ist ein Angebot des Dezernats Individualentwicklung im Bereich IT-Betrieb
des ZDMV.

## Haftung für Links

Diese Plattform enthält Links zu Websites Dritter, zum Beispiel zu den Websites von
Partnerorganisationen. Für deren Inhalte sind ausschließlich die jeweiligen Anbieter
verantwortlich.

## Inhalte von Partnerorganisationen

Die Angaben im Schaufenster zu Organisationen und Piloten stammen von den
Partnerorganisationen und werden erst nach deren Zustimmung und einer Prüfung durch das
InnoLab-Team veröffentlicht.
"""

IMPRESSUM_EN = """\
## About the InnoLab

The InnoLab is run by the custom development unit (Dezernat Individualentwicklung) of the
ZDMV's IT operations department.

## Links to other websites

This platform links to websites of third parties, for example those of partner
organisations. Their providers alone are responsible for their content.

## Content provided by partner organisations

What the showcase says about organisations and pilots comes from the partner
organisations and is published only with their consent, after a check by the InnoLab team.
"""


DATENSCHUTZ_DE = """\
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
- **Rückmeldungen zur Barrierefreiheit:** Name (freiwillig), E-Mail-Adresse, die
  betroffene Seite und Ihre Beschreibung.
- **Protokolle:** Zur Sicherheit der Plattform protokollieren wir wichtige Aktionen mit
  Zeitpunkt, handelnder Person und IP-Adresse.
"""

DATENSCHUTZ_EN = """\
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
- **Feedback on accessibility:** name (optional), email address, the page concerned and
  your description.
- **Logs:** to keep the platform secure we log important actions with time, acting person
  and IP address.
"""


BARRIEREFREIHEIT_DE = """\
## Nicht barrierefreie Inhalte

Die nachstehend aufgeführten Inhalte sind nicht oder nicht vollständig barrierefrei:

- **Dateien, die Partnerorganisationen hochladen** (zum Beispiel PDF-Dokumente zu einem
  Pilotvorschlag), sind möglicherweise nicht barrierefrei. Grund: Das InnoLab erstellt diese
  Dateien nicht selbst (Inhalte Dritter). Alternative: Auf Anfrage erhalten Sie den Inhalt
  in einer zugänglichen Form.
- **Texte, die Partnerorganisationen selbst verfassen** (Beschreibungen im Schaufenster),
  gibt es nicht in Leichter Sprache. Grund: Es sind Inhalte Dritter. Alternative: Die Seite
  [Leichte Sprache](/leichte-sprache) erklärt die Plattform; auf Anfrage erklären wir Ihnen
  einzelne Inhalte.
- **Ein Video in Deutscher Gebärdensprache** wird erst erstellt. Alternative: Die Seite
  [Gebärdensprache](/gebaerdensprache) nennt die Kontaktwege.
"""

BARRIEREFREIHEIT_EN = """\
## Content that is not accessible

The content listed below is not, or not fully, accessible:

- **Files uploaded by partner organisations** (for example PDF documents of a pilot
  proposal) may not be accessible. Reason: the InnoLab does not make these files (third-party
  content). Alternative: on request you receive the content in an accessible form.
- **Texts written by partner organisations** (descriptions in the showcase) are not offered
  in Easy Read. Reason: they are third-party content. Alternative: the page
  [Easy Read](/leichte-sprache) explains the platform; on request we explain single items.
- **A video in German Sign Language** is still being made. Alternative: the page
  [Sign language](/gebaerdensprache) lists the ways to contact us.
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
