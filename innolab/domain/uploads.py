"""Attachments of proposals: checked by content, stored under random names, served to the allowed.

Nothing here reads the Flask request. A file arrives as a werkzeug `FileStorage` (or anything
with `.filename` and `.stream`), is checked by what it really contains (not by the name or the
browser's content type), and is written below `UPLOAD_FOLDER` (outside `static/`) under a random
name. The original filename is only kept, cleaned, for display and as the download name.
"""
from __future__ import annotations

import io
import os
import secrets
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

import filetype
from flask import current_app
from innolab.i18n import lazy_gettext as _l

from ..extensions import db
from ..models import Attachment, Proposal
from . import DomainError, audit


class UploadRefused(DomainError):
    pass


PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
ODT = "application/vnd.oasis.opendocument.text"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# extension -> the content type its content must have
ALLOWED: dict[str, str] = {
    "pdf": PDF,
    "odt": ODT,
    "docx": DOCX,
    "xlsx": XLSX,
    "png": PNG,
    "jpg": JPEG,
    "jpeg": JPEG,
}
ALLOWED_LABEL = "PDF, ODT, DOCX, XLSX, PNG, JPEG"
ACCEPT = ",".join("." + ext for ext in ALLOWED)  # for <input type=file accept=...>

ZIP_TYPES = {ODT, DOCX, XLSX}
# The part of [Content_Types].xml that names the main document of an Office Open XML file.
OOXML_MAIN = {
    DOCX: b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    XLSX: b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
}
# Never inflate more than this from a ZIP member while looking at it (zip bombs).
_MAX_MEMBER_BYTES = 1024 * 1024

NOT_ALLOWED = _l("Dieser Dateityp ist nicht erlaubt. Erlaubt sind: %(types)s.",
                 types=ALLOWED_LABEL)


@dataclass(frozen=True)
class Checked:
    data: bytes
    filename: str
    content_type: str


def max_bytes() -> int:
    return int(current_app.config["UPLOAD_MAX_BYTES"])


def form_limits() -> dict:
    """What an upload form tells the user: `accept` for the file input, the allowed types and
    the largest size in MB."""
    return {"accept": ACCEPT, "allowed_types": ALLOWED_LABEL,
            "max_mb": max_bytes() // (1024 * 1024)}


def _megabytes(n: int) -> str:
    mb = n / (1024 * 1024)
    return f"{mb:.0f}" if mb >= 1 else f"{mb:.2f}"


def clean_filename(name: str | None) -> str:
    """The user's filename for display: no path, no control characters, at most 255 chars."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = "".join("_" if ch in '<>:"|?*' else ch for ch in name)
    name = name.strip().strip(".").strip()
    if not name:
        return ""
    if len(name) > 255:
        stem, dot, ext = name.rpartition(".")
        if dot and len(ext) <= 10:
            name = stem[: 254 - len(ext)] + "." + ext
        else:
            name = name[:255]
    return name


def extension(name: str) -> str:
    _, dot, ext = name.rpartition(".")
    return ext.lower() if dot else ""


def sniff(data: bytes) -> str | None:
    """The content type the bytes really have (None if not one we accept)."""
    kind = filetype.guess(data)
    if kind is None:
        return None
    if kind.mime in (PDF, PNG, JPEG):
        return kind.mime
    if kind.mime == "application/zip" or kind.mime in ZIP_TYPES or kind.extension in (
        "docx", "xlsx", "odt", "pptx", "ods", "odp", "zip"
    ):
        return _zip_document_type(data)
    return None


def _read_member(zf: zipfile.ZipFile, name: str) -> bytes | None:
    try:
        info = zf.getinfo(name)
    except KeyError:
        return None
    if info.file_size > _MAX_MEMBER_BYTES:
        return None
    with zf.open(info) as fh:
        return fh.read(_MAX_MEMBER_BYTES + 1)[:_MAX_MEMBER_BYTES]


def _zip_document_type(data: bytes) -> str | None:
    """Tell ODT, DOCX and XLSX apart by what the ZIP container holds."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            mimetype = _read_member(zf, "mimetype")
            if mimetype is not None and mimetype.strip() == ODT.encode():
                return ODT
            types = _read_member(zf, "[Content_Types].xml")
            if types is not None:
                for mime, marker in OOXML_MAIN.items():
                    if marker in types:
                        return mime
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, NotImplementedError,
            RuntimeError, EOFError):
        return None
    return None


