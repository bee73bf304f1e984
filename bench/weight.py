"""What a first visit weighs: the bytes a browser with an empty cache receives for a page.

Run by hand: `make bench-weight` (or `.venv/bin/python bench/weight.py`). It builds a fresh
SQLite database with the demo data (`innolab.demo.seed`, as `make demo`), serves the app with
werkzeug on a free port of 127.0.0.1 and loads each page in Debian's Chromium (Playwright) in
a new browser context, so nothing is cached. For every response it counts the body as nginx
would send it to a browser that accepts Brotli, as they all do (deploy/nginx/innolab.conf):
text (HTML, CSS, JavaScript, SVG, JSON) compressed with Brotli – the vendored files at quality
11, as `scripts/vendor.sh` writes them for brotli_static, the pages and our own files at
nginx's on-the-fly level 5 – and fonts and images as they are. Headers are not
counted. The figures go into docs/performance.md by hand; nothing here is asserted.

WEIGHT_WIDTH sets the window's width in CSS px (default 1280); WEIGHT_VERBOSE=1 lists every
response. `--lighthouse` (`make bench-weight ARGS=--lighthouse`) also runs Lighthouse
(the npm devDependency, 12.2.3) on each page against the same server with Debian's Chromium
headless: its mobile preset (a Moto G Power's screen, simulated slow 4G and 4× slower CPU),
performance only; it prints the score and the metrics it is made of.
"""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import brotli
from flask import url_for
from playwright.sync_api import sync_playwright
from sqlalchemy import select
from werkzeug.serving import make_server

from innolab import create_app, links
from innolab.demo import DEMO_PASSWORD, seed
from innolab.extensions import db
from innolab.models import Proposal

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update"]
TEXT_TYPES = ("text/", "application/javascript", "application/json", "image/svg+xml",
              "application/manifest+json", "application/xml")
WIDTH = int(os.environ.get("WEIGHT_WIDTH", "1280"))
VERBOSE = os.environ.get("WEIGHT_VERBOSE") == "1"
DEMO_PARTNER = "partner@innolab.example"


def serve(tmp: str):
    """The app with the demo data on a free port; returns (app, base url, server)."""
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/weight.sqlite",
        "SECRET_KEY": "bench-weight", "UPLOAD_FOLDER": tmp, "RATELIMIT_ENABLED": False,
        "SMTP_HOST": "", "SERVER_NAME": None, "TRUSTED_HOSTS": None, "PROXY_FIX": False,
        "SESSION_COOKIE_SECURE": False, "PAGE_CACHE_SECONDS": 0,
    })
    with app.app_context():
        db.create_all()
        with links.command_context(app):
            seed()
    for name in ("werkzeug", "innolab.access"):  # one line per request: not wanted here
        logging.getLogger(name).setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return app, f"http://127.0.0.1:{server.server_port}", server


def pages(app) -> list[tuple[str, str]]:
    with app.app_context():
        pilot = db.session.scalars(
            select(Proposal.id).where(Proposal.published_at.is_not(None)).order_by(Proposal.id)
        ).first()
    with app.test_request_context():
        return [
            ("Startseite", url_for("showcase.home")),
            ("Piloten", url_for("showcase.pilots")),
            ("ein Pilot", url_for("showcase.pilot", proposal_id=pilot)),
            ("Anmeldung", url_for("auth.login")),
            ("Vorschlag", url_for("proposals.new")),  # signed in as the demo partner
        ]


SIGNED_IN = {"Vorschlag"}


def session_cookies(browser, base: str) -> list[dict]:
    """Sign in as the demo partner through the login form; the cookies of that session."""
    context = browser.new_context(locale="de-DE")
    page = context.new_page()
    page.goto(base + "/login")
    page.get_by_label("E-Mail-Adresse").fill(DEMO_PARTNER)
    page.get_by_label("Passwort", exact=True).fill(DEMO_PASSWORD)
    page.locator("main").get_by_role("button", name="Anmelden").click()
    page.get_by_role("button", name="Abmelden").wait_for()
    cookies = context.cookies()
    context.close()
    return cookies


def sent_bytes(url: str, content_type: str, body: bytes) -> int:
    if any(content_type.startswith(t) for t in TEXT_TYPES):
        quality = 11 if urlsplit(url).path.startswith("/static/vendor/") else 5
        return len(brotli.compress(body, quality=quality))
    return len(body)


