"""The pages "Leichte Sprache" and "Gebärdensprache": linked from the header of every page,
and the DGS video an admin uploads (shown with its transcript)."""
from __future__ import annotations

import io
import os

import pytest
from sqlalchemy import select

from innolab.domain import uploads
from innolab.extensions import db
from innolab.models import AuditEvent, SignLanguageVideo
from tests import factories as f

pytestmark = pytest.mark.usefixtures("app_ctx")

MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 2048
WEBM = bytes.fromhex("1a45dfa3") + b"\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\x82\x84webm" + (
    b"\x00" * 2048)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
TRANSCRIPT = "Hallo. Das ist das **InnoLab**. Wir suchen neue Ideen für die Ämter."


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def admin(login):
    user = f.staff("admin", email="ada@zdmv.example")
    login(user)
    return user


def _upload(client, data, name="dgs.mp4", transcript=TRANSCRIPT):
    form = {"transcript": transcript}
    if data is not None:
        form["video"] = (io.BytesIO(data), name)
    return client.post("/admin/sign-language", data=form, content_type="multipart/form-data")


def _files(app):
    return set(os.listdir(app.config["UPLOAD_FOLDER"]))


# ---------------------------------------------------------------- the pages


def test_easy_read_page_explains_the_innolab_in_short_sentences(client):
    response = client.get("/leichte-sprache")
    body = text(response)
    assert response.status_code == 200 and body.count("<h1") == 1
    for heading in ("Was ist das InnoLab?", "Was gibt es auf dieser Internet·seite?",
                    "Wie können Sie mitmachen?", "Barriere·freiheit", "So erreichen Sie uns"):
        assert heading in body
    assert 'href="/pages/barrierefreiheit"' in body
    assert 'href="/barrierefreiheit/rueckmeldung"' in body
    assert "poststelle@zd.mv-regierung.de" in body and "0385 588 57777" in body
    assert 'class="stack easy-read"' in body  # large type


def test_easy_read_in_english_is_plain_english(client):
    client.set_cookie("lang", "en")
    body = text(client.get("/leichte-sprache"))
    assert "What is the InnoLab?" in body and "How can you take part?" in body


def test_sign_language_page_without_video_says_it_is_being_made(client):
    body = text(client.get("/gebaerdensprache"))
    assert body.count("<h1") == 1
    assert "Das Video in Gebärdensprache wird gerade erstellt." in body
    assert 'href="mailto:poststelle@zd.mv-regierung.de"' in body and "0385 588 57777" in body
    assert "<video" not in body
    assert "Was ist das InnoLab?" in body  # the same content as the easy-read page
    assert client.get("/gebaerdensprache/video").status_code == 404


@pytest.mark.parametrize("path", ["/", "/challenges", "/pilots", "/results", "/login",
                                  "/pages/impressum", "/leichte-sprache", "/open-data",
                                  "/barrierefreiheit/rueckmeldung", "/nicht-da"])
def test_header_links_to_easy_read_and_sign_language_on_every_page(client, path):
    body = text(client.get(path))
    header = body.split('<main id="main"')[0]
    assert 'id="header-easy-read" href="/leichte-sprache"' in header
    assert 'id="header-sign-language" href="/gebaerdensprache"' in header
    # the pictograms' addresses carry their fingerprint (cached for a year)
    assert 'src="/static/img/leichte-sprache.svg?v=' in header
    assert 'src="/static/img/gebaerdensprache.svg?v=' in header


@pytest.mark.parametrize("who,path", [
    ("partner", "/account"), ("partner", "/proposals/"), ("partner", "/notifications/"),
    ("admin", "/admin/"), ("admin", "/admin/pages"), ("admin", "/admin/feedback"),
    ("admin", "/admin/sign-language"), ("reviewer", "/staff/review/"),
])
def test_header_links_on_signed_in_pages(client, login, who, path):
    user = {"partner": lambda: f.user(email="p@firma.example"),
            "admin": lambda: f.staff("admin", email="a@zdmv.example"),
            "reviewer": lambda: f.staff("reviewer", email="r@zdmv.example")}[who]()
    login(user)
    response = client.get(path, follow_redirects=True)
    assert response.status_code == 200, path
    header = text(response).split('<main id="main"')[0]
    assert 'href="/leichte-sprache"' in header and 'href="/gebaerdensprache"' in header


def test_pictograms_are_served(client):
    for name in ("leichte-sprache", "gebaerdensprache"):
        response = client.get(f"/static/img/{name}.svg")
        assert response.status_code == 200 and b"<svg" in response.data


# ---------------------------------------------------------------- the DGS video


