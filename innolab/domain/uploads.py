"""Attachments of proposals: checked by content, stored under random names, served to the allowed.

Nothing here reads the Flask request. A file arrives as a werkzeug `FileStorage` (or anything
with `.filename` and `.stream`), is checked by what it really contains (not by the name or the
browser's content type), and is written to the storage (`storage.py`: the upload folder
`UPLOAD_FOLDER`, outside `static/`, or an S3 bucket, as STORAGE_BACKEND says) under a random
name. The original filename is only kept, cleaned, for display and as the download name.

Files and rows change together. In the upload folder `save()` writes the file under a
temporary name (same file system), fsyncs it and only moves it to its stored name
(`os.replace`) once the database transaction that holds its row has been committed; a
rollback, an error or a session closed without commit removes the temporary file. In a bucket
the object is written at once and deleted again when the transaction does not commit, so a
committed row always has its object. Removing a file (`remove_file`) likewise waits for the
commit. This is tied to the Flask-SQLAlchemy session through session events, the pending work
kept per session in `Session.info`, so every caller gets it without doing anything. A full
disk or quota while writing, or a storage that cannot be reached, is refused with a message
for the user (`UploadRefused`), never a server error, and leaves nothing behind.
`check_files()` (the `check-files` command, and the worker every hour) reports what still
does not match.

Files from outside are handled as hostile (`check`): an Office file (a ZIP archive) that
inflates too much, has too many members, lies about its sizes or holds macros is refused
(`filecheck.check_archive`, limits `UPLOAD_ARCHIVE_MAX_*`); a PDF with JavaScript, embedded
files or a launch action is stored but flagged (`content_flags` on the row, shown to staff);
with `CLAMD_SOCKET` or `CLAMD_HOST` set every file is scanned by clamd before it is written,
and an infected file, or one that could not be scanned, is refused. Such a refusal is a
security event in the audit log; it is written on a connection of its own once the request's
transaction has ended (the view rolls that back), so it survives the rollback.
"""
from __future__ import annotations

import errno
import io
import logging
import time
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import filetype
from flask import current_app
from sqlalchemy import event, insert, select

from innolab.i18n import lazy_gettext as _l

from ..extensions import db
from ..models import Attachment, AuditEvent, DocumentVersion, Proposal, SignLanguageVideo
from ..models._base import utcnow
from . import DomainError, audit, filecheck, malware, storage

log = logging.getLogger("innolab.uploads")
security_log = logging.getLogger("innolab.security")


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
ZIP_EXTENSIONS = ("docx", "xlsx", "odt")
# The part of [Content_Types].xml that names the main document of an Office Open XML file.
OOXML_MAIN = {
    DOCX: b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    XLSX: b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
}
# Never inflate more than this from a ZIP member while looking at it (zip bombs).
_MAX_MEMBER_BYTES = 1024 * 1024

NO_SPACE = _l("Die Datei konnte nicht gespeichert werden, weil der Speicherplatz voll ist. "
              "Bitte versuchen Sie es später noch einmal oder wenden Sie sich an das "
              "InnoLab-Team.")
NOT_STORED = _l("Die Datei konnte nicht gespeichert werden. Bitte versuchen Sie es später "
                "noch einmal.")

NOT_ALLOWED = _l("Dieser Dateityp ist nicht erlaubt. Erlaubt sind: %(types)s.",
                 types=ALLOWED_LABEL)
INFECTED = _l("Die Virenprüfung hat in der Datei Schadsoftware gefunden. Die Datei wurde nicht "
              "gespeichert. Bitte prüfen Sie Ihr Gerät mit einem Virenschutzprogramm und laden "
              "Sie eine saubere Fassung hoch.")
NOT_SCANNED = _l("Die Datei konnte gerade nicht auf Schadsoftware geprüft werden. Bitte "
                 "versuchen Sie es in einigen Minuten erneut.")


@dataclass(frozen=True)
class Checked:
    data: bytes
    filename: str
    content_type: str
    # What staff should know before opening it (PDF: filecheck.PDF_FLAGS), space separated;
    # stored as `content_flags` on the row.
    content_flags: str | None = None


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
        name = stem[:254 - len(ext)] + "." + ext if dot and len(ext) <= 10 else name[:255]
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


def archive_limits() -> filecheck.ArchiveLimits:
    config = current_app.config
    return filecheck.ArchiveLimits(max_bytes=int(config["UPLOAD_ARCHIVE_MAX_BYTES"]),
                                   max_members=int(config["UPLOAD_ARCHIVE_MAX_MEMBERS"]),
                                   max_ratio=int(config["UPLOAD_ARCHIVE_MAX_RATIO"]))


