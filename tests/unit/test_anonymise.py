"""The anonymised first round's stripping of metadata and blacking out of names
(domain/anonymise.py): real files of every allowed type, made with metadata that name a
person, come out without it and still open."""
from __future__ import annotations

import io
import zipfile

import pytest
from PIL import Image
from pypdf import PdfReader

from innolab.domain import anonymise, uploads
from innolab.models import Membership, Organisation, Proposal, User
from tests import documents

AUTHOR = "Hildegard Quallmeier"
COMPANY = "Quallenwerk Analytik GmbH"


def test_a_pdf_loses_its_document_information_and_xmp():
    original = documents.pdf(AUTHOR, COMPANY)
    assert AUTHOR.encode() in original  # the test's file does name her
    stripped, complete = anonymise.strip(original, "konzept.pdf")
    assert complete
    assert AUTHOR.encode() not in stripped and COMPANY.encode() not in stripped
    reader = PdfReader(io.BytesIO(stripped))
    assert not reader.metadata
    assert "/Metadata" not in reader.trailer["/Root"]
    assert len(reader.pages) == 1


@pytest.mark.parametrize("kind", ["docx", "xlsx"])
def test_an_office_file_loses_its_document_properties(kind):
    original = getattr(documents, kind)(AUTHOR, COMPANY)
    stripped, complete = anonymise.strip(original, f"konzept.{kind}")
    assert complete
    assert AUTHOR.encode() not in stripped
    with zipfile.ZipFile(io.BytesIO(stripped)) as z:
        core, app = z.read("docProps/core.xml"), z.read("docProps/app.xml")
        assert AUTHOR.encode() not in core and COMPANY.encode() not in app
        assert z.testzip() is None
    assert uploads.sniff(stripped) == uploads.ALLOWED[kind]  # still the same kind of file


def test_an_odt_loses_its_meta_and_keeps_its_mimetype_first_and_stored():
    stripped, complete = anonymise.strip(documents.odt(AUTHOR), "konzept.odt")
    assert complete
    with zipfile.ZipFile(io.BytesIO(stripped)) as z:
        assert AUTHOR.encode() not in z.read("meta.xml")
        first = z.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
    assert uploads.sniff(stripped) == uploads.ALLOWED["odt"]


def test_a_docx_with_comments_is_not_stripped_completely():
    buffer = io.BytesIO(documents.docx(AUTHOR))
    with zipfile.ZipFile(buffer, "a") as z:
        z.writestr("word/comments.xml", f'<w:comments><w:comment w:author="{AUTHOR}"/>'
                                        "</w:comments>")
    assert anonymise.strip(buffer.getvalue(), "konzept.docx")[1] is False


@pytest.mark.parametrize("kind", ["png", "jpeg"])
def test_an_image_loses_exif_text_and_comments(kind):
    original = getattr(documents, kind)(AUTHOR)
    assert AUTHOR.encode() in original
    stripped, complete = anonymise.strip(original, f"foto.{'jpg' if kind == 'jpeg' else kind}")
    assert complete
    assert AUTHOR.encode() not in stripped
    with Image.open(io.BytesIO(stripped)) as img:
        assert img.size == (8, 8)
        assert not img.getexif()
        assert not any(AUTHOR in str(v) for v in img.info.values())


def test_a_file_that_cannot_be_read_is_not_stripped():
    assert anonymise.strip(b"%PDF-1.4 kaputt", "x.pdf") == (b"%PDF-1.4 kaputt", False)
    assert anonymise.strip(b"irgendwas", "x.txt")[1] is False


def _proposal() -> Proposal:
    hilde = User(id=1, name=AUTHOR, email="hilde@quallenwerk.example")
    torsten = User(id=2, name="Torsten Brandhuber", email="t.brandhuber@post.example")
    org = Organisation(id=1, name=COMPANY, slug="q", kind="sme",
                       website="https://www.quallenwerk.example/start")
    org.memberships.extend([Membership(user=hilde, role="owner"),
                            Membership(user=torsten, role="member")])
    return Proposal(id=1, organisation=org, title="Pilot", contact_name="Frieda Kontaktlos",
                    contact_email="frieda@anders.example", contact_phone="0381 123456")


def test_the_texts_lose_the_names_of_the_organisation_and_its_people():
    text = ("Die QUALLENWERK Analytik GmbH (Quallenwerk) mit Hildegard Quallmeier, "
            "Herrn Brandhuber und Frieda Kontaktlos, erreichbar unter 0381 123456, "
            "hilde@quallenwerk.example, jemand@sonstwo.example und www.quallenwerk.example. "
            "Quallenwerkstatt bleibt.")
    out = anonymise.redact(_proposal(), text)
    for name in ("QUALLENWERK", "Quallenwerk Analytik", "Hildegard", "Quallmeier",
                 "Brandhuber", "Frieda", "Kontaktlos", "123456", "@"):
        assert name.casefold() not in out.casefold().replace("quallenwerkstatt", ""), name
    assert "Quallenwerkstatt bleibt." in out  # whole words only
    assert anonymise.REDACTED in out


def test_the_view_has_no_organisation_no_contact_and_redacted_texts():
    p = _proposal()
    p.problem = "Quallenwerk kennt das Problem."
    shown = anonymise.view(p)
    assert shown.organisation is None and shown.contact_name is None
    assert shown.contact_email is None and shown.created_by is None
    assert shown.problem == "[geschwärzt] kennt das Problem."
    assert shown.id == 1 and shown.anonymised is True