def kind(url: str, content_type: str) -> str:
    path = urlsplit(url).path
    if path.endswith((".woff2", ".woff", ".ttf")) or content_type.startswith("font/"):
        return "font"
    if content_type.startswith("text/css"):
        return "css"
    if "javascript" in content_type:
        return "js"
    if content_type.startswith("text/html"):
        return "html"
    return "other"


def load(browser, url: str, cookies: list[dict] | None = None
         ) -> list[tuple[str, str, int, int]]:
    """(url, kind, raw bytes, sent bytes) of every response of one cold load of `url` (with
    the session's `cookies`, if any)."""
    context = browser.new_context(viewport={"width": WIDTH, "height": 900}, locale="de-DE")
    if cookies:
        context.add_cookies(cookies)
    page = context.new_page()
    seen: list = []
    page.on("response", lambda response: seen.append(response))
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    page.evaluate("() => document.fonts.ready.then(() => true)")
    rows = []
    for response in seen:
        if response.status != 200 or response.url.startswith("data:"):
            continue
        body = response.body()
        content_type = (response.headers.get("content-type") or "").split(";")[0].strip()
        rows.append((response.url, kind(response.url, content_type), len(body),
                     sent_bytes(response.url, content_type, body)))
    context.close()
    return rows


LIGHTHOUSE = Path(__file__).resolve().parents[1] / "node_modules" / ".bin" / "lighthouse"
METRICS = (("first-contentful-paint", "FCP"), ("largest-contentful-paint", "LCP"),
           ("total-blocking-time", "TBT"), ("cumulative-layout-shift", "CLS"),
           ("speed-index", "SI"))


def lighthouse(url: str, cookies: list[dict] | None = None) -> str:
    """One Lighthouse run (mobile, performance) of `url`, with the session's `cookies` if
    any: the score and its metrics."""
    extra = []
    if cookies:
        cookie = "; ".join(f"{c['name']}={c['value']}" for c in cookies)
        extra.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
    out = subprocess.run(
        [str(LIGHTHOUSE), url, *extra, "--only-categories=performance", "--output=json",
         "--output-path=stdout", "--quiet", f"--chrome-path={CHROMIUM}",
         "--chrome-flags=--headless=new --no-sandbox --disable-gpu"],
        check=True, capture_output=True, text=True, timeout=180,
    )
    report = json.loads(out.stdout)
    score = round(report["categories"]["performance"]["score"] * 100)
    parts = [f"{short} {report['audits'][key]['displayValue']}" for key, short in METRICS]
    return f"{score:3d}   " + ", ".join(parts)


def main() -> None:
    tmp = tempfile.mkdtemp(prefix="innolab-weight-")
    app, base, server = serve(tmp)
    print(f"Erster Besuch, leerer Cache, Chromium {WIDTH} px breit; Bytes wie nginx sie sendet "
          "(Text Brotli: Fremdpakete Stufe 11, sonst 5; Schriften und Bilder wie sie sind), ohne "
          "Header")
    header = f"{'Seite':14} {'Anfr.':>5} {'HTML':>8} {'CSS':>8} {'JS':>8} {'Sonst':>8} " \
             f"{'Schrift':>8} {'ohne Schr.':>11} {'gesamt':>9}"
    print(header)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            cookies = session_cookies(browser, base)
            for name, path in pages(app):
                rows = load(browser, base + path, cookies if name in SIGNED_IN else None)
                by_kind: dict[str, int] = defaultdict(int)
                for _url, k, _raw, sent in rows:
                    by_kind[k] += sent
                fonts = by_kind["font"]
                total = sum(by_kind.values())
                kb = lambda n: f"{n / 1024:.1f}"  # noqa: E731
                print(f"{name:14} {len(rows):5} {kb(by_kind['html']):>8} {kb(by_kind['css']):>8} "
                      f"{kb(by_kind['js']):>8} {kb(by_kind['other']):>8} {kb(fonts):>8} "
                      f"{kb(total - fonts):>11} {kb(total):>9}")
                if VERBOSE:
                    for url, k, raw, sent in rows:
                        print(f"    {k:5} {raw / 1024:8.1f} -> {sent / 1024:7.1f}  "
                              f"{urlsplit(url).path}")
            browser.close()
        if "--lighthouse" in sys.argv[1:]:
            print("\nLighthouse 12.2.3, mobile (simulated slow 4G, 4× CPU), Leistung:")
            for name, path in pages(app):
                print(f"{name:14} "
                      f"{lighthouse(base + path, cookies if name in SIGNED_IN else None)}")
    finally:
        server.shutdown()
    print("(KB = 1024 Bytes)")


if __name__ == "__main__":
    main()