def scanner() -> malware.Scanner:
    config = current_app.config
    return malware.Scanner(socket_path=config.get("CLAMD_SOCKET") or "",
                           host=config.get("CLAMD_HOST") or "",
                           port=int(config.get("CLAMD_PORT") or 3310),
                           timeout=float(config.get("CLAMD_TIMEOUT") or 30),
                           attempts=int(config.get("CLAMD_ATTEMPTS") or 1),
                           retry_delay=float(config.get("CLAMD_RETRY_DELAY") or 0))


def _looks_like_zip(data: bytes) -> bool:
    try:
        return zipfile.is_zipfile(io.BytesIO(data))
    except OSError:
        return False


def check(file_storage, user=None, proposal=None) -> Checked:
    """Read and check an uploaded file; raise UploadRefused with a reason the user understands.

    `user` and `proposal` (who uploads, and for which proposal) only go into the audit log
    when the file is refused as hostile."""
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
    about = {"filename": filename, "size": len(data), "proposal_id": getattr(proposal, "id", None)}
    if (ext in ZIP_EXTENSIONS or filecheck.is_zip(data)) and _looks_like_zip(data):
        # before anything else reads it: bombs, lying headers, macros
        try:
            filecheck.check_archive(data, archive_limits(),
                                    ext=ext if ext in ZIP_EXTENSIONS else "docx")
        except filecheck.HostileFile as exc:
            _security_event(user, "upload_refused", code=exc.code, **about)
            raise UploadRefused(exc.reason) from exc
    actual = sniff(data)
    if actual is None:
        raise UploadRefused(_l("Der Inhalt der Datei ist keine gültige %(type)s-Datei. "
                               "Erlaubt sind: %(types)s.",
                               type=ext.upper(), types=ALLOWED_LABEL))
    if actual != expected:
        raise UploadRefused(_l("Der Inhalt der Datei passt nicht zur Dateiendung „.%(ext)s“.",
                               ext=ext))
    flags = None
    if actual == PDF:
        found = filecheck.pdf_flags(data, budget=int(current_app.config[
            "UPLOAD_ARCHIVE_MAX_BYTES"]))
        flags = " ".join(f for f in filecheck.PDF_FLAGS if f in found) or None
    _scan(data, user, about)
    return Checked(data=data, filename=filename, content_type=actual, content_flags=flags)


def _scan(data: bytes, user, about: dict) -> None:
    """Refuse the file unless clamd (if configured) found it clean."""
    clamd = scanner()
    if not clamd.configured:
        return
    try:
        found = clamd.scan(data)
    except malware.ScanUnavailable as exc:
        log.error("Upload refused, the malware scan could not be made: %s", exc)
        _security_event(user, "upload_not_scanned", reason=str(exc)[:300], **about)
        raise UploadRefused(NOT_SCANNED) from exc
    if found:
        _security_event(user, "upload_infected", signature=found[:200], **about)
        raise UploadRefused(INFECTED)


# ---------------------------------------------------------------- security events

_SECURITY_EVENTS = "innolab_upload_security_events"  # key in Session.info


def _security_event(user, action: str, **details) -> None:
    """Record `security.<action>` for a refused upload, whatever becomes of the transaction.

    The view rolls the request's transaction back after a refusal, so the event is kept aside
    and written on a connection of its own once that transaction has ended (at once if none
    is open)."""
    security_log.warning("security.%s %s", action,
                         " ".join(f"{k}={v}" for k, v in details.items()))
    row = {"created_at": utcnow(), "actor_id": getattr(user, "id", None),
           "action": f"security.{action}", "object_type": None, "object_id": None,
           "details": {k: audit._plain(v) for k, v in details.items()},
           "ip": audit.client_ip.get()}
    session = _session()
    if session.in_transaction():
        session.info.setdefault(_SECURITY_EVENTS, []).append(row)
    else:
        _write_security_events([row])


def _write_security_events(rows: list[dict]) -> None:
    try:
        with db.engine.begin() as conn:
            conn.execute(insert(AuditEvent), rows)
    except Exception:  # the refusal still stands; the log line above tells
        log.exception("Security event of a refused upload could not be recorded")


