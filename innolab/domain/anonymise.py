"""The anonymised first round of review: what a reviewer in it may see of a proposal.

While a proposal to a challenge with an anonymised first round is in that round
(`Status.ANONYMOUS_REVIEW`), a reviewer who does not oversee every proposal sees it only
through `view(p)`: no organisation, no people, no contact data, its texts with the names of
the organisation and its people (and every e-mail address) replaced by „[geschwärzt]“, and
its attachments only as „Anlage 1“, „Anlage 2“ … once a coordinator released them for the
round, downloaded as a copy stripped of the metadata the platform can remove (`strip`).
Whether a user sees the identity is `permissions.sees_identity`.
"""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from typing import Any

from innolab.i18n import lazy_gettext as _l
from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject

from sqlalchemy import exists, or_, select

from ..extensions import db
from ..models import Attachment, Challenge, Proposal, ReviewAssignment, TimelineEntry
from ..models._base import utcnow
from . import DomainError, audit, permissions, questions
from .locking import lock

REDACTED = "[geschwärzt]"

# Words of an organisation's name too common to stand for it alone (its full name is
# redacted all the same).
COMMON_WORDS = frozenset((
    "gmbh", "ggmbh", "mbh", "ag", "eg", "kg", "ohg", "gbr", "ug", "e.v.", "ev", "mit", "und",
    "oder", "der", "die", "das", "des", "dem", "den", "für", "von", "zu", "im", "in", "am",
    "an", "auf", "stadt", "land", "kreis", "verein", "institut", "gesellschaft", "stiftung",
    "verband", "verwaltung", "digital", "digitale", "systeme", "system", "solutions",
    "services", "gruppe", "group",
))

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


class AnonymiseRefused(DomainError):
    pass


def identifying_terms(p: Proposal) -> list[str]:
    """What names the applicant: the organisation's name and its distinctive words, its web
    address, the names (and their parts) and e-mail addresses of its members and of the
    contact person, the contact's phone number."""
    org = p.organisation
    terms: set[str] = set()

    def add_name(name: str | None, *, parts_from: int = 3) -> None:
        name = (name or "").strip()
        if not name:
            return
        terms.add(name)
        for word in re.split(r"[\s,()/]+", name):
            word = word.strip(".-")
            if len(word) >= parts_from and word.casefold() not in COMMON_WORDS:
                terms.add(word)

    add_name(org.name, parts_from=4)
    if org.website:
        host = re.sub(r"^[a-z]+://", "", org.website.strip(), flags=re.I).split("/")[0]
        if host:
            terms.add(host)
            terms.add(host.removeprefix("www."))
    for m in org.memberships:
        if m.user is not None:
            add_name(m.user.name)
            terms.add(m.user.email)
    add_name(p.contact_name)
    for value in (p.contact_email, p.contact_phone):
        if value and value.strip():
            terms.add(value.strip())
    return sorted((t for t in terms if t), key=len, reverse=True)


@dataclass(frozen=True)
class Redactor:
    pattern: re.Pattern | None

    def __call__(self, text: Any) -> Any:
        if not isinstance(text, str) or not text:
            return text
        if self.pattern is not None:
            text = self.pattern.sub(REDACTED, text)
        return EMAIL.sub(REDACTED, text)


def redactor(p: Proposal) -> Redactor:
    """A function that blacks out the applicant's names in a text (case-insensitive, whole
    words) and every e-mail address."""
    terms = identifying_terms(p)
    if not terms:
        return Redactor(None)
    alternatives = "|".join(re.escape(t) for t in terms)
    return Redactor(re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE))


def redact(p: Proposal, text: str | None) -> str | None:
    return redactor(p)(text)


# ---------------------------------------------------------------- the setting


def rounds_frozen(c: Challenge) -> bool:
    """A reviewer was assigned to a proposal to `c`, or its review has begun (either way):
    from then on whether the first round is anonymised stays as it was, so that nobody has
    seen a proposal under the other rule."""
    started = exists().where(TimelineEntry.proposal_id == Proposal.id,
                             TimelineEntry.action.in_(("start_review", "start_anonymous_review")))
    assigned = exists().where(ReviewAssignment.proposal_id == Proposal.id)
    return bool(db.session.execute(
        select(exists().where(Proposal.challenge_id == c.id, or_(started, assigned)))).scalar())


