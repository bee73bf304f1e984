"""Real documents with metadata that name a person, made in the test (the anonymised round's
stripping of metadata: tests/unit/test_anonymise.py, tests/integration/test_anonymised_round.py).
"""
from __future__ import annotations

import io
import zipfile

from fpdf import FPDF
from PIL import Image, PngImagePlugin

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/{main}" ContentType="{type}"/>'
    '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-'
    'package.core-properties+xml"/>'
    '<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.extended-properties+xml"/></Types>')
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="{main}"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/'
    'relationships/metadata/core-properties" Target="docProps/core.xml"/>'
    '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/extended-properties" Target="docProps/app.xml"/></Relationships>')
_CORE = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
    'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/">'
    '<dc:creator>{author}</dc:creator><cp:lastModifiedBy>{author}</cp:lastModifiedBy>'
    '</cp:coreProperties>')
_APP = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
    'extended-properties"><Company>{company}</Company></Properties>')
DOCX_MAIN = ("word/document.xml",
             "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
             '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w='
             '"http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r>'
             '<w:t>Konzept</w:t></w:r></w:p></w:body></w:document>')
XLSX_MAIN = ("xl/workbook.xml",
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
             '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns='
             '"http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets/></workbook>')


def pdf(author: str, company: str = "") -> bytes:
    doc = FPDF()
    doc.add_page()
    doc.set_font("helvetica", size=12)
    doc.cell(text="Konzept des Piloten")
    doc.set_author(author)
    doc.set_creator(company or author)
    doc.set_title("Konzept von " + author)
    doc.set_xmp_metadata(f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf='
                         f'"http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
                         f'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>{author}'
                         f'</dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>')
    return bytes(doc.output())


def _ooxml(main: tuple[str, str, str], author: str, company: str) -> bytes:
    path, kind, body = main
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES.format(main=path, type=kind))
        z.writestr("_rels/.rels", _RELS.format(main=path))
        z.writestr(path, body)
        z.writestr("docProps/core.xml", _CORE.format(author=author))
        z.writestr("docProps/app.xml", _APP.format(company=company))
    return out.getvalue()


def docx(author: str, company: str = "") -> bytes:
    return _ooxml(DOCX_MAIN, author, company)


def xlsx(author: str, company: str = "") -> bytes:
    return _ooxml(XLSX_MAIN, author, company)


def odt(author: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text",
                   compress_type=zipfile.ZIP_STORED)
        z.writestr("META-INF/manifest.xml",
                   '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
                   '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry '
                   'manifest:full-path="/" manifest:media-type="application/vnd.oasis.'
                   'opendocument.text"/></manifest:manifest>')
        z.writestr("content.xml",
                   '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
                   'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0">'
                   '<office:body><office:text/></office:body></office:document-content>')
        z.writestr("meta.xml",
                   '<?xml version="1.0" encoding="UTF-8"?><office:document-meta xmlns:office='
                   '"urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:meta="urn:oasis:'
                   'names:tc:opendocument:xmlns:meta:1.0" xmlns:dc="http://purl.org/dc/'
                   f'elements/1.1/"><office:meta><dc:creator>{author}</dc:creator>'
                   f'<meta:initial-creator>{author}</meta:initial-creator></office:meta>'
                   '</office:document-meta>')
    return out.getvalue()


def png(author: str) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", author)
    info.add_itxt("Description", "Foto von " + author)
    exif = Image.Exif()
    exif[0x013B] = author  # Artist
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, "PNG", pnginfo=info, exif=exif)
    return out.getvalue()


def jpeg(author: str) -> bytes:
    exif = Image.Exif()
    exif[0x013B] = author  # Artist
    exif[0x8298] = "(c) " + author  # Copyright
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (30, 200, 30)).save(out, "JPEG", exif=exif,
                                                  comment=("Foto: " + author).encode())
    return out.getvalue()
