"""What an uploaded file really holds: archive bombs, macros, active PDF content.

Files from outside are handled as hostile. Nothing here reads the request or the app's
configuration: the limits come in as arguments (`uploads.py` takes them from the settings), so
every rule can be tested on bytes alone.

Office files (DOCX, XLSX, ODT) are ZIP archives. `check_archive` reads their central directory
without inflating anything, bounds the number of members, the total size they declare and the
compression ratio, and then inflates every member itself with `zlib`, counting bytes, so that a
member whose header lies about its size (a deflate stream that goes on beyond what the
directory says) is caught after at most the declared size plus one chunk. Members that overlap
in the file (many directory entries pointing at the same compressed data) are refused. While
the bytes go by, it looks for macros: `vbaProject.bin` anywhere, the macro-enabled content
types of .docm/.xlsm/.pptm, Excel 4.0 macro sheets, OpenDocument `Basic/` and `Scripts/`
folders or manifest entries and script event listeners; an archive inside the archive (an
embedded workbook) is checked the same way, within the same budget.

PDFs are not refused but flagged (`pdf_flags`): JavaScript (`/JavaScript`, `/JS`, which also
covers an `/OpenAction` or `/AA` that runs script), embedded files and `/Launch` actions, in
the raw bytes and in every stream that inflates (object streams hide objects there), within a
byte budget; a PDF that cannot be read to the end within it, or is encrypted, is flagged as not
fully checked.
"""
from __future__ import annotations

import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from io import BytesIO

from innolab.i18n import lazy_gettext as _l

from . import DomainError

CHUNK = 64 * 1024
MAX_DEPTH = 3  # archives inside archives inside archives, no further


class HostileFile(DomainError):
    """The file is refused; `code` says why (for the audit log), `reason` tells the user."""

    def __init__(self, code: str, reason):
        super().__init__(reason)
        self.code = code


@dataclass(frozen=True)
class ArchiveLimits:
    max_bytes: int    # all members together, inflated
    max_members: int  # entries of the central directory, nested archives included
    max_ratio: int    # inflated / compressed, for the archive and each larger member


# Nothing that inflates to less than this is held to the ratio (a few hundred kilobytes of
# repetitive XML may well shrink 200 times): neither a member nor the whole archive.
RATIO_FREE_BYTES = 1024 * 1024