def set_rounds(actor, c: Challenge, anonymised: bool) -> None:
    """A coordinator decides whether the first round of review of `c` is anonymised, until a
    reviewer is assigned to one of its proposals (`rounds_frozen`)."""
    lock(c)
    if bool(c.anonymised_first_round) == anonymised:
        return
    if rounds_frozen(c):
        raise AnonymiseRefused(_l(
            "Einem Vorschlag zu dieser Herausforderung ist bereits eine Gutachterin oder ein "
            "Gutachter zugewiesen; ob die erste Runde anonymisiert ist, lässt sich nicht mehr "
            "ändern."))
    c.anonymised_first_round = anonymised
    db.session.flush()
    audit.record(actor, "challenge.anonymised_first_round", c, after=anonymised)


# ---------------------------------------------------------------- attachments


def numbered(p: Proposal) -> list[tuple[int, Attachment]]:
    """The proposal's own attachments (not those of messages, not internal ones) with their
    number in the anonymised round: in the order they were uploaded, from 1."""
    own = sorted((a for a in p.attachments if a.message_id is None and not a.internal),
                 key=lambda a: (a.created_at, a.id))
    return list(enumerate(own, start=1))


def released(p: Proposal) -> list[tuple[int, Attachment]]:
    """The numbered attachments a coordinator released for the anonymised round."""
    return [(n, a) for n, a in numbered(p) if a.first_round_released_at is not None]


def number_of(p: Proposal, attachment: Attachment) -> int | None:
    return next((n for n, a in numbered(p) if a.id == attachment.id), None)


def label(n: int):
    return _l("Anlage %(n)d", n=n)


def download_name(n: int, attachment: Attachment) -> str:
    ext = attachment.filename.rsplit(".", 1)[-1].lower() if "." in attachment.filename else ""
    return f"Anlage-{n}.{ext}" if ext else f"Anlage-{n}"


def release(p: Proposal, attachment: Attachment, actor, data: bytes) -> None:
    """A coordinator releases an attachment for the anonymised round, once its metadata could
    be stripped completely (`strip` of `data`, the stored file): the reviewers of the round
    then see it as „Anlage N“ and download the stripped copy."""
    lock(p)
    if attachment.proposal_id != p.id or number_of(p, attachment) is None:
        raise AnonymiseRefused(_l("Diese Datei gehört nicht zu den Anlagen des Vorschlags."))
    if not strip(data, attachment.filename)[1]:
        raise AnonymiseRefused(_l(
            "Die Metadaten dieser Datei lassen sich nicht vollständig entfernen; sie bleibt "
            "für die anonymisierte Runde zurückgehalten."))
    if attachment.first_round_released_at is None:
        attachment.first_round_released_at = utcnow()
        audit.record(actor, "attachment.release_first_round", attachment, proposal_id=p.id,
                     reference=p.reference)


def withhold(p: Proposal, attachment: Attachment, actor) -> None:
    lock(p)
    if attachment.first_round_released_at is not None:
        attachment.first_round_released_at = None
        audit.record(actor, "attachment.withhold_first_round", attachment, proposal_id=p.id,
                     reference=p.reference)


# ---------------------------------------------------------------- what a reviewer sees

# Attributes of a proposal that say nothing about who applied.
NEUTRAL = frozenset({
    "id", "reference", "display_reference", "status", "challenge", "challenge_id", "topics",
    "trl", "duration_months", "cost_estimate", "personal_data", "publication_consent",
    "submitted_at", "first_submitted_at", "version", "checks_due_on", "decision_due_on",
    "shortlisted_at", "is_pilot",
})
# Texts the partner wrote: shown with the names blacked out.
TEXTS = frozenset({
    "title", "title_en", "public_summary", "public_summary_en", "problem", "solution",
    "benefit", "personal_data_details", "hosting_location", "security_notes",
})


