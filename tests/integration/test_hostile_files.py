"""Files from outside are hostile: Office archives that inflate too much, have too many members
or lie about their sizes are refused, and so are files with macros; PDFs with JavaScript,
embedded files or launch actions are stored, but staff are warned wherever the file is listed.
Every refusal says why and leaves nothing stored; it is a security event in the audit log."""
from __future__ import annotations

import functools
import io
import os
import struct
import zipfile
import zlib

import pytest
from flask import url_for
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from innolab.domain import filecheck, uploads
from innolab.extensions import db
from innolab.models import Attachment, AuditEvent, Document, DocumentVersion, Role
from tests import factories as f

MB = 1024 * 1024

# ---------------------------------------------------------------- building the files

CONTENT_TYPES = {
    "docx": ("word/document.xml", "application/vnd.openxmlformats-officedocument."
             "wordprocessingml.document.main+xml"),
    "xlsx": ("xl/workbook.xml", "application/vnd.openxmlformats-officedocument."
             "spreadsheetml.sheet.main+xml"),
}
ODT_MIME = "application/vnd.oasis.opendocument.text"


def _types_xml(main_part: str, content_type: str, extra: str = "") -> str:
    return ('<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/{main_part}" ContentType="{content_type}"/>{extra}</Types>')


def ooxml(kind: str, extra: dict[str, bytes | str] | None = None,
          content_type: str | None = None) -> bytes:
    main, mime = CONTENT_TYPES[kind]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _types_xml(main, content_type or mime))
        zf.writestr("_rels/.rels", "<Relationships/>")
        zf.writestr(main, "<document><body>Bedarf der Behörde</body></document>")
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


def odt(extra: dict[str, bytes | str] | None = None, manifest: str = "",
        content: str = "<office:document-content><office:scripts/></office:document-content>"
        ) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("mimetype", ODT_MIME, compress_type=zipfile.ZIP_STORED)
        zf.writestr("content.xml", content)
        zf.writestr("META-INF/manifest.xml", (
            '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:'
            'manifest:1.0"><manifest:file-entry manifest:full-path="/" manifest:media-type="'
            f'{ODT_MIME}"/><manifest:file-entry manifest:full-path="content.xml" '
            f'manifest:media-type="text/xml"/>{manifest}</manifest:manifest>'))
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


def base_members(kind: str) -> list[tuple[str, bytes]]:
    """The parts every file of `kind` has, to put a bomb next to."""
    if kind == "odt":
        return [("mimetype", ODT_MIME.encode()), ("content.xml", b"<office:document-content/>")]
    main, mime = CONTENT_TYPES[kind]
    return [("[Content_Types].xml", _types_xml(main, mime).encode()),
            (main, b"<document/>")]


def raw_zip(members: list[tuple[str, int, bytes, int, int]],
            twins: tuple[tuple[str, int], ...] = ()) -> bytes:
    """A ZIP written by hand from (name, method, compressed bytes, crc, size it declares), so
    that a test can say anything in its headers. `twins`: more directory entries (name, index
    of a member) pointing at the bytes of that member."""
    out, central, offsets = bytearray(), bytearray(), []

    def entry(name: str, method: int, data: bytes, crc: int, size: int, offset: int) -> bytes:
        encoded = name.encode()
        return struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, method, 0, 0x21,
                           crc, len(data), size, len(encoded), 0, 0, 0, 0, 0,
                           offset) + encoded

    for name, method, data, crc, size in members:
        encoded = name.encode()
        offsets.append(len(out))
        central += entry(name, method, data, crc, size, len(out))
        out += struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, method, 0, 0x21, crc,
                           len(data), size, len(encoded), 0) + encoded + data
    for name, index in twins:
        central += entry(name, *members[index][1:], offsets[index])
    count = len(members) + len(twins)
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, count, count, len(central),
                      len(out), 0)
    return bytes(out + central + end)