def _too_big(limits: ArchiveLimits):
    return HostileFile("archive_too_big", _l(
        "Die Datei ist entpackt größer als %(mb)s MB und wird deshalb nicht angenommen. Bitte "
        "verkleinern Sie sie (z. B. Bilder komprimieren) und laden Sie sie erneut hoch.",
        mb=max(1, limits.max_bytes // (1024 * 1024))))


def _too_many(limits: ArchiveLimits):
    return HostileFile("archive_too_many_members", _l(
        "Die Datei besteht aus mehr als %(n)d Teilen und wird deshalb nicht angenommen. Bitte "
        "teilen Sie sie auf oder speichern Sie sie einfacher und laden Sie sie erneut hoch.",
        n=limits.max_members))


def _too_compressed():
    return HostileFile("archive_ratio", _l(
        "Die Datei ist ungewöhnlich stark komprimiert (sie würde beim Öffnen auf ein Vielfaches "
        "anwachsen) und wird deshalb nicht angenommen. Bitte speichern Sie sie neu und laden "
        "Sie sie erneut hoch."))


def _damaged(code: str = "archive_damaged"):
    return HostileFile(code, _l(
        "Die Datei ist beschädigt oder ihr Inhaltsverzeichnis stimmt nicht mit dem Inhalt "
        "überein. Bitte speichern Sie sie neu und laden Sie sie erneut hoch."))


def _macros(ext: str):
    return HostileFile("macros", _l(
        "Die Datei enthält Makros. Bitte speichern Sie sie ohne Makros (z. B. als .%(ext)s) und "
        "laden Sie sie erneut hoch.", ext=ext))


def _remote_template():
    return HostileFile("remote_template", _l(
        "Die Datei lädt beim Öffnen eine Vorlage aus dem Internet nach, die Makros enthalten "
        "kann. Bitte speichern Sie sie ohne diese Vorlage und laden Sie sie erneut hoch."))


# ---------------------------------------------------------------- what counts as a macro

# Content types of macro-enabled Office Open XML parts (.docm, .dotm, .xlsm, .xltm, .xlam,
# .xlsb, .pptm, .potm, .ppam, .ppsm) and of the VBA project itself; Excel 4.0 macro sheets.
_MACRO_CONTENT_TYPES = (
    b"macroenabled", b"vnd.ms-office.vbaproject", b"vnd.ms-excel.macrosheet",
    b"vnd.ms-excel.intlmacrosheet", b"vnd.ms-excel.addin", b"vnd.ms-word.vbadata",
    b"vnd.ms-excel.sheet.binary",
)
_MACRO_MEMBER_NAMES = {"vbaproject.bin", "vbaprojectsignature.bin", "vbadata.xml"}
_MACRO_FOLDERS = ("basic/", "scripts/", "xl/macrosheets/")
# An OLE compound file (an embedded object) that holds a VBA project names its stream so.
_VBA_STREAM = "_VBA_PROJECT".encode("utf-16-le")
# OpenDocument: a manifest entry for a Basic library or a script, an event bound to a macro.
_ODF_MACRO_MANIFEST = re.compile(rb'full-path="(?:Basic|Scripts)/', re.IGNORECASE)
_ODF_MACRO_CALL = re.compile(rb"script:event-listener|vnd\.sun\.star\.script:|macro:///",
                             re.IGNORECASE)
# Office Open XML: a document template fetched from elsewhere when the file is opened.
_REMOTE_TEMPLATE = re.compile(
    rb'<Relationship\b[^>]*(?:attachedTemplate[^>]*TargetMode="External"'
    rb'|TargetMode="External"[^>]*attachedTemplate)', re.IGNORECASE)

# At most this much of each member's inflated content is kept for the pattern search.
_KEEP_FOR_SEARCH = 4 * 1024 * 1024


def _is_macro_name(name: str) -> bool:
    lowered = name.replace("\\", "/").lower()
    base = lowered.rsplit("/", 1)[-1]
    return base in _MACRO_MEMBER_NAMES or lowered.startswith(_MACRO_FOLDERS)


def _look_for_macros(name: str, head: bytes, ext: str) -> None:
    lowered = name.lower()
    if lowered == "[content_types].xml":
        low = head.lower()
        if any(t in low for t in _MACRO_CONTENT_TYPES):
            raise _macros(ext)
    if lowered == "meta-inf/manifest.xml" and _ODF_MACRO_MANIFEST.search(head):
        raise _macros(ext)
    if lowered.endswith(".xml") and _ODF_MACRO_CALL.search(head):
        raise _macros(ext)
    if lowered.endswith(".rels") and _REMOTE_TEMPLATE.search(head):
        raise _remote_template()
    if _VBA_STREAM in head:  # any embedded object (ODF names them without an extension)
        raise _macros(ext)


# ---------------------------------------------------------------- ZIP archives

_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
_LOCAL_SIGNATURE = b"PK\x03\x04"


def is_zip(data: bytes) -> bool:
    return data[:4] == _LOCAL_SIGNATURE


@dataclass
class _Budget:
    limits: ArchiveLimits
    members: int = 0
    inflated: int = 0

    def count_members(self, n: int) -> None:
        self.members += n
        if self.members > self.limits.max_members:
            raise _too_many(self.limits)

    def spend(self, n: int) -> None:
        self.inflated += n
        if self.inflated > self.limits.max_bytes:
            raise _too_big(self.limits)


def check_archive(data: bytes, limits: ArchiveLimits, ext: str = "docx") -> None:
    """Refuse (HostileFile) a ZIP-based file that inflates too much, has too many members,
    lies about its sizes, overlaps itself or holds macros. `ext` is the extension the file was
    uploaded as (the refusal suggests saving it as that)."""
    _check_zip(data, _Budget(limits), ext, depth=1)


def _check_zip(data: bytes, budget: _Budget, ext: str, depth: int) -> None:
    limits = budget.limits
    try:
        zf = zipfile.ZipFile(BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError,
            NotImplementedError) as exc:
        raise _damaged() from exc
    with zf:
        members = zf.infolist()
        budget.count_members(len(members))
        declared = sum(m.file_size for m in members)
        if budget.inflated + declared > limits.max_bytes:
            raise _too_big(limits)
        if declared > RATIO_FREE_BYTES and declared > limits.max_ratio * max(len(data), 1):
            raise _too_compressed()
        for m in members:
            if _is_macro_name(m.filename):
                raise _macros(ext)
        previous_end = 0
        for m in sorted(members, key=lambda i: i.header_offset):
            header, start, end = _member_span(data, m)
            if header < previous_end:
                raise _damaged("archive_overlap")  # two entries share compressed bytes
            previous_end = end
            _inflate_member(memoryview(data)[start:end], m, budget, ext, depth)


def _member_span(data: bytes, m: zipfile.ZipInfo) -> tuple[int, int, int]:
    """Where the member's local header starts, and where its compressed data starts and ends;
    the local header must agree with the central directory."""
    offset = m.header_offset
    if offset < 0 or offset + _LOCAL_HEADER.size > len(data):
        raise _damaged()
    (signature, _version, flags, method, _time, _date, _crc, csize, usize, name_len,
     extra_len) = _LOCAL_HEADER.unpack_from(data, offset)
    if signature != _LOCAL_SIGNATURE or method != m.compress_type:
        raise _damaged()
    if not flags & 0x08 and csize != 0xFFFFFFFF and usize != 0xFFFFFFFF and (
            csize != m.compress_size or usize != m.file_size):
        raise _damaged("archive_lying_header")
    start = offset + _LOCAL_HEADER.size + name_len + extra_len
    end = start + m.compress_size
    if end > len(data):
        raise _damaged()
    return offset, start, end


def _inflate_member(raw: memoryview, m: zipfile.ZipInfo, budget: _Budget, ext: str,
                    depth: int) -> None:
    """Inflate one member from its raw bytes, never more than it declares (plus one byte)
    and never beyond the budget; look at what comes out."""
    if m.flag_bits & 0x01:
        raise _damaged("archive_encrypted")
    if m.compress_type == zipfile.ZIP_STORED:
        if m.compress_size != m.file_size:
            raise _damaged("archive_lying_header")
        chunks = (bytes(raw[i:i + CHUNK]) for i in range(0, len(raw), CHUNK))
        decompressor = None
    elif m.compress_type == zipfile.ZIP_DEFLATED:
        decompressor = zlib.decompressobj(-zlib.MAX_WBITS)
        chunks = None
    else:  # Office programs write stored and deflated members only
        raise _damaged("archive_method")

    head = bytearray()
    crc, produced = 0, 0
    nested = False  # the member is an archive itself: keep all of it to look inside

    def take(piece: bytes) -> None:
        nonlocal crc, produced, nested
        produced += len(piece)
        if produced > m.file_size:
            raise _damaged("archive_lying_header")  # inflates beyond what the header says
        budget.spend(len(piece))
        crc = zlib.crc32(piece, crc)
        if nested:
            head.extend(piece)
        elif len(head) < _KEEP_FOR_SEARCH:
            before = len(head)
            head.extend(piece[:_KEEP_FOR_SEARCH - before])
            if before < 4 <= len(head) and depth < MAX_DEPTH and is_zip(bytes(head[:4])):
                nested = True  # from now on keep everything (the budget bounds it)
                head.extend(piece[_KEEP_FOR_SEARCH - before:])

    try:
        if decompressor is None:
            for piece in chunks or ():
                take(piece)
        else:
            for i in range(0, len(raw), CHUNK):
                pending = bytes(raw[i:i + CHUNK])
                while pending and not decompressor.eof:
                    # never more than one byte past what the member may still produce
                    room = max(m.file_size - produced, 0) + 1
                    take(decompressor.decompress(pending, min(CHUNK, room)))
                    pending = decompressor.unconsumed_tail
            while not decompressor.eof:
                piece = decompressor.decompress(b"", CHUNK)
                if not piece:
                    break
                take(piece)
            if not decompressor.eof:
                raise _damaged()  # the deflate stream ends beyond the member's bytes
    except zlib.error as exc:
        raise _damaged() from exc
    if produced != m.file_size or crc != m.CRC:
        raise _damaged("archive_lying_header")
    if produced > RATIO_FREE_BYTES and produced > budget.limits.max_ratio * max(
            m.compress_size, 1):
        raise _too_compressed()
    content = bytes(head)
    _look_for_macros(m.filename, content, ext)
    if nested:
        _check_zip(content, budget, ext, depth + 1)


# ---------------------------------------------------------------- PDF

JAVASCRIPT, EMBEDDED, LAUNCH, UNCHECKED = "javascript", "embedded_files", "launch", "unchecked"
PDF_FLAGS = (JAVASCRIPT, EMBEDDED, LAUNCH, UNCHECKED)

_NAMES = {
    b"JavaScript": JAVASCRIPT, b"JS": JAVASCRIPT,
    b"EmbeddedFile": EMBEDDED, b"EmbeddedFiles": EMBEDDED, b"FileAttachment": EMBEDDED,
    b"RichMedia": EMBEDDED,
    b"Launch": LAUNCH,
}
# A PDF name: a slash and regular characters (#xx escapes decoded below).
_NAME = re.compile(rb"/([^\x00\t\n\x0c\r ()<>\[\]{}/%]+)")
_HEX_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_STREAM = re.compile(rb"stream\r?\n")
_ENDSTREAM = b"endstream"


def _names_in(data: bytes) -> set[str]:
    found = set()
    for match in _NAME.finditer(data):
        name = match.group(1)
        if b"#" in name:
            name = _HEX_ESCAPE.sub(lambda h: bytes([int(h.group(1), 16)]), name)
        flag = _NAMES.get(name)
        if flag:
            found.add(flag)
    return found


def pdf_flags(data: bytes, budget: int) -> set[str]:
    """What active content a PDF holds (a set of PDF_FLAGS), looking at the raw bytes and at
    every stream that inflates, never inflating more than `budget` bytes in all."""
    flags = _names_in(data)
    if b"/Encrypt" in data:  # strings and streams are encrypted: not everything can be read
        flags.add(UNCHECKED)
    left = budget
    position = 0
    while True:
        match = _STREAM.search(data, position)
        if match is None:
            break
        start = match.end()
        end = data.find(_ENDSTREAM, start)
        if end < 0:
            end = len(data)
        position = end + len(_ENDSTREAM)
        raw = data[start:end]
        if not raw[:1] or raw[0] & 0x0F != 8:  # not a zlib stream (FlateDecode) at all
            continue
        decompressor = zlib.decompressobj()
        try:
            inflated = decompressor.decompress(raw, left + 1)
        except zlib.error:
            continue  # not Flate after all, or damaged: a reader cannot show it either
        if len(inflated) > left:
            flags.add(UNCHECKED)
            break
        left -= len(inflated)
        flags |= _names_in(inflated)
    return flags