def check(file_storage) -> Checked:
    """Read and check an uploaded file; raise UploadRefused with a reason the user understands."""
    if file_storage is None or not getattr(file_storage, "filename", None):
        raise UploadRefused(_l("Bitte wählen Sie eine Datei aus."))
    filename = clean_filename(file_storage.filename)
    ext = extension(filename)
    expected = ALLOWED.get(ext)
    if expected is None:
        raise UploadRefused(NOT_ALLOWED)
    limit = max_bytes()
    data = file_storage.stream.read(limit + 1)
    if len(data) > limit:
        raise UploadRefused(_l("Die Datei ist größer als %(mb)s MB.", mb=_megabytes(limit)))
    if not data:
        raise UploadRefused(_l("Die Datei ist leer."))
    actual = sniff(data)
    if actual is None:
        raise UploadRefused(_l("Der Inhalt der Datei ist keine gültige %(type)s-Datei. "
                               "Erlaubt sind: %(types)s.",
                               type=ext.upper(), types=ALLOWED_LABEL))
    if actual != expected:
        raise UploadRefused(_l("Der Inhalt der Datei passt nicht zur Dateiendung „.%(ext)s“.",
                               ext=ext))
    return Checked(data=data, filename=filename, content_type=actual)


def folder() -> Path:
    path = Path(current_app.config["UPLOAD_FOLDER"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def path_of(attachment) -> Path:
    """Where the file of an Attachment (or a DocumentVersion: anything with `stored_name`) is."""
    # stored_name is ours (hex), never the user's; still refuse anything path-like.
    name = attachment.stored_name
    if not name or os.sep in name or "/" in name or name.startswith("."):
        raise FileNotFoundError(name)
    return folder() / name


def save(file_storage) -> tuple[Checked, str]:
    """Check an uploaded file and write it below UPLOAD_FOLDER under a random name.

    Returns what was checked and the stored name (for any model with a `stored_name`)."""
    checked = check(file_storage)
    stored_name = secrets.token_hex(16)
    path = folder() / stored_name
    with open(path, "xb") as fh:
        fh.write(checked.data)
    os.chmod(path, 0o600)
    return checked, stored_name


def store(proposal: Proposal, file_storage, user, internal: bool = False,
          message=None) -> Attachment:
    """Check and keep an uploaded file as an attachment of `proposal`.

    `internal` attachments are seen by staff only; only staff may make them (the view decides
    who may upload at all, see permissions.upload_attachment). `message`: the workspace
    message the file was sent with.
    """
    checked, stored_name = save(file_storage)
    attachment = Attachment(
        proposal=proposal, filename=checked.filename, stored_name=stored_name,
        content_type=checked.content_type, size=len(checked.data), internal=bool(internal),
        uploaded_by_id=getattr(user, "id", None),
    )
    if message is not None:
        attachment.message = message
    db.session.add(attachment)
    db.session.flush()
    audit.record(user, "attachment.upload", attachment, proposal_id=proposal.id,
                 filename=checked.filename, size=len(checked.data), internal=bool(internal),
                 message_id=getattr(message, "id", None))
    return attachment


def remove_file(attachment: Attachment) -> None:
    try:
        path_of(attachment).unlink()
    except (FileNotFoundError, OSError):
        pass


def delete(attachment: Attachment, user) -> None:
    audit.record(user, "attachment.delete", attachment, proposal_id=attachment.proposal_id,
                 filename=attachment.filename)
    proposal = attachment.proposal
    if attachment in proposal.attachments:
        proposal.attachments.remove(attachment)
    db.session.delete(attachment)
    db.session.flush()
    remove_file(attachment)


def visible_attachments(proposal: Proposal, internal: bool) -> list[Attachment]:
    """The attachments a viewer sees: internal ones only in the staff view."""
    return [a for a in proposal.attachments
            if a.message_id is None and (internal or not a.internal)]