@functools.cache
def zeros_deflated(size: int) -> tuple[bytes, int]:
    """`size` zero bytes (whole megabytes) as a raw deflate stream, and their CRC. After a full
    flush the compressor starts afresh, so one compressed megabyte, repeated, is the stream."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    chunk, crc = bytes(MB), 0
    block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    for _ in range(size // MB):
        crc = zlib.crc32(chunk, crc)
    return block * (size // MB) + compressor.flush(), crc


def _stored_member(name: str, data: bytes) -> tuple[str, int, bytes, int, int]:
    return (name, zipfile.ZIP_STORED, data, zlib.crc32(data), len(data))


def bomb(kind: str, inflated: int = 700 * MB, declared: int | None = None) -> bytes:
    """A file of `kind` with a member of `inflated` zero bytes (700 MB: a few hundred KB
    compressed); `declared` is the size its headers claim (default: the truth)."""
    raw, crc = zeros_deflated(inflated)
    return raw_zip([*(_stored_member(n, d) for n, d in base_members(kind)),
                    ("data/fill.xml", zipfile.ZIP_DEFLATED, raw, crc,
                     inflated if declared is None else declared)])


def too_many_members(kind: str, n: int = 1001) -> bytes:
    return raw_zip([*(_stored_member(n_, d) for n_, d in base_members(kind)),
                    *(_stored_member(f"data/part{i}.xml", b"<p/>") for i in range(n))])


def overlapping(kind: str) -> bytes:
    """Two directory entries pointing at the same compressed bytes (the trick of bombs that
    inflate the same data many times over)."""
    members = [*(_stored_member(n, d) for n, d in base_members(kind)),
               _stored_member("data/a.xml", b"<a>" + b"x" * 1000 + b"</a>")]
    return raw_zip(members, twins=(("data/b.xml", len(members) - 1),))


PDF_CLEAN = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n" \
            b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n" \
            b"trailer << /Root 1 0 R >>\n%%EOF\n"


def pdf(*objects: bytes) -> bytes:
    body = b"".join(b"%d 0 obj %s endobj\n" % (i + 3, o) for i, o in enumerate(objects))
    return (b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R /OpenAction 3 0 R >> endobj\n"
            b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n" + body +
            b"trailer << /Root 1 0 R >>\n%%EOF\n")


def flate_stream(dictionary: bytes, content: bytes) -> bytes:
    packed = zlib.compress(content)
    return (b"<< " + dictionary + b" /Filter /FlateDecode /Length %d >>\nstream\n" % len(packed)
            + packed + b"\nendstream")


PDF_JAVASCRIPT = pdf(b"<< /S /JavaScript /JS (app.alert\\('Hallo'\\)) >>")
PDF_CASES = [
    ("javascript", PDF_JAVASCRIPT, {"javascript"}),
    ("javascript-hex-escaped", pdf(b"<< /S /J#61vaScript /J#53 (x) >>"), {"javascript"}),
    ("javascript-in-object-stream",
     pdf(flate_stream(b"/Type /ObjStm /N 1 /First 4",
                      b"9 0 << /S /JavaScript /JS (app.launchURL\\('x'\\)) >>")),
     {"javascript"}),
    ("embedded-file",
     pdf(b"<< /Type /Catalog /Names << /EmbeddedFiles << /Names [(a.exe) 4 0 R] >> >> >>",
         flate_stream(b"/Type /EmbeddedFile", b"MZ\x90\x00 ein Programm")),
     {"embedded_files"}),
    ("launch", pdf(b"<< /S /Launch /F (cmd.exe) >>"), {"launch"}),
    ("clean", PDF_CLEAN, set()),
    ("open-action-without-script", pdf(b"[2 0 R /Fit]"), set()),
    ("encrypted", pdf(b"<< /Filter /Standard /V 2 >>").replace(b"trailer <<",
                                                               b"trailer << /Encrypt 3 0 R"),
     {"unchecked"}),
]

# ---------------------------------------------------------------- helpers


def _count(model=Attachment) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def _files(app) -> list[str]:
    return sorted(os.listdir(app.config["UPLOAD_FOLDER"]))


def _security_events(action: str) -> list[AuditEvent]:
    db.session.rollback()  # read what the requests committed
    return list(db.session.execute(select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.id)).scalars())


@pytest.fixture
def member(app_ctx, login):
    u = f.user(name="Erika Partnerin")
    org = f.organisation(owner=u)
    login(u)
    return u, org


def _upload(client, p, name, data, **extra):
    return client.post(f"/proposals/{p.id}/attachments",
                       data={"file": (io.BytesIO(data), name), **extra},
                       content_type="multipart/form-data")


def _refused(app, client, member, name, data):
    user, org = member
    p = f.proposal(org)
    before = _files(app)
    resp = _upload(client, p, name, data)
    assert resp.status_code == 422
    assert _count() == 0 and _files(app) == before
    return resp.get_data(as_text=True), user, p


KINDS = ["docx", "xlsx", "odt"]

# ---------------------------------------------------------------- archive bombs


@pytest.mark.parametrize("kind", KINDS)
def test_a_member_inflating_to_700_mb_is_refused_and_audited(app, client, member, kind):
    data = bomb(kind)
    assert len(data) < app.config["UPLOAD_MAX_BYTES"]  # small enough to pass the size limit
    html, user, p = _refused(app, client, member, f"tabelle.{kind}", data)
    assert "entpackt größer als 100 MB" in html
    (event,) = _security_events("security.upload_refused")
    assert event.actor_id == user.id
    assert event.details["code"] == "archive_too_big"
    assert event.details["filename"] == f"tabelle.{kind}"
    assert event.details["proposal_id"] == p.id


@pytest.mark.parametrize("kind", KINDS)
def test_a_member_lying_about_its_size_is_refused(app, client, member, kind):
    # the headers say 1 KB; the deflate stream goes on to 700 MB
    html, _, _ = _refused(app, client, member, f"bericht.{kind}",
                          bomb(kind, declared=1024))
    assert "beschädigt oder ihr Inhaltsverzeichnis stimmt nicht" in html
    (event,) = _security_events("security.upload_refused")
    assert event.details["code"] == "archive_lying_header"


@pytest.mark.parametrize("kind", KINDS)
def test_too_many_members_are_refused(app, client, member, kind):
    html, _, _ = _refused(app, client, member, f"viele.{kind}", too_many_members(kind))
    assert "mehr als 1000 Teilen" in html


@pytest.mark.parametrize("kind", KINDS)
def test_an_unusual_compression_ratio_is_refused(app, client, member, kind):
    # 50 MB of zeros: below the size limit, but a thousand times its compressed size
    html, _, _ = _refused(app, client, member, f"dicht.{kind}", bomb(kind, 50 * MB))
    assert "ungewöhnlich stark komprimiert" in html


def test_members_sharing_compressed_bytes_are_refused(app, client, member):
    html, _, _ = _refused(app, client, member, "doppelt.docx", overlapping("docx"))
    assert "beschädigt" in html
    (event,) = _security_events("security.upload_refused")
    assert event.details["code"] == "archive_overlap"


def test_the_limits_are_settings(app, client, member, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_ARCHIVE_MAX_MEMBERS", 3)
    html, _, _ = _refused(app, client, member, "klein.docx", ooxml("docx", {
        "word/styles.xml": "<styles/>", "docProps/core.xml": "<core/>"}))
    assert "mehr als 3 Teilen" in html
    monkeypatch.setitem(app.config, "UPLOAD_ARCHIVE_MAX_MEMBERS", 1000)
    monkeypatch.setitem(app.config, "UPLOAD_ARCHIVE_MAX_BYTES", 1 * MB)
    html, _, _ = _refused(app, client, member, "gross.xlsx", ooxml("xlsx", {
        "xl/worksheets/sheet1.xml": os.urandom(MB)}))
    assert "entpackt größer als 1 MB" in html


# ---------------------------------------------------------------- macros

MACRO_TEXT = "Die Datei enthält Makros. Bitte speichern Sie sie ohne Makros (z. B. als .{ext}) " \
             "und laden Sie sie erneut hoch."
MACRO_CASES = [
    ("xlsx-with-vba-project", "kosten.xlsx", ooxml("xlsx", {"xl/vbaProject.bin": b"\xd0\xcf"})),
    ("docx-with-vba-project", "brief.docx", ooxml("docx", {"word/vbaProject.bin": b"\xd0\xcf"})),
    ("vba-project-anywhere", "brief.docx", ooxml("docx", {"customXml/VBAPROJECT.BIN": b"x"})),
    ("xlsm-renamed", "kosten.xlsx", ooxml("xlsx", content_type=(
        "application/vnd.ms-excel.sheet.macroEnabled.main+xml"))),
    ("docm-renamed", "brief.docx", ooxml("docx", content_type=(
        "application/vnd.ms-word.document.macroEnabled.main+xml"))),
    ("excel-4-macro-sheet", "kosten.xlsx", ooxml("xlsx", {
        "xl/macrosheets/sheet1.xml": "<xm:macrosheet/>"})),
    ("ole-object-with-vba", "brief.docx", ooxml("docx", {
        "word/embeddings/oleObject1.bin": b"\xd0\xcf\x11\xe0" + "_VBA_PROJECT".encode(
            "utf-16-le")})),
    ("embedded-xlsm-inside-docx", "brief.docx", ooxml("docx", {
        "word/embeddings/Tabelle.xlsx": ooxml("xlsx", {"xl/vbaProject.bin": b"x"})})),
    ("odt-with-basic", "konzept.odt", odt({"Basic/Standard/Module1.xml": "<script:module/>",
                                          "Basic/script-lc.xml": "<library:libraries/>"})),
    ("odt-with-scripts", "konzept.odt", odt({"Scripts/python/start.py": "import os"})),
    ("odt-manifest-names-a-script", "konzept.odt", odt(manifest=(
        '<manifest:file-entry manifest:full-path="Scripts/javascript/" '
        'manifest:media-type="application/binary"/>'))),
    ("odt-event-calls-a-macro", "konzept.odt", odt(content=(
        '<office:document-content><office:scripts><office:event-listeners>'
        '<script:event-listener script:language="ooo:script" script:event-name="dom:load" '
        'xlink:href="vnd.sun.star.script:Standard.Module1.Main?language=Basic&amp;'
        'location=application"/></office:event-listeners></office:scripts>'
        '</office:document-content>'))),
]


@pytest.mark.parametrize("name,data", [c[1:] for c in MACRO_CASES],
                         ids=[c[0] for c in MACRO_CASES])
def test_files_with_macros_are_refused_saying_why(app, client, member, name, data):
    html, user, _ = _refused(app, client, member, name, data)
    assert MACRO_TEXT.format(ext=name.rsplit(".", 1)[1]) in html
    (event,) = _security_events("security.upload_refused")
    assert event.details["code"] == "macros" and event.actor_id == user.id


def test_a_template_fetched_from_the_internet_is_refused(app, client, member):
    rels = ('<Relationships><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/attachedTemplate" Target="https://evil.example/'
            't.dotm" TargetMode="External"/></Relationships>')
    html, _, _ = _refused(app, client, member, "brief.docx",
                          ooxml("docx", {"word/_rels/settings.xml.rels": rels}))
    assert "Vorlage aus dem Internet" in html


@pytest.mark.parametrize("name,data,mime", [
    ("beschreibung.docx", ooxml("docx", {"word/media/bild.png": os.urandom(200_000),
                                         "docProps/app.xml": "<Properties/>"}), uploads.DOCX),
    ("kostenplan.xlsx", ooxml("xlsx", {"xl/worksheets/sheet1.xml": "<row>1</row>" * 20_000}),
     uploads.XLSX),
    ("konzept.odt", odt(), uploads.ODT),
], ids=["docx", "xlsx", "odt"])
def test_clean_office_files_are_still_accepted(app, client, member, name, data, mime):
    _, org = member
    p = f.proposal(org)
    resp = _upload(client, p, name, data)
    assert resp.status_code == 303
    a = db.session.execute(select(Attachment)).scalar_one()
    assert a.content_type == mime and a.content_flags is None
    with open(os.path.join(app.config["UPLOAD_FOLDER"], a.stored_name), "rb") as stored:
        assert stored.read() == data
    assert _security_events("security.upload_refused") == []


def test_the_refusal_comes_from_the_domain_for_every_caller(app_ctx):
    # the document versions of the workspace use uploads.save as well
    with pytest.raises(uploads.UploadRefused) as exc:
        uploads.save(FileStorage(io.BytesIO(ooxml("xlsx", {"xl/vbaProject.bin": b"x"})),
                                 filename="kosten.xlsx"))
    assert "enthält Makros" in str(exc.value.reason)


# ---------------------------------------------------------------- PDFs: flagged, not refused


@pytest.mark.parametrize("data,flags", [c[1:] for c in PDF_CASES], ids=[c[0] for c in PDF_CASES])
def test_pdf_active_content_is_found(data, flags):
    assert filecheck.pdf_flags(data, budget=10 * MB) == flags


def test_pdf_streams_are_inflated_within_a_budget():
    data = pdf(flate_stream(b"/Type /ObjStm /N 1 /First 4", b" " * (2 * MB) + b"/JS (x)"))
    assert filecheck.pdf_flags(data, budget=1 * MB) == {"unchecked"}
    assert filecheck.pdf_flags(data, budget=3 * MB) == {"javascript"}


def _staff_page(client, p):
    return client.get(f"/staff/review/proposals/{p.id}").get_data(as_text=True)


WARNING = "Achtung: Diese PDF-Datei enthält JavaScript"


def test_pdf_with_javascript_is_stored_flagged_and_staff_are_warned(app, client, login,
                                                                     member):
    user, org = member
    p = f.proposal(org)
    resp = _upload(client, p, "antrag.pdf", PDF_JAVASCRIPT)
    assert resp.status_code == 303
    a = db.session.execute(select(Attachment)).scalar_one()
    assert a.content_flags == "javascript"
    upload = db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "attachment.upload")).scalar_one()
    assert upload.details["flags"] == "javascript"
    # the partner's own page lists the file without the staff warning
    partner_page = client.get(f"/proposals/{p.id}").get_data(as_text=True)
    assert "antrag.pdf" in partner_page and "Achtung" not in partner_page

    p.status = "submitted"
    db.session.commit()
    login(f.staff(Role.COORDINATOR.value))
    page = _staff_page(client, p)
    assert "antrag.pdf" in page and WARNING in page


def test_pdf_with_embedded_file_is_flagged_for_staff(app, client, login, member):
    _, org = member
    p = f.proposal(org, status="submitted")
    login(f.staff(Role.COORDINATOR.value))
    _upload(client, p, "anlage.pdf", PDF_CASES[3][1], next=f"/staff/review/proposals/{p.id}")
    assert db.session.execute(select(Attachment)).scalar_one().content_flags == "embedded_files"
    assert "Achtung: Diese PDF-Datei enthält eingebettete Dateien" in _staff_page(client, p)


def test_clean_pdf_shows_no_warning(app, client, login, member):
    _, org = member
    p = f.proposal(org, status="submitted")
    login(f.staff(Role.COORDINATOR.value))
    _upload(client, p, "sauber.pdf", PDF_CLEAN, next=f"/staff/review/proposals/{p.id}")
    page = _staff_page(client, p)
    assert "sauber.pdf" in page and "Achtung" not in page


@pytest.fixture
def pilot(app_ctx):
    owner = f.user(name="Paula Partner")
    org = f.organisation(owner=owner)
    coordinator = f.staff(Role.COORDINATOR.value)
    p = f.proposal(org=org, status="running", title="Digitale Poststelle")
    f.goal(p)
    db.session.commit()
    return owner, coordinator, p


def test_workspace_documents_and_messages_warn_staff_only(app, client, login, pilot):
    owner, coordinator, p = pilot
    login(owner)
    resp = client.post(url_for("pilots.documents", proposal_id=p.id), data={
        "document-title": "Formular", "document-file": (io.BytesIO(PDF_JAVASCRIPT), "form.pdf"),
    }, content_type="multipart/form-data")
    assert resp.status_code == 303
    resp = client.post(url_for("pilots.messages", proposal_id=p.id), data={
        "message-body": "Anbei das Formular",
        "message-files": [(io.BytesIO(PDF_JAVASCRIPT), "anhang.pdf")],
    }, content_type="multipart/form-data")
    assert resp.status_code == 303
    version = db.session.execute(select(DocumentVersion)).scalar_one()
    assert version.content_flags == "javascript"
    assert db.session.execute(select(Attachment)).scalar_one().content_flags == "javascript"
    doc = db.session.execute(select(Document)).scalar_one()
    workspace = url_for("pilots.workspace", proposal_id=p.id)
    document = url_for("pilots.document", proposal_id=p.id, document_id=doc.id)

    for page in (client.get(workspace).text, client.get(document).text):
        assert "form.pdf" in page and "Achtung" not in page
    login(coordinator)
    page = client.get(workspace).text
    assert page.count(WARNING) == 2  # the current version and the message's file
    assert WARNING in client.get(document).text
    fragment = client.get(url_for("pilots.messages", proposal_id=p.id),
                          headers={"HX-Request": "true"}).text
    assert "anhang.pdf" in fragment and WARNING in fragment


def test_refused_document_is_audited_with_its_uploader(app, client, login, pilot):
    owner, _, p = pilot
    login(owner)
    resp = client.post(url_for("pilots.documents", proposal_id=p.id), data={
        "document-title": "Kosten",
        "document-file": (io.BytesIO(ooxml("xlsx", {"xl/vbaProject.bin": b"x"})), "k.xlsx"),
    }, content_type="multipart/form-data")
    assert resp.status_code == 422 and "enthält Makros" in resp.text
    assert 'value="Kosten"' in resp.text  # the form keeps what was typed
    assert _count(Document) == 0 and _count(DocumentVersion) == 0
    (event,) = _security_events("security.upload_refused")
    assert event.actor_id == owner.id and event.details["proposal_id"] == p.id
