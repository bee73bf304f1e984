"""The fields of a proposal a partner writes: their labels and which ones submitting needs.

One table for the form, the detail page, the diff of versions, the edit conflict notice and the
submit guard (`states.required_fields_complete`), so a field is called the same everywhere.
"""
from __future__ import annotations

from innolab.i18n import lazy_gettext as _l

# Labels of every field a partner writes (used by the form, the detail page and the diff).
FIELD_LABELS = {
    "title": _l("Titel"),
    "title_en": _l("Titel (Englisch, optional)"),
    "public_summary": _l("Öffentliche Kurzbeschreibung"),
    "public_summary_en": _l("Öffentliche Kurzbeschreibung (Englisch, optional)"),
    "problem": _l("Problem"),
    "solution": _l("Lösungsvorschlag"),
    "benefit": _l("Nutzen für die Verwaltung"),
    "trl": _l("Reifegrad (TRL)"),
    "duration_months": _l("Geplante Dauer (Monate)"),
    "cost_estimate": _l("Kostenschätzung (Euro)"),
    "personal_data": _l("Verarbeitung personenbezogener Daten"),
    "personal_data_details": _l("Art der Verarbeitung personenbezogener Daten"),
    "hosting_location": _l("Hosting-Standort"),
    "security_notes": _l("Hinweise zur Informationssicherheit"),
    "contact_name": _l("Ansprechperson"),
    "contact_email": _l("E-Mail der Ansprechperson"),
    "contact_phone": _l("Telefon der Ansprechperson"),
    "publication_consent": _l("Zustimmung zur Veröffentlichung"),
    "challenge_id": _l("Herausforderung"),
    "topics": _l("Themen"),
}

# What must be filled in before a proposal can be submitted (in the order of the form).
REQUIRED_FOR_SUBMIT = ("title", "public_summary", "problem", "solution", "benefit", "trl",
                       "duration_months", "cost_estimate", "hosting_location", "contact_name",
                       "contact_email")


def missing_fields(p) -> list[str]:
    """Names of the fields submitting needs that are still empty (labels: FIELD_LABELS)."""
    missing = [name for name in REQUIRED_FOR_SUBMIT if getattr(p, name) in (None, "")]
    if p.personal_data and not (p.personal_data_details or "").strip():
        missing.append("personal_data_details")
    return missing
