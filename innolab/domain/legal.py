"""The mandatory details of the legal pages (Impressum, Datenschutzerklärung, Erklärung zur
Barrierefreiheit) as fields an admin fills.

Each item the law asks for is a `Field`: Impressum (§ 5 DDG, § 18 Abs. 2 MStV), the
controller and the data protection officer of the privacy policy (Art. 13 DSGVO), and the
accessibility statement after the EU model (Durchführungsbeschluss (EU) 2018/1523, § 14 LBGG
M-V, BITVO M-V). The values are platform settings (`domain.settings`, key `legal.<name>`);
until an admin saves a field, its default below applies. A required field that is empty makes
the page show a warning to admins (`missing`), never to visitors.

Defaults are the ZDMV's public contact data; what is not known here (the director, the person
responsible for the content, the data protection officer, the dates of the accessibility
statement) stays empty, so the warning shows until an admin fills it. docs/accessibility.md
lists the defaults an admin has to check.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from innolab.i18n import lazy_gettext as _l

from ..extensions import db
from ..models import PlatformSetting
from . import DomainError, retention, settings
from .pages import CONTACT_EMAIL, CONTACT_PHONE

PREFIX = "legal."
MAX_LENGTH = 500  # the settings column

# The pages whose mandatory details are fields (each has its own admin form).
GROUPS = ("impressum", "datenschutz", "barrierefreiheit")


@dataclass(frozen=True)
class Field:
    name: str
    group: str  # the form that edits it
    label: object
    required: bool = True
    default: str = ""
    kind: str = "text"  # text | textarea | email | tel | url | date | choice | number
    hint: object = None
    choices: tuple = ()


STATUS_CHOICES = (
    ("full", _l("vollständig vereinbar")),
    ("partial", _l("teilweise vereinbar")),
    ("none", _l("nicht vereinbar")),
)
METHOD_CHOICES = (
    ("self", _l("Selbstbewertung")),
    ("test", _l("Prüfung durch Dritte")),
)

FIELDS: tuple[Field, ...] = (
    # ---- Impressum (§ 5 DDG, § 18 MStV); the authority's data are also the controller's
    Field("authority_name", "impressum", _l("Name der Behörde"),
          default="Zentrum für Digitalisierung Mecklenburg-Vorpommern (ZDMV)"),
    Field("address", "impressum", _l("Anschrift"), kind="textarea",
          default="Lübecker Straße 287\n19059 Schwerin",
          hint=_l("Straße, Hausnummer, Postleitzahl und Ort; eine Angabe je Zeile.")),
    Field("director", "impressum", _l("Vertretungsberechtigte Person (Direktorin oder Direktor)"),
          hint=_l("Name und Funktion, zum Beispiel „Vorname Name, Direktor“.")),
    Field("email", "impressum", _l("E-Mail-Adresse"), kind="email", default=CONTACT_EMAIL),
    Field("phone", "impressum", _l("Telefon"), kind="tel", default=CONTACT_PHONE),
    Field("phone_hours_de", "impressum", _l("Telefonische Erreichbarkeit (Deutsch)"),
          required=False, default="Dienstag 13–16 Uhr, Donnerstag 9–12 Uhr"),
    Field("phone_hours_en", "impressum", _l("Telefonische Erreichbarkeit (Englisch)"),
          required=False,
          default="Tuesdays 1–4 pm, Thursdays 9 am–12 noon (German time)"),
    Field("supervisory_authority", "impressum", _l("Aufsichtsbehörde"),
          default="Ministerium für Inneres, Bau und Digitalisierung Mecklenburg-Vorpommern",
          hint=_l("Für ein Landesamt das zuständige Ministerium.")),
    Field("supervisory_address", "impressum", _l("Anschrift der Aufsichtsbehörde"),
          kind="textarea", required=False,
          default="Alexandrinenstraße 1\n19055 Schwerin"),
    Field("content_responsible", "impressum",
          _l("Inhaltlich verantwortlich nach § 18 Abs. 2 MStV"), kind="textarea",
          hint=_l("Name und Anschrift der verantwortlichen Person.")),
    Field("vat_id", "impressum", _l("Umsatzsteuer-Identifikationsnummer"), required=False,
          hint=_l("Nur, wenn die Behörde eine hat.")),
    # ---- Datenschutzerklärung (Art. 13 DSGVO)
    Field("dpo_contact", "datenschutz", _l("Kontakt der oder des Datenschutzbeauftragten"),
          kind="textarea",
          hint=_l("Anschrift und E-Mail-Adresse, unter denen die oder der "
                  "Datenschutzbeauftragte erreichbar ist.")),
    Field("processor", "datenschutz", _l("Auftragsverarbeiter (Betrieb der Plattform)"),
          kind="textarea", required=False,
          hint=_l("Zum Beispiel das Rechenzentrum, das die Plattform im Auftrag betreibt.")),
    Field("dpa_name", "datenschutz", _l("Datenschutz-Aufsichtsbehörde"),
          default="Der Landesbeauftragte für Datenschutz und Informationsfreiheit "
                  "Mecklenburg-Vorpommern"),
    Field("dpa_address", "datenschutz", _l("Anschrift der Datenschutz-Aufsichtsbehörde"),
          kind="textarea", default="Schloss Schwerin\nLennéstraße 1\n19053 Schwerin"),
    Field("dpa_website", "datenschutz", _l("Website der Datenschutz-Aufsichtsbehörde"),
          kind="url", default="https://www.datenschutz-mv.de"),
    # ---- Erklärung zur Barrierefreiheit (EU model, § 14 LBGG M-V, BITVO M-V)
    Field("a11y_status", "barrierefreiheit", _l("Stand der Vereinbarkeit"), kind="choice",
          default="partial", choices=STATUS_CHOICES),
    Field("a11y_prepared_on", "barrierefreiheit", _l("Erstellt am"), kind="date"),
    Field("a11y_reviewed_on", "barrierefreiheit", _l("Zuletzt überprüft am"), kind="date"),
    Field("a11y_method", "barrierefreiheit", _l("Methode der Bewertung"), kind="choice",
          default="self", choices=METHOD_CHOICES),
    Field("a11y_method_detail", "barrierefreiheit", _l("Angaben zur Prüfung"),
          kind="textarea", required=False,
          hint=_l("Zum Beispiel das Prüfverfahren, wer geprüft hat und wann.")),
    Field("a11y_answer_weeks", "barrierefreiheit", _l("Antwortfrist in Wochen"),
          kind="number", default="6",
          hint=_l("Innerhalb dieser Frist beantworten Sie jede Rückmeldung; die Erklärung "
                  "und die Eingangsbestätigung nennen sie.")),
    Field("a11y_feedback_email", "barrierefreiheit",
          _l("E-Mail-Adresse der zuständigen Stelle für Rückmeldungen"), kind="email",
          default=CONTACT_EMAIL,
          hint=_l("Jede Rückmeldung über das Formular geht an diese Adresse.")),
    Field("enforcement_name", "barrierefreiheit", _l("Durchsetzungsstelle"),
          default="Überwachungsstelle des Landes Mecklenburg-Vorpommern für digitale "
                  "Barrierefreiheit beim Ministerium für Soziales, Gesundheit und Sport"),
    Field("enforcement_address", "barrierefreiheit", _l("Anschrift der Durchsetzungsstelle"),
          kind="textarea", default="Werderstraße 124\n19055 Schwerin"),
    Field("enforcement_website", "barrierefreiheit", _l("Website der Durchsetzungsstelle"),
          kind="url", default="https://www.barrierefreies-web-mv.de"),
    Field("enforcement_email", "barrierefreiheit", _l("E-Mail-Adresse der Durchsetzungsstelle"),
          kind="email", required=False),
)

BY_NAME = {f.name: f for f in FIELDS}

# Which fields each page shows: the warning lists the empty required ones among them.
PAGE_FIELDS: dict[str, tuple[str, ...]] = {
    "impressum": ("authority_name", "address", "director", "email", "phone",
                  "supervisory_authority", "content_responsible"),
    "datenschutz": ("authority_name", "address", "email", "phone", "dpo_contact", "dpa_name",
                    "dpa_address", "dpa_website"),
    "barrierefreiheit": ("authority_name", "email", "phone", "a11y_status", "a11y_prepared_on",
                         "a11y_reviewed_on", "a11y_method", "a11y_answer_weeks",
                         "a11y_feedback_email", "enforcement_name", "enforcement_address",
                         "enforcement_website"),
}

GROUP_LABELS = {
    "impressum": _l("Impressum"),
    "datenschutz": _l("Datenschutzerklärung"),
    "barrierefreiheit": _l("Erklärung zur Barrierefreiheit"),
}


class LegalFieldRefused(DomainError):
    pass


def values() -> dict[str, str]:
    """Every field's value: what an admin saved (also an empty value), else the default."""
    saved = {row.key[len(PREFIX):]: row.value for row in db.session.query(PlatformSetting)
             .filter(PlatformSetting.key.startswith(PREFIX, autoescape=True))}
    return {f.name: saved.get(f.name, f.default) for f in FIELDS}