def folder() -> Path:
    """The upload folder (the filesystem backend's; see `storage`)."""
    path = Path(current_app.config["UPLOAD_FOLDER"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def path_of(attachment) -> Path:
    """Where the file of an Attachment (or a DocumentVersion: anything with `stored_name`) lies
    in the upload folder (the filesystem backend; read through `storage.current()`)."""
    # stored_name is ours (hex), never the user's; still refuse anything path-like.
    return folder() / storage.valid_name(attachment.stored_name)


def read(stored) -> bytes:
    """The bytes of a stored file (an Attachment: anything with `stored_name`), from the
    current storage. FileNotFoundError when it is not there."""
    with storage.current().open(stored.stored_name) as stream:
        return stream.read()


# ---------------------------------------------------------------- writing, tied to the commit

# A file on its way in (filesystem): ".tmp-" + the stored name it gets after the commit.
TEMP_PREFIX = storage.TEMP_PREFIX
_PENDING = "innolab_pending_files"  # key in Session.info


@dataclass(eq=False)
class _Pending:
    store: storage.Storage
    name: str
    staged: storage.Staged | None  # None: delete `name` after the commit
    transaction: object = None  # the savepoint it was made in (None: the outer transaction)


def _session():
    return db.session()


def _pending(session) -> list[_Pending]:
    return session.info.setdefault(_PENDING, [])


def _stage(data: bytes) -> tuple[storage.Storage, storage.Staged]:
    """Keep `data` in the configured storage under a new random name, not yet published
    (filesystem: a temporary file in the upload folder, fsynced; S3: the object).

    On any error nothing is left behind; a full disk or quota becomes an UploadRefused the
    user understands, as does a storage that cannot be reached."""
    try:
        store = storage.current()
        return store, store.stage(data)
    except OSError as exc:
        raise _refusal(exc) from exc


def _refusal(exc: OSError) -> UploadRefused:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        log.warning("Upload refused, no space left in the upload folder: %s", exc)
        return UploadRefused(NO_SPACE)
    log.error("Upload could not be written to the storage: %s", exc)
    return UploadRefused(NOT_STORED)


def _within(transaction, savepoint) -> bool:
    while transaction is not None:
        if transaction is savepoint:
            return True
        transaction = transaction.parent
    return False


def _after_commit(session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint was released; the files wait for the outer commit
    done = session.info.pop(_PENDING, [])
    touched: list[storage.Storage] = []
    for item in done:
        try:
            if item.staged is not None:
                item.store.publish(item.staged)
            else:
                item.store.delete(item.name)
            if item.store not in touched:
                touched.append(item.store)
        except OSError as exc:  # the row is committed; check-files will report it
            log.error("Could not put %s in place after the commit: %s",
                      item.store.describe(item.name), exc)
    for store in touched:
        store.finish()


def _discard(session, items: list[_Pending]) -> None:
    pending = session.info.get(_PENDING, [])
    for item in items:
        if item.staged is not None:
            item.store.discard(item.staged)
        pending.remove(item)


def _after_soft_rollback(session, previous_transaction) -> None:
    if previous_transaction.nested:  # a savepoint rolled back: only what was made inside it
        _discard(session, [i for i in session.info.get(_PENDING, [])
                           if _within(i.transaction, previous_transaction)])


def _after_transaction_end(session, transaction) -> None:
    # The outer transaction ended without a commit (rollback, close, error): nothing pending
    # survives it. After a commit the list is already empty.
    if transaction.parent is None and session.info.get(_PENDING):
        _discard(session, list(session.info[_PENDING]))
    # Security events of refused uploads, now that the transaction's connection is released.
    if transaction.parent is None and session.info.get(_SECURITY_EVENTS):
        _write_security_events(session.info.pop(_SECURITY_EVENTS))


# Registered once, on the Flask-SQLAlchemy session: every session it hands out.
event.listen(db.session, "after_commit", _after_commit)
event.listen(db.session, "after_soft_rollback", _after_soft_rollback)
event.listen(db.session, "after_transaction_end", _after_transaction_end)


def save(file_storage, user=None, proposal=None) -> tuple[Checked, str]:
    """Check an uploaded file and write it below UPLOAD_FOLDER under a random name.

    The file is there under its stored name once the current transaction is committed, and is
    gone if it is rolled back. Returns what was checked and the stored name (for any model
    with a `stored_name`; set its `content_flags` from what was checked). `user` and
    `proposal` name who uploads for what in the audit log of a refusal."""
    checked = check(file_storage, user=user, proposal=proposal)
    return checked, _write(checked)


def _write(checked: Checked) -> str:
    """Write checked content under a random name, in place once the transaction commits."""
    session = _session()
    if not session.in_transaction():
        session.begin()  # so that the end of this very transaction decides about the file
    store, staged = _stage(checked.data)
    _pending(session).append(_Pending(store=store, name=staged.name, staged=staged,
                                      transaction=session.get_nested_transaction()))
    return staged.name


def store(proposal: Proposal, file_storage, user, internal: bool = False,
          message=None) -> Attachment:
    """Check and keep an uploaded file as an attachment of `proposal`.

    `internal` attachments are seen by staff only; only staff may make them (the view decides
    who may upload at all, see permissions.upload_attachment). `message`: the workspace
    message the file was sent with.
    """
    checked, stored_name = save(file_storage, user=user, proposal=proposal)
    attachment = Attachment(
        proposal=proposal, filename=checked.filename, stored_name=stored_name,
        content_type=checked.content_type, size=len(checked.data), internal=bool(internal),
        uploaded_by_id=getattr(user, "id", None), content_flags=checked.content_flags,
    )
    if message is not None:
        attachment.message = message
    db.session.add(attachment)
    db.session.flush()
    audit.record(user, "attachment.upload", attachment, proposal_id=proposal.id,
                 filename=checked.filename, size=len(checked.data), internal=bool(internal),
                 message_id=getattr(message, "id", None),
                 **({"flags": checked.content_flags} if checked.content_flags else {}))
    return attachment


def remove_file(attachment) -> None:
    """Remove the file of an Attachment or DocumentVersion once the transaction is committed."""
    try:
        name = storage.valid_name(attachment.stored_name)
    except FileNotFoundError:
        return
    session = _session()
    _pending(session).append(_Pending(store=storage.current(), name=name, staged=None,
                                      transaction=session.get_nested_transaction()))


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


# ---------------------------------------------------------------- do files and rows match?

STALE_AFTER_SECONDS = 3600


@dataclass
class FileCheck:
    """What `check_files` found. `orphans`: files without a row; `missing`: rows without a
    file, as (table, id, stored name); `stale`: temporary files older than an hour (an upload
    that never finished); `removed`: what `fix` deleted."""

    orphans: list[str] = field(default_factory=list)
    missing: list[tuple[str, int, str]] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def problems(self) -> int:
        """How many things are still wrong (what `fix` removed no longer counts)."""
        left = [n for n in [*self.orphans, *self.stale] if n not in self.removed]
        return len(left) + len(self.missing)

    @property
    def ok(self) -> bool:
        return self.problems == 0


# Every table whose rows name a stored file (`stored_name`, with its `size`).
STORED_MODELS = (Attachment, DocumentVersion, SignLanguageVideo)


def stored_rows() -> list[tuple[str, int, str, int]]:
    """Every row that names a stored file: (table, id, stored name, size), in that order."""
    rows = []
    for model in STORED_MODELS:
        for row_id, name, size in db.session.execute(
                select(model.id, model.stored_name, model.size).order_by(model.id)):
            rows.append((model.__tablename__, row_id, name, size))
    return rows


def _stored_names() -> dict[str, tuple[str, int]]:
    names: dict[str, tuple[str, int]] = {}
    for model in STORED_MODELS:
        for row_id, name in db.session.execute(select(model.id, model.stored_name)):
            names[name] = (model.__tablename__, row_id)
    return names


def check_files(fix: bool = False, now: float | None = None) -> FileCheck:
    """Compare the configured storage (upload folder or bucket) with the rows naming its files.

    The storage is listed before the rows are read: a file is only put in place after its row
    was committed, so every file listed has its row in what is read afterwards, and a file
    without a row really is an orphan. S3 writes the object before the commit (see
    `storage`): there an object without a row counts as an orphan only once it is older than
    an hour, as a temporary file does in the folder. With `fix`, orphans and stale temporary
    files are removed; rows without a file are only reported (the file has to come from a
    backup)."""
    store = storage.current()
    now = time.time() if now is None else now
    result = FileCheck()
    files: dict[str, storage.Entry] = {}
    temps = []
    for entry in store.entries():
        if entry.temp:
            temps.append(entry)
        else:
            files[entry.name] = entry
    rows = _stored_names()

    def settled(entry: storage.Entry) -> bool:
        return (not store.writes_before_commit or entry.modified is None
                or now - entry.modified > STALE_AFTER_SECONDS)

    result.orphans = sorted(name for name in files.keys() - rows.keys()
                            if settled(files[name]))
    result.stale = sorted(e.name for e in temps
                          if e.modified is not None and now - e.modified > STALE_AFTER_SECONDS)
    absent = [name for name in rows if name not in files and not store.exists(name)]
    if absent:  # read again: a row deleted meanwhile has lost its file with good reason
        again = _stored_names()
        result.missing = sorted((again[n][0], again[n][1], n) for n in absent if n in again)
    if fix:
        for name in [*result.orphans, *result.stale]:
            try:
                store.remove(name)
                result.removed.append(name)
            except FileNotFoundError:
                result.removed.append(name)
            except OSError as exc:
                log.error("Could not remove %s: %s", store.describe(name), exc)
    return result


def save_checked(checked: Checked, user=None) -> str:
    """Write content that its caller has checked for its kind (a file kind this module does
    not take, such as the sign-language video) to the storage, tied to the commit like
    `save`; the malware scan still applies. Returns the stored name."""
    _scan(checked.data, user, {"filename": checked.filename, "size": len(checked.data)})
    return _write(checked)