class AnonymousView:
    """A proposal as a reviewer of the anonymised round sees it: only the neutral attributes
    and the redacted texts; anything else is absent (None), so a template that asks for the
    organisation or the contact person gets nothing."""

    anonymised = True

    def __init__(self, p: Proposal):
        self._p = p
        self._redact = redactor(p)

    def __getattr__(self, name: str):
        if name in NEUTRAL:
            return getattr(self._p, name)
        if name in TEXTS:
            return self._redact(getattr(self._p, name))
        return None

    def answered(self) -> list[tuple[Any, Any]]:
        """The answers to the questions, redacted; a file answer as its „Anlage N“ (or
        „zurückgehalten“ when not released)."""
        shown = dict(released(self._p))
        numbers = {a.id: n for n, a in numbered(self._p)}
        result = []
        for q, value in questions.answered(self._p):
            if q.kind == "file" and value is not None:
                n = numbers.get(value) if isinstance(value, int) else None
                value = (str(label(n)) if n is not None and n in shown
                         else str(_l("(für die anonymisierte Runde zurückgehalten)")))
            elif isinstance(value, str):
                value = self._redact(value)
            result.append((q, value))
        return result

    @property
    def first_round_attachments(self) -> list[tuple[int, Attachment]]:
        return released(self._p)


def view(p: Proposal) -> AnonymousView:
    return AnonymousView(p)


def as_seen_by(user, p: Proposal):
    """The proposal as `user` may see it: itself, or its anonymised view
    (`permissions.sees_identity`). The template global `as_seen` (for the signed-in user)."""
    return p if permissions.sees_identity(user, p) else AnonymousView(p)


def answered(p) -> list:
    """The template global `proposal_answers`: a proposal's answers, or a view's redacted
    ones."""
    if isinstance(p, AnonymousView):
        return p.answered()
    return questions.answered(p)


# ---------------------------------------------------------------- metadata

_CORE = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
         b'<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
         b'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"/>')
_APP = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'extended-properties"/>')
_CUSTOM = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
           b'custom-properties"/>')
_ODF_META = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
             b'<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:'
             b'office:1.0" office:version="1.2"><office:meta/></office:document-meta>')
# The parts of an Office or OpenDocument file that hold its author and the like, and what
# they are replaced with (empty properties).
ZIP_PARTS = {"docProps/core.xml": _CORE, "docProps/app.xml": _APP,
             "docProps/custom.xml": _CUSTOM, "meta.xml": _ODF_META}
# Parts that name people and that the platform cannot empty without changing the document
# (comments, tracked changes' authors): such a file is not stripped completely.
ZIP_PEOPLE = ("word/comments.xml", "word/people.xml", "word/commentsExtended.xml",
              "xl/comments1.xml", "xl/persons/person.xml")


def strip(data: bytes, filename: str) -> tuple[bytes, bool]:
    """The file without the metadata the platform can remove, and whether that was all of it
    (False: the file could not be read, or names people where the platform cannot empty
    them). PDF: document information and XMP; DOCX, XLSX: docProps; ODT: meta.xml;
    PNG, JPEG: the image without EXIF, text chunks or comments."""
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    try:
        if ext == "pdf":
            return _strip_pdf(data), True
        if ext in ("docx", "xlsx", "odt"):
            return _strip_zip(data)
        if ext in ("png", "jpg", "jpeg"):
            return _strip_image(data, "PNG" if ext == "png" else "JPEG"), True
    except Exception:  # noqa: BLE001 - any file the libraries cannot read is not stripped
        return data, False
    return data, False


def _strip_pdf(data: bytes) -> bytes:
    reader = PdfReader(io.BytesIO(data))
    writer = PdfWriter(clone_from=reader)
    writer.metadata = None
    root = writer.root_object
    if NameObject("/Metadata") in root:
        del root[NameObject("/Metadata")]
    for page in writer.pages:
        if NameObject("/Metadata") in page:
            del page[NameObject("/Metadata")]
    # the cloned information and XMP objects are no longer referenced: not written
    writer.compress_identical_objects()  # (and the same objects once)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _strip_zip(data: bytes) -> tuple[bytes, bool]:
    complete = True
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            content = ZIP_PARTS.get(info.filename)
            if content is None:
                content = src.read(info)
                if info.filename in ZIP_PEOPLE:
                    complete = False
            fresh = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fresh.compress_type = info.compress_type  # ODF's mimetype stays stored
            fresh.external_attr = info.external_attr
            dst.writestr(fresh, content)
    return out.getvalue(), complete


def _strip_image(data: bytes, kind: str) -> bytes:
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        clean = Image.new(img.mode, img.size)
        clean.putdata(list(img.getdata()))
        if img.mode == "P" and img.palette is not None:
            clean.putpalette(img.getpalette() or [])
        out = io.BytesIO()
        if kind == "JPEG":
            clean.save(out, "JPEG", quality=95)
        else:
            clean.save(out, "PNG")
    return out.getvalue()