def fields_of(group: str) -> list[Field]:
    return [f for f in FIELDS if f.group == group]


def missing(slug: str, current: dict[str, str] | None = None) -> list[Field]:
    """The required fields the page `slug` shows that are empty (for the admins' warning)."""
    current = values() if current is None else current
    return [BY_NAME[name] for name in PAGE_FIELDS.get(slug, ())
            if BY_NAME[name].required and not (current.get(name) or "").strip()]


def choice_label(name: str, value: str):
    return dict(BY_NAME[name].choices).get(value, "")


def as_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def lines(value: str | None) -> list[str]:
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


def save(actor, group: str, data: dict[str, object]) -> list[str]:
    """Store the fields of `group` from `data` (name -> value as the form gives it).

    Returns the names that changed; each change is an audit event (`setting.change`)."""
    if group not in GROUPS:
        raise LegalFieldRefused(_l("Diese Seite hat keine Pflichtangaben."))
    changed = []
    for f in fields_of(group):
        raw = data.get(f.name)
        if isinstance(raw, date):
            value = raw.isoformat()
        elif raw is None:
            value = ""
        else:
            value = str(raw).replace("\r\n", "\n").strip()
        if len(value) > MAX_LENGTH:
            raise LegalFieldRefused(_l("Höchstens %(max)d Zeichen.", max=MAX_LENGTH))
        if settings.set_setting(actor, PREFIX + f.name, value):
            changed.append(f.name)
    return changed


# ---------------------------------------------------------------- storage periods

# The retention settings (if the platform has them): setting key -> label. The privacy
# policy lists those that are set; without any it says in general terms how long data stay.
def retention_periods() -> list[tuple[object, str]]:
    """(what, how long) for every rule of the deletion schedule, as in force now: the privacy
    page shows the same periods the worker applies (domain/retention.py)."""
    return [(p.label, p.text) for p in retention.periods()]
