"""robots.txt, /.well-known/security.txt (RFC 9116), sitemap.xml, favicon and web app manifest.

Every address is absolute and built from BASE_URL (innolab.links); all answers are public and
may be cached briefly.
"""
from __future__ import annotations

from datetime import timedelta
from xml.etree import ElementTree as ET

from flask import Response, current_app, jsonify, send_from_directory
from flask_babel import gettext as _
from sqlalchemy import select

from ..domain import showcase
from ..extensions import db
from ..i18n import LOCALES
from ..links import external_url
from ..models import PAGE_SLUGS, Challenge, Proposal
from ..models._base import utcnow
from . import bp

TEXT = "text/plain; charset=utf-8"
CACHE = "public, max-age=3600"
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
XHTML_NS = "http://www.w3.org/1999/xhtml"

# Areas a search engine has no business in: signing in, accounts, staff, workspaces, forms.
DISALLOWED = ("/account", "/admin/", "/staff/", "/proposals/", "/workspace/", "/notifications/",
              "/login", "/register", "/password/", "/confirm/", "/logout", "/language")


def _text(body: str) -> Response:
    response = Response(body, content_type=TEXT)
    response.headers["Cache-Control"] = CACHE
    return response


@bp.get("/robots.txt")
def robots():
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in DISALLOWED), "",
             f"Sitemap: {external_url('site.sitemap')}", ""]
    return _text("\n".join(lines))


@bp.get("/.well-known/security.txt")
def security_txt():
    expires = (utcnow() + timedelta(days=180)).replace(microsecond=0)
    contact = current_app.config["SECURITY_CONTACT"]
    lines = [
        f"Contact: {contact}",
        f"Expires: {expires.isoformat().replace('+00:00', 'Z')}",
        "Preferred-Languages: de, en",
        f"Canonical: {external_url('site.security_txt')}",
    ]
    if current_app.config.get("SECURITY_POLICY_URL"):
        lines.append(f"Policy: {current_app.config['SECURITY_POLICY_URL']}")
    return _text("\n".join(lines) + "\n")


def _public_addresses() -> list[tuple[str, dict]]:
    """(endpoint, arguments) of every public page: lists, footer pages, each published
    challenge, pilot, authority and organisation."""
    pages: list[tuple[str, dict]] = [
        ("showcase.home", {}), ("showcase.challenges", {}), ("showcase.pilots", {}),
        ("showcase.results", {}), ("showcase.authorities", {}), ("showcase.organisations", {}),
        ("api.docs", {}),
        *(("showcase.page", {"slug": slug}) for slug in PAGE_SLUGS)]
    challenges = db.session.execute(
        select(Challenge.id).where(showcase.public_challenge_clause()).order_by(Challenge.id))
    pages += [("showcase.challenge", {"challenge_id": cid}) for (cid,) in challenges]
    pilots = db.session.execute(
        select(Proposal.id).where(showcase.public_pilot_clause()).order_by(Proposal.id))
    pages += [("showcase.pilot", {"proposal_id": pid}) for (pid,) in pilots]
    pages += [("showcase.authority", {"authority_slug": row.authority.slug})
              for row in showcase.public_authorities()]
    pages += [("showcase.organisation", {"slug": org.slug})
              for org in db.session.execute(showcase.organisations_query()).scalars()]
    return [(e, a) for e, a in pages if e in current_app.view_functions]


@bp.get("/sitemap.xml")
def sitemap():
    """Every public page in each language (`?lang=`), with the other languages as
    alternates (hreflang), as search engines expect of a bilingual site."""
    ET.register_namespace("", SITEMAP_NS)
    ET.register_namespace("xhtml", XHTML_NS)
    urlset = ET.Element(f"{{{SITEMAP_NS}}}urlset")
    for endpoint, args in _public_addresses():
        by_lang = {lang: external_url(endpoint, **args, lang=lang) for lang in LOCALES}
        for url in by_lang.values():
            entry = ET.SubElement(urlset, f"{{{SITEMAP_NS}}}url")
            ET.SubElement(entry, f"{{{SITEMAP_NS}}}loc").text = url
            for other, href in by_lang.items():
                ET.SubElement(entry, f"{{{XHTML_NS}}}link", rel="alternate", hreflang=other,
                              href=href)
    body = ET.tostring(urlset, encoding="utf-8", xml_declaration=True)
    response = Response(body, content_type="application/xml; charset=utf-8")
    response.headers["Cache-Control"] = CACHE
    return response


@bp.get("/favicon.ico")
def favicon():
    return send_from_directory(current_app.static_folder or "", "img/favicon.ico",
                               mimetype="image/vnd.microsoft.icon", max_age=86400)


@bp.get("/manifest.webmanifest")
def manifest():
    response = jsonify({
        "name": _("InnoLab des ZDMV"), "short_name": "InnoLab",
        "start_url": "/", "display": "standalone", "lang": "de",
        "background_color": "#ffffff", "theme_color": "#263787",
        "icons": [{"src": external_url("static", filename=f"img/icon-{n}.png"),
                   "sizes": f"{n}x{n}", "type": "image/png"} for n in (192, 512)],
    })
    response.mimetype = "application/manifest+json"
    response.headers["Cache-Control"] = CACHE
    return response
