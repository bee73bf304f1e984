"""robots.txt, security.txt, sitemap.xml, favicon and manifest: the small files of a public site."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree as ET

import pytest

from innolab.models._base import utcnow
from tests import factories as f

pytestmark = pytest.mark.usefixtures("app_ctx")

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
XHTML = "{http://www.w3.org/1999/xhtml}"


def test_robots_keeps_crawlers_out_of_accounts_and_staff_areas(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    lines = response.get_data(as_text=True).splitlines()
    for path in ("/admin/", "/staff/", "/account", "/proposals/", "/workspace/", "/login"):
        assert f"Disallow: {path}" in lines
    assert "Disallow: /challenges" not in lines  # the showcase stays findable
    assert "Sitemap: http://localhost/sitemap.xml" in lines


def test_security_txt_follows_rfc_9116(client, app):
    response = client.get("/.well-known/security.txt")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    fields = dict(line.split(": ", 1) for line in response.get_data(as_text=True).splitlines())
    assert fields["Contact"] == app.config["SECURITY_CONTACT"]
    expires = datetime.fromisoformat(fields["Expires"].replace("Z", "+00:00"))
    assert utcnow() < expires < datetime.now(UTC) + timedelta(days=366)  # at most a year
    assert fields["Canonical"] == "http://localhost/.well-known/security.txt"
    assert fields["Preferred-Languages"] == "de, en"


def test_sitemap_lists_every_public_page_in_both_languages_and_nothing_private(client):
    challenge = f.challenge(title="Öffentliche Herausforderung")
    draft_challenge = f.challenge(status="draft")
    pilot = f.proposal(status="running", publication_consent=True, published_at=utcnow())
    private = f.proposal(status="running", publication_consent=False)
    response = client.get("/sitemap.xml")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    root = ET.fromstring(response.get_data())
    locs = [u.findtext(f"{SM}loc") for u in root.findall(f"{SM}url")]
    for path in ("/", "/challenges", f"/challenges/{challenge.id}", f"/pilots/{pilot.id}",
                 "/pages/impressum", "/open-data"):
        assert f"http://localhost{path}?lang=de" in locs, path
        assert f"http://localhost{path}?lang=en" in locs, path
    assert not any(f"/challenges/{draft_challenge.id}?" in u for u in locs)
    assert not any(f"/pilots/{private.id}?" in u for u in locs)
    first = root.find(f"{SM}url")
    alternates = {link.get("hreflang"): link.get("href") for link in first.findall(f"{XHTML}link")}
    assert set(alternates) == {"de", "en"}


def test_a_link_may_name_its_language(client):
    assert '<html lang="en">' in client.get("/challenges?lang=en").get_data(as_text=True)
    assert '<html lang="de">' in client.get("/challenges?lang=de").get_data(as_text=True)
    assert '<html lang="de">' in client.get("/challenges?lang=xx").get_data(as_text=True)


def test_favicon_and_web_app_icons_are_served_and_linked(client):
    favicon = client.get("/favicon.ico")
    assert favicon.status_code == 200 and favicon.get_data()[:4] == b"\x00\x00\x01\x00"
    manifest = client.get("/manifest.webmanifest")
    assert manifest.mimetype == "application/manifest+json"
    icons = manifest.get_json()["icons"]
    assert {i["sizes"] for i in icons} == {"192x192", "512x512"}
    for icon in icons:
        image = client.get(icon["src"].replace("http://localhost", ""))
        assert image.status_code == 200 and image.get_data()[:8] == b"\x89PNG\r\n\x1a\n"
    home = client.get("/").get_data(as_text=True)
    assert 'rel="icon"' in home and 'rel="manifest"' in home and 'rel="apple-touch-icon"' in home