def test_admin_uploads_video_then_it_is_shown_with_transcript(app, client, admin,
                                                              storage_backend):
    response = _upload(client, MP4)
    assert response.status_code == 303
    video = db.session.execute(select(SignLanguageVideo)).scalar_one()
    assert (video.filename, video.content_type, video.size) == ("dgs.mp4", "video/mp4",
                                                                len(MP4))
    assert storage_backend.names() == [video.stored_name]
    assert storage_backend.read(video.stored_name) == MP4
    assert db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "sign_language.upload")).scalar_one().object_id == video.id

    visitor = app.test_client()
    body = text(visitor.get("/gebaerdensprache"))
    assert "wird gerade erstellt" not in body
    assert "<video" in body and " controls" in body and "autoplay" not in body
    assert 'src="/gebaerdensprache/video" type="video/mp4"' in body
    assert "Das Video als Text (Transkript)" in body
    assert "<strong>InnoLab</strong>" in body
    assert body.index("<video") < body.index("Transkript")
    served = visitor.get("/gebaerdensprache/video")
    assert served.status_code == 200 and served.mimetype == "video/mp4"
    assert served.data == MP4
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Length"] == str(len(MP4))
    assert served.headers["Accept-Ranges"] == "bytes"
    part = visitor.get("/gebaerdensprache/video", headers={"Range": "bytes=0-9"})
    assert part.status_code == 206 and part.data == MP4[:10]
    # a player seeks: a range in the middle, and the last bytes
    middle = visitor.get("/gebaerdensprache/video", headers={"Range": "bytes=1000-1099"})
    assert middle.status_code == 206 and middle.data == MP4[1000:1100]
    assert middle.headers["Content-Range"] == f"bytes 1000-1099/{len(MP4)}"
    tail = visitor.get("/gebaerdensprache/video", headers={"Range": "bytes=-16"})
    assert tail.status_code == 206 and tail.data == MP4[-16:]
    beyond = visitor.get("/gebaerdensprache/video",
                         headers={"Range": f"bytes={len(MP4) + 10}-"})
    assert beyond.status_code == 416
    again = visitor.get("/gebaerdensprache/video",
                        headers={"If-None-Match": served.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_new_video_replaces_the_old_one_and_transcript_alone_can_change(app, client, admin,
                                                                        storage_backend):
    _upload(client, MP4)
    old = db.session.execute(select(SignLanguageVideo)).scalar_one().stored_name
    assert _upload(client, WEBM, name="neu.webm").status_code == 303
    video = db.session.execute(select(SignLanguageVideo)).scalar_one()
    assert video.content_type == "video/webm" and video.stored_name != old
    assert storage_backend.names() == [video.stored_name]  # the old one's file is gone
    assert _upload(client, None, transcript="Neuer Text.").status_code == 303
    db.session.expire_all()
    video = db.session.execute(select(SignLanguageVideo)).scalar_one()
    assert video.transcript == "Neuer Text." and video.content_type == "video/webm"
    body = text(client.get("/admin/sign-language"))
    assert "neu.webm" in body


def test_admin_removes_the_video(app, client, admin, storage_backend):
    _upload(client, MP4)
    name = db.session.execute(select(SignLanguageVideo)).scalar_one().stored_name
    assert storage_backend.names() == [name]
    response = client.post("/admin/sign-language", data={"form": "delete"})
    assert response.status_code == 303
    assert db.session.execute(select(SignLanguageVideo)).first() is None
    assert storage_backend.names() == []
    assert "wird gerade erstellt" in text(client.get("/gebaerdensprache"))


@pytest.mark.parametrize("data,name,message", [
    (PDF, "video.mp4", "kein Video im Format MP4"),
    (MP4, "video.pdf", "Dieser Dateityp ist nicht erlaubt. Erlaubt sind: MP4, WebM."),
    (b"", "leer.mp4", "Die Datei ist leer."),
    (None, None, "Bitte wählen Sie eine Videodatei aus."),
])
def test_bad_video_is_refused_and_the_transcript_kept(app, client, admin, data, name, message):
    before = _files(app)
    response = _upload(client, data, name=name or "x.mp4", transcript="Mein Transkript")
    body = text(response)
    assert response.status_code == 422
    assert message in body and "Bitte prüfen Sie Ihre Eingaben" in body
    assert "Mein Transkript" in body
    assert db.session.execute(select(SignLanguageVideo)).first() is None
    assert _files(app) == before


def test_video_over_its_size_limit_is_refused(app, client, admin, monkeypatch):
    monkeypatch.setitem(app.config, "SIGN_LANGUAGE_VIDEO_MAX_BYTES", 1024)
    response = _upload(client, MP4)
    assert response.status_code == 422 and "größer als" in text(response)
    assert db.session.execute(select(SignLanguageVideo)).first() is None


def test_video_may_be_larger_than_the_limit_of_other_uploads(app, client, admin, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024)
    assert _upload(client, MP4).status_code == 303  # its own limit applies
    response = client.post("/barrierefreiheit/rueckmeldung", data={"description": "x" * 4096})
    assert response.status_code == 413  # every other form keeps the general one


def test_transcript_is_required(client, admin):
    response = _upload(client, MP4, transcript="")
    assert response.status_code == 422 and "Bitte füllen Sie dieses Feld aus." in text(response)


def test_only_admins_upload_videos(app, client, login):
    login(f.staff("coordinator", email="k@zdmv.example"))
    assert _upload(client, MP4).status_code in (403, 404)
    assert db.session.execute(select(SignLanguageVideo)).first() is None


def test_file_check_counts_the_video_as_known(app, client, admin, tmp_path, monkeypatch):
    # an upload folder of its own: other tests' files must not count as orphans here
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path))
    _upload(client, MP4)
    result = uploads.check_files()
    assert result.orphans == [] and result.ok
